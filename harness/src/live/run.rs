//! One live run of a scenario: the server command started and ready, a proxy port per
//! device, the driver's schedule in real time, then the server's state read black-box.

use super::backend::{Context, Live, ServerCommand};
use super::message::{ClockSpec, Request};
use super::process::{self, Spawn};
use super::proxy::Proxy;
use super::remote::{Broken, Remote, RemoteApp};
use crate::capability::Capabilities;
use crate::device::Handle;
use crate::fault::{ConditionChange, Fault};
use crate::history::{EventKind, History};
use crate::net::SERVER;
use crate::scenario::Scenario;
use crate::seed::derive;
use crate::sim::driver::Driver;
use crate::sim::world::Ground;
use crate::state::UserRecords;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// How long reading one user's records from the server may take.
const READ_SERVER: Duration = Duration::from_secs(60);
/// The most sync rounds a fresh device runs to read a user's records.
const READ_ROUNDS: usize = 20;

/// An implementation run live: the commands that start its server and its drivers
/// (`DRIVERS.md`), and what the server declares (a driver declares the client's in its
/// hello).
#[derive(Clone, Debug)]
pub struct Commands {
    /// Starts the server (`sh -c`), with the environment of `DRIVERS.md`.
    pub server: String,
    /// Starts one driver (`sh -c`).
    pub client: String,
    /// What the server declares; `None`: what the certification's `Server` declares (a
    /// Rust server run by its own `serve` command).
    pub server_capabilities: Option<crate::capability::ServerCapabilities>,
}

/// Whether `scenario` can run in real time; the reason when it cannot.
pub fn fits(scenario: &Scenario) -> Result<(), String> {
    for (_, fault) in &scenario.schedule {
        match fault {
            Fault::Skip(_) => return Err("it skips idle time, which a live run cannot".into()),
            Fault::ServerCrashAt(..) => {
                return Err("it crashes the server at a step of its own, which a server process does not report".into())
            }
            Fault::ServerStallAt(..) => {
                return Err("it stalls the server at a step of its own, which a server process does not report".into())
            }
            Fault::RefuseField(_) => {
                return Err("it changes the server's validation rules, which a server process takes from no one".into())
            }
            Fault::ServerClock(_) => {
                return Err("it steps the server's clock, and a live server reads its machine's own".into())
            }
            Fault::Condition(_, ConditionChange::Background(_)) => {
                return Err("it cuts sync rounds at a background budget, which needs the app in-process".into())
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs `scenario` live once with `seed`; `Err` says why the run decided nothing (a
/// process that misbehaved, a server that never started).
pub(crate) fn execute(
    scenario: &Scenario,
    commands: &Commands,
    capabilities: &Capabilities,
    seed: u64,
) -> Result<History, String> {
    fits(scenario)?;
    process::reap_at_interrupt();
    let setup = crate::sim::setup(scenario, capabilities, seed);
    let ground = Ground::new(&setup, "syncsim-live-");
    let origin = super::now();
    let origin_ms = crate::clock::machine_ms();
    let run = Rc::try_unwrap(ground.run).ok().expect("nothing holds a run before it starts");
    let run = Rc::new(run.in_real_time(origin));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    let addr = free_port()?;
    let mut server = ServerCommand::new(&commands.server, addr, &ground.server_env, ground.dir.path());
    server.start()?;
    local.block_on(&runtime, server.ready())?;
    let mut proxies = Vec::new();
    for (i, device) in ground.devices.iter().enumerate() {
        let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
        let (host, profile, seed) = (device.host.clone(), scenario.profile_of(i), derive(seed, &format!("proxy {i}")));
        let proxy = local.block_on(&runtime, Proxy::for_device(listen, addr, host, profile, seed, run.clone()));
        proxies.push(proxy.map_err(|e| format!("the proxy of {} could not listen: {e}", device.host))?);
    }
    let broken = Rc::new(Broken::default());
    let context = Rc::new(Context {
        client_cmd: commands.client.clone(),
        dir: ground.dir.path().to_owned(),
        run: run.clone(),
        broken: broken.clone(),
        origin_ms,
    });
    let live = Live::new(runtime, local, origin, context.clone(), server, proxies, ground.devices.clone());
    let rng = SmallRng::seed_from_u64(derive(seed, "driver"));
    let mut driver = Driver::new(scenario, live, run.clone(), ground.devices.clone(), rng);
    driver.faults_phase().and_then(|()| driver.final_phase())?;
    let live = driver.into_backend();
    let mut states = Vec::new();
    for user in scenario.run_users() {
        // Every device holds a token of every user of the run.
        let token = ground.devices[0].token_of(&user);
        let reader = Reader {
            context: &context,
            server: addr,
            user: &user,
            token: &token,
            app_version: capabilities.latest_app_version,
        };
        let records = live.block_on(async { tokio::time::timeout(READ_SERVER, reader.read()).await });
        let records = records
            .map_err(|_| format!("reading {user}'s records from the server took over {} s", READ_SERVER.as_secs()))?;
        states.push((user, records?));
    }
    drop(live);
    let mut history = run.history.borrow().clone();
    history.header.live = true;
    let end = history.events.last().map_or(Duration::ZERO, |e| Duration::from_millis(e.t_ms));
    for (user, records) in states {
        history.record(end, SERVER, EventKind::ServerState { user, records });
    }
    Ok(history)
}

/// What the implementation run by `commands` declares, over `base` (what its Rust types
/// declare): the server's declaration when the commands carry one, the client's from its
/// driver's hello. Also the client's name from the hello, when it gives one.
pub(crate) fn declared(commands: &Commands, base: Capabilities) -> Result<(Capabilities, Option<String>), String> {
    let mut capabilities = base;
    if let Some(server) = &commands.server_capabilities {
        capabilities.server = server.clone();
    }
    let hello = hello(commands)?;
    capabilities.client = hello.capabilities;
    capabilities.latest_app_version = hello.latest_app_version;
    Ok((capabilities, Some(hello.name).filter(|name| !name.is_empty())))
}

/// What the client's driver declares in its hello: a driver started and killed at once,
/// before a certification decides what applies.
fn hello(commands: &Commands) -> Result<super::remote::Hello, String> {
    process::reap_at_interrupt();
    let dir = tempfile::Builder::new()
        .prefix("syncsim-live-")
        .tempdir()
        .map_err(|e| format!("a temporary directory: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    let history = History::new("hello", 0, Vec::new(), std::collections::BTreeMap::new());
    let run = crate::shared::Run::new(history, 0, Default::default(), crate::Workload::idle(), Default::default());
    let run = Rc::new(run.in_real_time(super::now()));
    let label = format!("the driver `{}`", commands.client);
    let spawn = Spawn::driver(label, &commands.client, &crate::net::device(0), dir.path().join("hello.log"));
    let started = local.block_on(&runtime, Remote::start(spawn, None, run, Rc::default()));
    let (remote, hello) = started?;
    remote.kill();
    Ok(hello)
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<SocketAddr, String> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("no free port on loopback: {e}"))?;
    listener.local_addr().map_err(|e| format!("no free port on loopback: {e}"))
}

/// Reads one user's records black-box: a fresh device of the user, straight to the server,
/// syncing until a round is idle.
struct Reader<'a> {
    context: &'a Context,
    server: SocketAddr,
    user: &'a str,
    token: &'a str,
    app_version: u32,
}

impl Reader<'_> {
    async fn read(&self) -> Result<UserRecords, String> {
        let name = format!("reader-{}", self.user);
        let dir = self.context.dir.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let label = format!("the driver `{}` reading {}'s records from the server", self.context.client_cmd, self.user);
        let log = self.context.dir.join(format!("{name}.log"));
        let spawn = Spawn::driver(label, &self.context.client_cmd, &name, log);
        let broken = Rc::new(Broken::default());
        let (remote, _) = Remote::start(spawn, None, self.context.run.clone(), broken.clone()).await?;
        let clock = ClockSpec { offset_ms: 0, drift_ppm: 0, origin_ms: self.context.origin_ms };
        let open = |id| Request::Open {
            id,
            device: name.clone(),
            user: self.user.to_owned(),
            token: self.token.to_owned(),
            server: format!("http://{}", self.server),
            data_dir: dir.clone(),
            app_version: self.app_version,
            boot: 1,
            seed: 0,
            clock,
        };
        let reading = async {
            remote.open(open).await.map_err(|e| format!("{name} could not open: {e}"))?;
            let app = RemoteApp(remote.clone());
            for _ in 0..READ_ROUNDS {
                if app.sync().await.is_ok_and(|outcome| outcome.idle()) {
                    break;
                }
            }
            app.state().await.map(|state| state.records).map_err(|e| format!("{name} could not report: {e}"))
        };
        let watched = async {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(why) = broken.get() {
                    return Err(why);
                }
            }
        };
        let records = tokio::select! {
            records = reading => records,
            why = watched => why,
        };
        remote.kill();
        records
    }
}
