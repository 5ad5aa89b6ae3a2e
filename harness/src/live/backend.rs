//! The live backend: the server command and a driver process per device boot, each device
//! behind its port of the fault proxy, in real time. The driver (the run's schedule,
//! `crate::sim::driver`) acts on it as on turmoil.

use super::message::{ClockSpec, Request};
use super::process::{Process, Spawn};
use super::proxy::Proxy;
use super::remote::{Broken, Remote, RemoteApp};
use crate::device::{self, DeviceShared, Handle};
use crate::env::ServerEnv;
use crate::fault::Ways;
use crate::history::EventKind;
use crate::net::{device as host_name, Profile, Reach, SERVER};
use crate::shared::Run;
use crate::sim::backend::Backend;
use crate::state::DeviceState;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::task::{AbortHandle, LocalSet};

/// How long the driver lets the processes run between two looks at the schedule.
pub(crate) const TICK: Duration = Duration::from_millis(10);
/// How long a server may take to accept connections after it starts.
const SERVER_START: Duration = Duration::from_secs(30);

/// What every device task of a run shares.
pub(crate) struct Context {
    pub(crate) client_cmd: String,
    /// The run's directory: logs go here.
    pub(crate) dir: PathBuf,
    pub(crate) run: Rc<Run>,
    pub(crate) broken: Rc<Broken>,
    /// The machine's clock when the run started, in ms since the Unix epoch.
    pub(crate) origin_ms: i64,
}

/// The server command, its address and environment.
pub(crate) struct ServerCommand {
    pub(crate) command: String,
    pub(crate) addr: SocketAddr,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) log: PathBuf,
    pub(crate) process: Option<Process>,
}

impl ServerCommand {
    /// The environment of `DRIVERS.md` for `server_env` on `addr`'s port.
    pub(crate) fn new(command: &str, addr: SocketAddr, server_env: &ServerEnv, dir: &std::path::Path) -> Self {
        let users: Vec<String> = server_env.credentials.iter().map(|c| format!("{}:{}", c.user, c.token)).collect();
        let strategies = &server_env.strategies;
        let mut env = vec![
            ("SYNCSIM_PORT".to_owned(), addr.port().to_string()),
            ("SYNCSIM_DATA_DIR".to_owned(), server_env.data_dir.display().to_string()),
            ("SYNCSIM_USERS".to_owned(), users.join(",")),
            (
                "SYNCSIM_STRATEGIES".to_owned(),
                format!("project={},task={}", strategies.project.name(), strategies.task.name()),
            ),
            ("SYNCSIM_SEED".to_owned(), server_env.seed.to_string()),
        ];
        if let Some(horizon) = server_env.tombstone_horizon {
            env.push(("SYNCSIM_TOMBSTONE_HORIZON_MS".to_owned(), horizon.as_millis().to_string()));
        }
        let log = dir.join("server.log");
        ServerCommand { command: command.to_owned(), addr, env, log, process: None }
    }

    fn label(&self) -> String {
        format!("the server `{}`", self.command)
    }

    /// Starts it; it serves when it serves.
    pub(crate) fn start(&mut self) -> Result<(), String> {
        let spawn = Spawn {
            label: self.label(),
            command: &self.command,
            env: self.env.clone(),
            log: self.log.clone(),
            piped: false,
        };
        self.process = Some(spawn.start().map_err(|e| format!("{} could not start: {e}", self.label()))?);
        Ok(())
    }

    /// Waits until it accepts connections.
    pub(crate) async fn ready(&mut self) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + SERVER_START; // live: real time
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if let Some(why) = self.died() {
                return Err(why);
            }
            let late = tokio::time::Instant::now() >= deadline; // live: real time
            if late {
                return Err(format!(
                    "{} did not accept connections on {} within {} s",
                    self.label(),
                    self.addr,
                    SERVER_START.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Why it is gone, if it exited by itself.
    fn died(&mut self) -> Option<String> {
        let label = self.label();
        let process = self.process.as_mut()?;
        let status = process.exited()?;
        let tail = process.log_tail();
        Some(format!("{label} exited by itself ({status}); {} ends with:\n{tail}", process.log_path().display()))
    }

    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

/// A device whose driver runs.
struct Booted {
    task: AbortHandle,
    slot: Rc<Slot>,
}

impl Booted {
    /// Stops the device's software: the boot task and what it spawned (its driver runs on).
    fn stop(&self) {
        self.task.abort();
        self.slot.tasks.borrow_mut().drain(..).for_each(|task| task.abort());
    }
}

/// What a device's boot task makes, for the backend to kill.
#[derive(Default)]
struct Slot {
    remote: RefCell<Option<Rc<Remote>>>,
    /// The tasks the boot spawned (the user).
    tasks: RefCell<Vec<AbortHandle>>,
}

/// The live world of one run.
///
/// Fields drop in order: the proxies and the processes first, the tasks, the runtime last.
pub(crate) struct Live {
    proxies: Vec<Proxy>,
    booted: Vec<Option<Booted>>,
    server: ServerCommand,
    devices: Vec<Rc<DeviceShared>>,
    context: Rc<Context>,
    origin: Instant,
    local: LocalSet,
    runtime: Runtime,
}

impl Live {
    /// The world, with the server ready and every device's driver starting.
    pub(crate) fn new(
        runtime: Runtime,
        local: LocalSet,
        origin: Instant,
        context: Rc<Context>,
        server: ServerCommand,
        proxies: Vec<Proxy>,
        devices: Vec<Rc<DeviceShared>>,
    ) -> Self {
        let booted = devices.iter().map(|_| None).collect();
        let mut live = Live { proxies, booted, server, devices, context, origin, local, runtime };
        for i in 0..live.devices.len() {
            live.boot(i);
        }
        live
    }

    /// Runs `act` inside the run's runtime and task set (the proxy opens ports and spawns
    /// tasks).
    fn within<R>(&self, act: impl FnOnce() -> R) -> R {
        let _runtime = self.runtime.enter();
        let _local = self.local.enter();
        act()
    }

    /// Runs `future` with every task of the run going on meanwhile.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.local.block_on(&self.runtime, future)
    }

    fn boot(&mut self, i: usize) {
        let slot = Rc::new(Slot::default());
        let addr = self.proxies[i].local_addr();
        let task = spawn_on(&self.local, boot(self.devices[i].clone(), self.context.clone(), addr, slot.clone()));
        self.booted[i] = Some(Booted { task, slot });
    }

    fn remote(&self, i: usize) -> Option<Rc<Remote>> {
        self.booted[i].as_ref().and_then(|b| b.slot.remote.borrow().clone())
    }
}

fn spawn_on<F: std::future::Future<Output = ()> + 'static>(local: &LocalSet, future: F) -> AbortHandle {
    local.spawn_local(future).abort_handle()
}

/// A device's boot: its driver started, told to open the app, then the device's software
/// (the user, the OS's syncs) on it.
async fn boot(device: Rc<DeviceShared>, context: Rc<Context>, proxy: SocketAddr, slot: Rc<Slot>) {
    device::boot(&device);
    let host = device.host.clone();
    let label = format!("{host}'s driver `{}`", context.client_cmd);
    let spawn = Spawn::driver(label, &context.client_cmd, &host, context.dir.join(format!("{host}.log")));
    let started = Remote::start(spawn, Some(device.clone()), context.run.clone(), context.broken.clone()).await;
    let remote = match started {
        Ok((remote, _)) => remote,
        Err(why) => {
            context.broken.set(why);
            return std::future::pending().await;
        }
    };
    *slot.remote.borrow_mut() = Some(remote.clone());
    let env = device.env();
    let clock = clock_spec(&device, context.origin_ms);
    let opened = remote
        .open(|id| Request::Open {
            id,
            device: host.clone(),
            user: env.user,
            token: env.token,
            server: format!("http://{proxy}"),
            data_dir: env.data_dir,
            app_version: env.app_version,
            boot: env.boot,
            seed: env.seed,
            clock,
        })
        .await;
    if let Err(error) = opened {
        context.run.record(&host, EventKind::OpenFailed { error });
        return std::future::pending().await;
    }
    device::opened(Rc::new(RemoteApp(remote)), device, context.run.clone(), Some(&slot.tasks)).await
}

/// A device's clock as its driver is told it.
fn clock_spec(device: &DeviceShared, origin_ms: i64) -> ClockSpec {
    let (offset_ms, drift_ppm) = device.clock.parts();
    ClockSpec { offset_ms, drift_ppm, origin_ms }
}

impl Backend for Live {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn since_epoch(&self) -> Duration {
        Duration::from_millis(self.context.origin_ms as u64) + self.origin.elapsed()
    }

    fn step(&mut self) -> Result<(), String> {
        self.block_on(async { tokio::time::sleep(TICK).await });
        if let Some(why) = self.server.died() {
            self.context.broken.set(why);
        }
        self.context.broken.get().map_or(Ok(()), Err)
    }

    fn is_running(&mut self, host: &str) -> bool {
        if host == SERVER {
            return self.server.process.is_some();
        }
        self.devices.iter().position(|d| d.host == host).is_some_and(|i| self.booted[i].is_some())
    }

    fn crash(&mut self, host: &str) {
        if host == SERVER {
            return self.server.kill();
        }
        let Some(i) = self.devices.iter().position(|d| d.host == host) else { return };
        if let Some(booted) = self.booted[i].take() {
            if let Some(remote) = booted.slot.remote.borrow_mut().take() {
                remote.kill();
            }
            booted.stop();
        }
    }

    fn bounce(&mut self, host: &str) {
        self.crash(host);
        if host == SERVER {
            if let Err(why) = self.server.start() {
                self.context.broken.set(why);
            }
            return;
        }
        if let Some(i) = self.devices.iter().position(|d| d.host == host) {
            self.boot(i);
        }
    }

    fn partition(&mut self, device: usize, ways: Ways) {
        self.within(|| self.proxies[device].partition(ways));
    }

    fn repair(&mut self, device: usize, ways: Ways) {
        self.within(|| self.proxies[device].repair(ways));
    }

    fn hold(&mut self, device: usize) {
        self.within(|| self.proxies[device].hold());
    }

    fn release(&mut self, device: usize) {
        self.within(|| self.proxies[device].release());
    }

    fn set_profile(&mut self, device: usize, profile: Profile, _: Reach) {
        self.within(|| self.proxies[device].set_profile(profile));
    }

    fn clock_changed(&mut self, device: usize) {
        if let Some(remote) = self.remote(device) {
            let clock = clock_spec(&self.devices[device], self.context.origin_ms);
            spawn_on(&self.local, async move { remote.clock(clock).await });
        }
    }

    fn skip(&mut self, _: Duration) {
        panic!("a skip cannot happen in real time: live runs leave out the scenarios that skip (live::fits)");
    }

    fn server_clock(&mut self) -> crate::clock::DeviceClock {
        panic!("a live server reads its machine's clock: live runs leave out the scenarios that step it (live::fits)");
    }

    /// Live, the app goes on while its state is asked for, so the device's software stops
    /// first: at the end of the operation and the round under way (at most
    /// [`super::remote::QUICK`]), nothing new starts. The driver asks only before an upgrade,
    /// which kills the device next.
    fn probe(&mut self, device: usize) -> Option<DeviceState> {
        let remote = self.remote(device)?;
        let shared = self.devices[device].clone();
        let settled = async move {
            while shared.round.get().is_some() || shared.open_op.get().is_some() {
                tokio::time::sleep(TICK).await;
            }
        };
        let _ = self.block_on(async { tokio::time::timeout(super::remote::QUICK, settled).await });
        if let Some(booted) = &self.booted[device] {
            booted.stop();
        }
        let state = async move { RemoteApp(remote).state().await.ok() };
        self.block_on(async { tokio::time::timeout(super::remote::QUICK, state).await }).ok().flatten()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        for i in 0..self.devices.len() {
            self.crash(&host_name(i));
        }
        self.server.kill();
    }
}
