//! A run's world before its first step: its data directory, the history it writes, the
//! state its hosts share, its devices, the server's environment, and the simulation with
//! the server host. The same for a scenario's run and for a timing rig.

use super::EPOCH_SECS;
use crate::clock::DeviceClock;
use crate::device::DeviceShared;
use crate::env::{Credential, ServerEnv};
use crate::history::{DeviceInfo, History};
use crate::implementation::Server;
use crate::net::{device as host_name, Link, Paths, Profile, SERVER};
use crate::policy::SyncPolicy;
use crate::seed::derive;
use crate::serve;
use crate::shared::Run;
use crate::workload::Workload;
use protocol::Strategies;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};
use tempfile::TempDir;
use tracing::Instrument;

/// One device of a world: its user, network, clock and app.
pub(crate) struct DeviceSetup {
    pub(crate) user: String,
    pub(crate) profile: Profile,
    pub(crate) clock: DeviceClock,
    pub(crate) app_version: u32,
}

/// What a world is made of.
pub(crate) struct Setup {
    /// The run's name in its history.
    pub(crate) name: String,
    pub(crate) seed: u64,
    pub(crate) devices: Vec<DeviceSetup>,
    /// Every user of the run (each device can log in as any of them).
    pub(crate) users: Vec<String>,
    pub(crate) strategies: Strategies,
    pub(crate) tombstone_horizon: Option<Duration>,
    /// The client shows the writes a delete from elsewhere overtook
    /// ([`crate::ClientCapabilities::overtaken_writes`]), for the history's header.
    pub(crate) overtaken_writes: bool,
    /// The server's push and pull paths, for HTTP faults and the history's header.
    pub(crate) paths: Paths,
    pub(crate) sync: SyncPolicy,
    pub(crate) workload: Workload,
    pub(crate) tick: Duration,
    /// How much timeline time the simulation may take.
    pub(crate) length: Duration,
}

/// What a run's world is made of, whatever runs it: its data, history and devices.
pub(crate) struct Ground {
    /// Every host's data; removed when the world is dropped.
    pub(crate) dir: TempDir,
    pub(crate) run: Rc<Run>,
    pub(crate) devices: Vec<Rc<DeviceShared>>,
    pub(crate) server_env: ServerEnv,
}

impl Ground {
    /// Lays out `setup`'s world under a new temporary directory named `prefix...`.
    pub(crate) fn new(setup: &Setup, prefix: &str) -> Self {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("a temporary directory for the run's data");
        let infos: Vec<DeviceInfo> = setup
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| DeviceInfo { host: host_name(i), user: d.user.clone() })
            .collect();
        let declared = [("project", setup.strategies.project), ("task", setup.strategies.task)];
        let strategies = declared.into_iter().map(|(e, s)| (e.to_owned(), s.name().to_owned())).collect();
        let mut history = History::new(&setup.name, setup.seed, infos.clone(), strategies);
        history.header.push_path = setup.paths.push.map(str::to_owned);
        history.header.overtaken_writes_surfaced = setup.overtaken_writes;
        let run = Rc::new(Run::new(history, setup.seed, setup.sync, setup.workload.clone(), setup.paths));
        let devices: Vec<Rc<DeviceShared>> = setup
            .devices
            .iter()
            .zip(&infos)
            .enumerate()
            .map(|(i, (device, info))| {
                let link = Link::new(device.profile, derive(setup.seed, &format!("link {i}")), setup.tick);
                let clock = device.clock.clone();
                let shared = DeviceShared::new(i, info, dir.path(), clock, link, device.app_version, setup.seed);
                Rc::new(shared)
            })
            .collect();
        let mut server_env = server_env(
            dir.path(),
            &devices,
            &setup.users,
            setup.strategies.clone(),
            setup.tombstone_horizon,
            setup.seed,
        );
        server_env.steps = crate::env::ServerSteps::new(run.server_arm.clone());
        server_env.rules = run.server_rules.clone();
        Ground { dir, run, devices, server_env }
    }
}

/// A run's world, set up.
pub(crate) struct World<'a> {
    /// Every host's data; removed when the world is dropped.
    pub(crate) dir: TempDir,
    pub(crate) run: Rc<Run>,
    pub(crate) devices: Vec<Rc<DeviceShared>>,
    pub(crate) server_env: ServerEnv,
    /// The simulation, with the server host; devices are added by the caller.
    pub(crate) sim: turmoil::Sim<'a>,
}

impl World<'_> {
    /// Sets up `setup`'s world with `server` running on its host.
    pub(crate) fn new<S: Server>(setup: Setup, server: &S) -> Self {
        let Ground { dir, run, devices, server_env } = Ground::new(&setup, "syncsim-");
        let mut sim = simulation(setup.seed, setup.tick, setup.length);
        host_server(&mut sim, server, &server_env, &run, &devices);
        World { dir, run, devices, server_env, sim }
    }
}

/// A turmoil simulation with the seed and epoch set, for `duration` of timeline time and
/// ten minutes more: the links pace every byte, so turmoil adds no latency of its own.
fn simulation<'a>(seed: u64, tick: Duration, duration: Duration) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .tick_duration(tick)
        .simulation_duration(duration + Duration::from_secs(600))
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(4096)
        .build()
}

/// The server's environment: its data directory under `dir` and every device's credential.
fn server_env(
    dir: &std::path::Path,
    devices: &[Rc<DeviceShared>],
    users: &[String],
    strategies: Strategies,
    tombstone_horizon: Option<Duration>,
    seed: u64,
) -> ServerEnv {
    let env = ServerEnv {
        data_dir: dir.join(SERVER),
        credentials: devices
            .iter()
            .flat_map(|d| users.iter().map(|user| Credential { user: user.clone(), token: d.token_of(user) }))
            .collect(),
        strategies,
        tombstone_horizon,
        clock: crate::clock::ServerClock::default(),
        seed: derive(seed, SERVER),
        steps: crate::env::ServerSteps::default(),
        rules: crate::env::ServerRules::default(),
    };
    std::fs::create_dir_all(&env.data_dir).expect("the server's data directory");
    env
}

/// Adds the server host: `server`'s router behind the harness's accept loop, each
/// connection paced by its device's link.
fn host_server<S: Server>(
    sim: &mut turmoil::Sim<'_>,
    server: &S,
    env: &ServerEnv,
    run: &Rc<Run>,
    devices: &[Rc<DeviceShared>],
) {
    let links: Rc<BTreeMap<String, Rc<crate::net::Link>>> =
        Rc::new(devices.iter().map(|d| (d.host.clone(), d.link.clone())).collect());
    let (server, env, run) = (server.clone(), env.clone(), run.clone());
    sim.host(SERVER, move || {
        let (server, env, run, links) = (server.clone(), env.clone(), run.clone(), links.clone());
        let span = tracing::info_span!("host", name = SERVER);
        async move {
            serve::main(server, env, run, links).await;
            Ok(())
        }
        .instrument(span)
    });
}
