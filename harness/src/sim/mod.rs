//! The simulation of one run: turmoil with the seed and epoch set, the server and device
//! hosts, the driver loop that applies the fault schedule, and the final phase.
//!
//! Time is timeline time throughout (see [`crate::clock`]): turmoil's stepped time plus the
//! time skipped. The history, the schedule, the fault phase's length and the final phase's
//! bound all count it; only turmoil's own step and tokio's timers do not.
//!
//! Modules: `world` (a run's world set up: devices, server, hosts; also the rigs'),
//! `driver` (the phases and the schedule), and the faults by group: `network`,
//! `lifecycle` (kills, restarts, upgrades), `device_state` (clocks and OS conditions).

pub(crate) mod backend;
mod device_state;
pub(crate) mod driver;
mod lifecycle;
mod network;
pub(crate) mod world;

use crate::capability::Capabilities;
use crate::clock::{DeviceClock, Skips};
use crate::device;
use crate::history::{EventKind, History};
use crate::implementation::{Client, Server};
use crate::net::{Paths, SERVER};
use crate::scenario::Scenario;
use crate::seed::derive;
use backend::Simulated;
use driver::Driver;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::rc::Rc;
use std::time::Duration;
use tracing::Instrument;
use world::{DeviceSetup, Setup, World};

/// The simulation's wall-clock start: 2023-11-14T22:13:20Z. Fixed, so runs repeat.
pub const EPOCH_SECS: u64 = 1_700_000_000;

pub use crate::net::user;

/// What `scenario`'s run with `seed` is made of, on an implementation that declares
/// `capabilities`. Panics when the scenario does not apply to it.
pub(crate) fn setup(scenario: &Scenario, capabilities: &Capabilities, seed: u64) -> Setup {
    if let Err(reason) = scenario.applies_to(capabilities) {
        panic!(
            "scenario {} does not apply to this implementation: {reason}. Run only the scenarios that apply \
             (Scenario::applies_to), or certify with syncsim::certify, which reports it not applicable",
            scenario.name
        );
    }
    let latest = capabilities.latest_app_version;
    scenario.check_app_versions(latest);
    let declared = scenario.strategies_for(capabilities);
    let devices = (0..scenario.devices).map(|i| DeviceSetup {
        user: user(i % scenario.users),
        profile: scenario.profile_of(i),
        clock: DeviceClock::with_offset(scenario.clock_offsets.get(&i).copied().unwrap_or(0)),
        app_version: scenario.app_version_of(i, latest),
    });
    Setup {
        name: scenario.name.clone(),
        seed,
        devices: devices.collect(),
        users: scenario.run_users(),
        strategies: declared,
        tombstone_horizon: scenario.tombstone_horizon,
        overtaken_writes: capabilities.client.overtaken_writes,
        paths: Paths { push: capabilities.server.push_path, pull: capabilities.server.pull_path },
        sync: scenario.sync,
        workload: scenario.workload.clone().within(capabilities),
        tick: scenario.tick,
        length: scenario.duration + scenario.converge_within,
    }
}

/// Runs `scenario` once with `seed` and returns its history.
pub(crate) fn execute<C: Client, S: Server>(scenario: &Scenario, client: &C, server: &S, seed: u64) -> History {
    let setup = setup(scenario, &Capabilities::of(client, server), seed);
    let World { dir: _dir, run, devices, server_env, mut sim } = World::new(setup, server);
    for shared in &devices {
        let (client, shared, run) = (client.clone(), shared.clone(), run.clone());
        sim.host(shared.host.clone(), move || {
            let (client, shared, run) = (client.clone(), shared.clone(), run.clone());
            let span = tracing::info_span!("host", name = %shared.host);
            async move {
                device::main(client, shared, run).await;
                Ok(())
            }
            .instrument(span)
        });
    }
    let backend = Simulated { sim, devices: devices.clone(), skips: Skips::enter() };
    let rng = SmallRng::seed_from_u64(derive(seed, "driver"));
    let mut driver = Driver::new(scenario, backend, run.clone(), devices, rng);
    if let Err(why) = driver.faults_phase().and_then(|()| driver.final_phase()) {
        unreachable!("the simulation ends a run only by panicking, not with: {why}");
    }
    drop(driver);
    let states = server.state(&server_env);
    let mut history =
        Rc::try_unwrap(run).ok().expect("every host is gone once the simulation is dropped").history.into_inner();
    let end = history.events.last().map_or(Duration::ZERO, |e| Duration::from_millis(e.t_ms));
    match states {
        Ok(state) => {
            for name in scenario.run_users() {
                let records = state.users.get(&name).cloned().unwrap_or_default();
                history.record(end, SERVER, EventKind::ServerState { user: name, records });
            }
        }
        Err(e) => history.record(end, SERVER, EventKind::OpenFailed { error: format!("server state: {e}") }),
    }
    history
}
