//! The simulation of one run: turmoil with the seed and epoch set, the server and device
//! hosts, the driver loop that applies the fault schedule, and the final phase.
//!
//! Time is timeline time throughout (see [`crate::clock`]): turmoil's stepped time plus the
//! time skipped. The history, the schedule, the fault phase's length and the final phase's
//! bound all count it; only turmoil's own step and tokio's timers do not.

use crate::capability::Capabilities;
use crate::clock::Skips;
use crate::device::{self, DeviceShared};
use crate::env::{Condition, Credential, ServerEnv};
use crate::fault::{ClockChange, ConditionChange, Fault, Host, Ways};
use crate::history::{DeviceInfo, EventKind, History, KillCause, HARNESS};
use crate::implementation::{Client, Server};
use crate::net::{device as host_name, Link, Paths, Profile, Reach, SERVER};
use crate::scenario::Scenario;
use crate::seed::derive;
use crate::serve;
use crate::shared::{Phase, Run};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};
use tracing::Instrument;

/// The simulation's wall-clock start: 2023-11-14T22:13:20Z. Fixed, so runs repeat.
pub const EPOCH_SECS: u64 = 1_700_000_000;

/// Users of a scenario, in order; more than these are named `user8`, `user9`, ...
/// How long an upgraded app is down before it starts again (the store installs it).
const UPGRADE_DOWNTIME: Duration = Duration::from_secs(1);

const USERS: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

/// The name of user `index`.
pub fn user(index: usize) -> String {
    USERS.get(index).map_or_else(|| format!("user{index}"), |u| (*u).to_owned())
}

/// A random-kill nemesis on one device.
struct Nemesis {
    device: usize,
    mean: Duration,
    downtime: Duration,
    next: Duration,
}

struct Driver<'a> {
    scenario: &'a Scenario,
    sim: turmoil::Sim<'a>,
    run: Rc<Run>,
    devices: Vec<Rc<DeviceShared>>,
    rng: SmallRng,
    restarts: Vec<(Duration, Host)>,
    nemeses: Vec<Nemesis>,
    /// Declared after `sim`, so that hosts are gone before the run's timeline ends.
    skips: Skips,
}

/// A turmoil simulation with the seed and epoch set, for `duration` of timeline time and
/// ten minutes more: the links pace every byte, so turmoil adds no latency of its own.
pub(crate) fn simulation<'a>(seed: u64, tick: Duration, duration: Duration) -> turmoil::Sim<'a> {
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
pub(crate) fn server_env(
    dir: &std::path::Path,
    devices: &[Rc<DeviceShared>],
    strategies: protocol::Strategies,
    tombstone_horizon: Option<Duration>,
    seed: u64,
) -> ServerEnv {
    let env = ServerEnv {
        data_dir: dir.join(SERVER),
        credentials: devices.iter().map(|d| Credential { user: d.user.clone(), token: d.token.clone() }).collect(),
        strategies,
        tombstone_horizon,
        clock: crate::clock::SimClock,
        seed: derive(seed, SERVER),
    };
    std::fs::create_dir_all(&env.data_dir).expect("the server's data directory");
    env
}

/// Adds the server host: `server`'s router behind the harness's accept loop, each
/// connection paced by its device's link.
pub(crate) fn host_server<S: Server>(
    sim: &mut turmoil::Sim<'_>,
    server: &S,
    env: &ServerEnv,
    run: &Rc<Run>,
    devices: &[Rc<DeviceShared>],
) {
    let links: Rc<BTreeMap<String, Rc<Link>>> =
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

/// Runs `scenario` once with `seed` and returns its history.
pub(crate) fn execute<C: Client, S: Server>(scenario: &Scenario, client: &C, server: &S, seed: u64) -> History {
    let capabilities = Capabilities::of(client, server);
    if let Err(reason) = scenario.applies_to(&capabilities) {
        panic!(
            "scenario {} does not apply to this implementation: {reason}. Run only the scenarios that apply \
             (Scenario::applies_to), or certify with syncsim::certify, which reports it not applicable",
            scenario.name
        );
    }
    let latest = capabilities.latest_app_version;
    scenario.check_app_versions(latest);
    let dir = tempfile::Builder::new().prefix("syncsim-").tempdir().expect("a temporary directory for the run's data");
    let infos: Vec<DeviceInfo> =
        (0..scenario.devices).map(|i| DeviceInfo { host: host_name(i), user: user(i % scenario.users) }).collect();
    let declared = scenario.strategies_for(&capabilities);
    let strategies = [("project", declared.project), ("task", declared.task)]
        .into_iter()
        .map(|(e, s)| (e.to_owned(), s.name().to_owned()))
        .collect();
    let mut history = History::new(&scenario.name, seed, infos.clone(), strategies);
    history.header.push_path = capabilities.server.push_path.map(str::to_owned);
    let paths = Paths { push: capabilities.server.push_path, pull: capabilities.server.pull_path };
    let workload = scenario.workload.clone().within(&capabilities);
    let run = Rc::new(Run::new(history, seed, scenario.sync, workload, paths));
    let devices: Vec<Rc<DeviceShared>> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let clock = crate::clock::DeviceClock::with_offset(scenario.clock_offsets.get(&i).copied().unwrap_or(0));
            let link = Link::new(scenario.profile_of(i), derive(seed, &format!("link {i}")), scenario.tick);
            Rc::new(DeviceShared::new(i, info, dir.path(), clock, link, scenario.app_version_of(i, latest), seed))
        })
        .collect();
    let server_env = server_env(dir.path(), &devices, declared, scenario.tombstone_horizon, seed);
    let mut sim = simulation(seed, scenario.tick, scenario.duration + scenario.converge_within);
    host_server(&mut sim, server, &server_env, &run, &devices);
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
    let mut driver = Driver {
        scenario,
        sim,
        run: run.clone(),
        devices,
        rng: SmallRng::seed_from_u64(derive(seed, "driver")),
        restarts: Vec::new(),
        nemeses: Vec::new(),
        skips: Skips::enter(),
    };
    driver.faults_phase();
    driver.final_phase();
    drop(driver);
    let states = server.state(&server_env);
    let mut history =
        Rc::try_unwrap(run).ok().expect("every host is gone once the simulation is dropped").history.into_inner();
    let end = history.events.last().map_or(Duration::ZERO, |e| Duration::from_millis(e.t_ms));
    match states {
        Ok(state) => {
            for u in 0..scenario.users {
                let name = user(u);
                let records = state.users.get(&name).cloned().unwrap_or_default();
                history.record(end, SERVER, EventKind::ServerState { user: name, records });
            }
        }
        Err(e) => history.record(end, SERVER, EventKind::OpenFailed { error: format!("server state: {e}") }),
    }
    history
}

impl Driver<'_> {
    /// Timeline time: turmoil's stepped time plus the time skipped.
    fn now(&self) -> Duration {
        self.sim.elapsed() + self.skips.total()
    }

    /// The simulation's wall clock, since the Unix epoch.
    fn since_epoch(&self) -> Duration {
        self.sim.since_epoch() + self.skips.total()
    }

    fn step(&mut self) {
        self.run.driver_now.set(self.now());
        if let Err(e) = self.sim.step() {
            panic!("the simulation stopped: {e}; this is a harness bug or a host that returned an error");
        }
        self.run.driver_now.set(self.now());
    }

    fn note(&self, fault: &Fault) {
        self.run.record(HARNESS, EventKind::fault(fault));
    }

    fn faults_phase(&mut self) {
        for i in 0..self.devices.len() {
            self.set_profile_from(i, self.scenario.profile_of(i), Reach::Up);
        }
        let schedule = self.scenario.schedule.clone();
        let mut next = 0;
        while self.now() < self.scenario.duration {
            self.run.driver_now.set(self.now());
            while next < schedule.len() && schedule[next].0 <= self.now() {
                self.apply(&schedule[next].1);
                next += 1;
            }
            self.kill_where_requested();
            self.kill_at_random();
            self.restart_due();
            self.step();
        }
    }

    fn final_phase(&mut self) {
        let start = self.now();
        self.run.driver_now.set(start);
        self.run.phase.set(Phase::Final);
        self.run.record(HARNESS, EventKind::FinalPhase);
        self.run.edge.clear();
        self.nemeses.clear();
        self.restarts.clear();
        for i in 0..self.devices.len() {
            let d = &self.devices[i];
            d.kill_at.set(None);
            d.kill_requested.set(None);
            d.reset_condition();
            self.sim.repair(host_name(i), SERVER);
            self.sim.release(host_name(i), SERVER);
            let base = self.scenario.profile_of(i);
            let profile = if base.reach == Reach::Up { base } else { Profile::SLOW_4G };
            self.set_profile(i, profile);
        }
        if !self.sim.is_host_running(SERVER) {
            self.restart(Host::Server);
        }
        for i in 0..self.devices.len() {
            self.devices[i].down_by_schedule.set(false);
            self.kill(i, KillCause::FinalPhase);
            self.restart(Host::Device(i));
        }
        self.run.last_change.set(start);
        let bound = self.scenario.converge_within;
        loop {
            for _ in 0..100 {
                self.step();
            }
            let last_change = self.run.last_change.get();
            if self.devices.iter().all(|d| d.idle_since.get().is_some_and(|t| t >= last_change)) {
                let after_ms = (self.now() - start).as_millis() as u64;
                self.run.record(HARNESS, EventKind::Converged { after_ms });
                break;
            }
            if self.now() - start > bound {
                self.run.record(HARNESS, EventKind::NotConverged { bound_ms: bound.as_millis() as u64 });
                break;
            }
        }
        self.run.phase.set(Phase::Snapshot);
        let deadline = self.now() + Duration::from_secs(120);
        while self.now() < deadline && !self.devices.iter().all(|d| d.snapshot_taken.get()) {
            self.step();
        }
    }

    /// Applies one scheduled fault.
    fn apply(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Crash(Host::Device(i)) => {
                // Down until the schedule bounces it: no pending restart brings it back.
                self.restarts.retain(|(_, h)| *h != Host::Device(*i));
                self.devices[*i].down_by_schedule.set(true);
                self.kill(*i, KillCause::Scheduled);
                return;
            }
            Fault::Crash(Host::Server) => {
                if self.sim.is_host_running(SERVER) {
                    self.run.record(SERVER, EventKind::Kill { cause: KillCause::Scheduled, step: None });
                    self.sim.crash(SERVER);
                }
                return;
            }
            Fault::Bounce(host) => {
                if let Host::Device(i) = host {
                    self.devices[*i].down_by_schedule.set(false);
                    self.kill(*i, KillCause::Scheduled);
                } else if self.sim.is_host_running(SERVER) {
                    self.run.record(SERVER, EventKind::Kill { cause: KillCause::Scheduled, step: None });
                }
                return self.restart(*host);
            }
            _ => {}
        }
        self.note(fault);
        match fault {
            Fault::Partition(target, ways) => {
                for i in target.indexes(count) {
                    match ways {
                        Ways::Both => self.sim.partition(host_name(i), SERVER),
                        Ways::ToServer => self.sim.partition_oneway(host_name(i), SERVER),
                        Ways::FromServer => self.sim.partition_oneway(SERVER, host_name(i)),
                    }
                }
            }
            Fault::Repair(target, ways) => {
                for i in target.indexes(count) {
                    match ways {
                        Ways::Both => self.sim.repair(host_name(i), SERVER),
                        Ways::ToServer => self.sim.repair_oneway(host_name(i), SERVER),
                        Ways::FromServer => self.sim.repair_oneway(SERVER, host_name(i)),
                    }
                }
            }
            Fault::Hold(target) => target.indexes(count).into_iter().for_each(|i| self.sim.hold(host_name(i), SERVER)),
            Fault::Release(target) => {
                target.indexes(count).into_iter().for_each(|i| self.sim.release(host_name(i), SERVER))
            }
            Fault::Profile(target, profile) => {
                target.indexes(count).into_iter().for_each(|i| self.set_profile(i, *profile))
            }
            Fault::KillAt(target, step, downtime) => {
                target.indexes(count).into_iter().for_each(|i| self.devices[i].kill_at.set(Some((*step, *downtime))))
            }
            Fault::RandomKills(target, mean, downtime) => {
                for i in target.indexes(count) {
                    let next = self.now() + self.exponential(*mean);
                    self.nemeses.push(Nemesis { device: i, mean: *mean, downtime: *downtime, next });
                }
            }
            Fault::Http(fault, route, permille) => self.run.edge.set(*fault, *route, *permille),
            Fault::HttpCalm => self.run.edge.clear(),
            Fault::Clock(target, change) => {
                for i in target.indexes(count) {
                    let clock = &self.devices[i].clock;
                    match change {
                        ClockChange::Jump(ms) => clock.jump(*ms),
                        ClockChange::Drift(ppm) => clock.set_drift(self.now(), *ppm),
                        ClockChange::Set(ms) => clock.set_at(self.now(), self.since_epoch(), *ms),
                    }
                }
            }
            Fault::Condition(target, change) => {
                for i in target.indexes(count) {
                    let d = &self.devices[i];
                    let mut condition: Condition = d.conditions.get();
                    match change {
                        ConditionChange::BatteryLow(low) => condition.battery_low = *low,
                        ConditionChange::Metered(on) => condition.metered = *on,
                        ConditionChange::Background(budget) => {
                            condition.foreground = false;
                            d.budget.set(Some(*budget));
                        }
                        ConditionChange::Foreground => {
                            condition.foreground = true;
                            d.budget.set(None);
                        }
                    }
                    d.conditions.set(condition);
                }
            }
            Fault::Skip(span) => self.skip(*span),
            Fault::Upgrade(target, version) => {
                for i in target.indexes(count) {
                    let device = &self.devices[i];
                    let before = device.probe();
                    let from = device.app_version.replace(*version);
                    device.upgrading.set(true);
                    self.run.record(&host_name(i), EventKind::Upgrade { from, to: *version, before });
                    if self.kill(i, KillCause::Upgrade) {
                        self.restarts.push((self.now() + UPGRADE_DOWNTIME, Host::Device(i)));
                    }
                }
            }
            Fault::Crash(_) | Fault::Bounce(_) => unreachable!("handled above"),
        }
    }

    /// Moves the timeline and every wall clock on by `span`, between two steps.
    fn skip(&mut self, span: Duration) {
        assert_eq!(
            self.run.phase.get(),
            Phase::Faults,
            "a skip outside the fault phase would break the final phase's bound: Builder::build refuses one"
        );
        self.skips.add(span);
        self.run.driver_now.set(self.now());
        self.run.skipped.notify_waiters();
    }

    /// Applies `profile` to device `i`'s link: pacing, jitter, and reachability.
    fn set_profile(&mut self, i: usize, profile: Profile) {
        let before = self.devices[i].link.profile().reach;
        self.set_profile_from(i, profile, before);
    }

    /// Applies `profile` to device `i`'s link, whose turmoil state is now `before`.
    fn set_profile_from(&mut self, i: usize, profile: Profile, before: Reach) {
        self.devices[i].link.set_profile(profile);
        let host = host_name(i);
        self.sim.set_link_latency(host.clone(), SERVER, Duration::ZERO);
        self.sim.set_link_max_message_latency(host.clone(), SERVER, profile.jitter);
        match (before, profile.reach) {
            (a, b) if a == b => {}
            (Reach::Offline, _) => self.sim.repair(host.clone(), SERVER),
            (Reach::Blackhole, _) => self.sim.release(host.clone(), SERVER),
            _ => {}
        }
        match profile.reach {
            Reach::Offline if before != Reach::Offline => self.sim.partition(host, SERVER),
            Reach::Blackhole if before != Reach::Blackhole => self.sim.hold(host, SERVER),
            _ => {}
        }
    }

    /// Kills device `i` at the sync step `step` it reached, where a kill was armed.
    fn kill_armed(&mut self, i: usize, step: crate::step::Step) -> bool {
        self.kill_with(i, KillCause::AtStep, Some(step))
    }

    /// Kills device `i` if it runs, closing its open operation and round as unknown.
    fn kill(&mut self, i: usize, cause: KillCause) -> bool {
        self.kill_with(i, cause, None)
    }

    /// Kills device `i` for `cause`; the event names `armed`, the step of a kill armed
    /// there, or else the step of the round under way.
    fn kill_with(&mut self, i: usize, cause: KillCause, armed: Option<crate::step::Step>) -> bool {
        let reason = format!("killed ({})", cause.describe());
        let host = host_name(i);
        let d = self.devices[i].clone();
        d.kill_requested.set(None);
        if !self.sim.is_host_running(host.clone()) {
            return false;
        }
        if let Some(op) = d.open_op.take() {
            self.run.record(&host, EventKind::Info { op, reason: reason.clone() });
        }
        let step = d.step.take();
        let step = match d.round.take() {
            Some(round) => {
                self.run.record(&host, EventKind::SyncCut { round, reason });
                step
            }
            None => None,
        };
        self.run.record(&host, EventKind::Kill { cause, step: armed.or(step) });
        self.sim.crash(host);
        true
    }

    fn restart(&mut self, host: Host) {
        let name = host.to_string();
        self.sim.bounce(name.clone());
        self.run.record(&name, EventKind::Restart);
    }

    fn kill_where_requested(&mut self) {
        for i in 0..self.devices.len() {
            if let Some((step, downtime)) = self.devices[i].kill_requested.get() {
                if self.kill_armed(i, step) {
                    self.restarts.push((self.now() + downtime, Host::Device(i)));
                }
            }
        }
    }

    fn kill_at_random(&mut self) {
        let now = self.now();
        for k in 0..self.nemeses.len() {
            if self.nemeses[k].next > now {
                continue;
            }
            let (i, downtime, mean) = (self.nemeses[k].device, self.nemeses[k].downtime, self.nemeses[k].mean);
            if self.kill(i, KillCause::Random) {
                self.restarts.push((now + downtime, Host::Device(i)));
            }
            self.nemeses[k].next = now + downtime + self.exponential(mean);
        }
    }

    fn restart_due(&mut self) {
        let now = self.now();
        let (due, later): (Vec<_>, Vec<_>) = self.restarts.drain(..).partition(|(t, _)| *t <= now);
        self.restarts = later;
        for (_, host) in due {
            let Host::Device(i) = host else { continue };
            if !self.devices[i].down_by_schedule.get() && !self.sim.is_host_running(host_name(i)) {
                self.restart(host);
            }
        }
    }

    fn exponential(&mut self, mean: Duration) -> Duration {
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        Duration::from_millis((-u.ln() * mean.as_millis() as f64) as u64)
    }
}
