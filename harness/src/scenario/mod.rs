//! Scenarios: who syncs, over what network, doing what, under which faults, checked by
//! which invariants. Built once as one expression, run over many seeds (`run`).

mod run;

use crate::capability::{Capabilities, Requirement};
use crate::fault::{Fault, Host, Target};
use crate::invariant::{self, Invariant};
use crate::net::{HttpFault, Profile, Route};
use crate::policy::SyncPolicy;
use crate::workload::Workload;
use protocol::Strategies;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

/// A situation to simulate. Cheap to clone.
#[derive(Clone)]
pub struct Scenario {
    pub(crate) name: String,
    pub(crate) users: usize,
    pub(crate) devices: usize,
    pub(crate) profile: Profile,
    pub(crate) device_profiles: BTreeMap<usize, Profile>,
    pub(crate) workload: Workload,
    pub(crate) schedule: Vec<(Duration, Fault)>,
    pub(crate) duration: Duration,
    pub(crate) converge_within: Duration,
    pub(crate) tick: Duration,
    pub(crate) sync: SyncPolicy,
    pub(crate) strategies: Option<Strategies>,
    pub(crate) requires: BTreeSet<Requirement>,
    pub(crate) invariants: Vec<Rc<dyn Invariant>>,
    pub(crate) clock_offsets: BTreeMap<usize, i64>,
    pub(crate) tombstone_horizon: Option<Duration>,
    pub(crate) app_version: Option<u32>,
    pub(crate) app_versions: BTreeMap<usize, u32>,
    pub(crate) replay: String,
    pub(crate) description: String,
}

/// Builds a [`Scenario`].
///
/// Defaults: 1 user, 2 devices, every device on `slow-4g`, [`Workload::mixed`] with 10
/// operations per device, no faults, a 60 s fault phase, convergence within 120 s of the
/// final phase, a 1 ms tick, [`SyncPolicy::default`], the server's own conflict strategies
/// ([`crate::ServerCapabilities::strategies`]), no requirement beyond what the faults and
/// strategies named imply, every invariant, the client's latest app version
/// ([`crate::Client::latest_app_version`]), and the replay command of the package cargo runs
/// it in ([`crate::certify::Subject::default_replay`]).
#[must_use]
pub struct Builder {
    scenario: Scenario,
}

impl Scenario {
    /// Starts a scenario named for its situation (`edits_on_both_sides_of_a_partition`).
    pub fn builder(name: &str) -> Builder {
        Builder {
            scenario: Scenario {
                name: name.to_owned(),
                users: 1,
                devices: 2,
                profile: Profile::SLOW_4G,
                device_profiles: BTreeMap::new(),
                workload: Workload::mixed(10),
                schedule: Vec::new(),
                duration: Duration::from_secs(60),
                converge_within: Duration::from_secs(120),
                tick: Duration::from_millis(1),
                sync: SyncPolicy::default(),
                strategies: None,
                requires: BTreeSet::new(),
                invariants: invariant::all(),
                clock_offsets: BTreeMap::new(),
                tombstone_horizon: None,
                app_version: None,
                app_versions: BTreeMap::new(),
                replay: crate::command::run(),
                description: String::new(),
            },
        }
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One sentence on the situation, for `syncsim list`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The invariants it checks.
    pub fn invariants(&self) -> &[Rc<dyn Invariant>] {
        &self.invariants
    }

    /// Its faults, by the time they take effect.
    pub fn schedule(&self) -> &[(Duration, Fault)] {
        &self.schedule
    }

    /// The same scenario with the faults `drop` picks left out: run both on a seed to show
    /// that a finding needs those faults.
    pub fn without_faults(&self, drop: impl Fn(&Fault) -> bool) -> Scenario {
        let mut scenario = self.clone();
        scenario.schedule.retain(|(_, fault)| !drop(fault));
        scenario
    }

    /// What the scenario is about, so what an implementation must have for it to apply:
    /// what [`Builder::requires`] named, the strategies [`Builder::strategies`] declared,
    /// a tombstone horizon, the sync steps it kills at, the app versions it installs, and
    /// faults aimed at pushes or pulls alone.
    pub fn requirements(&self) -> BTreeSet<Requirement> {
        let mut needs = self.requires.clone();
        if let Some(strategies) = &self.strategies {
            needs.extend([strategies.project, strategies.task].map(Requirement::Strategy));
        }
        if self.tombstone_horizon.is_some() {
            needs.insert(Requirement::TombstoneHorizon);
        }
        let installed = self.app_versions.values().chain(&self.app_version).copied();
        needs.extend(installed.filter(|v| *v > 1).map(Requirement::AppVersion));
        for (_, fault) in &self.schedule {
            needs.extend(match fault {
                Fault::KillAt(_, step, _) => Some(Requirement::Step(*step)),
                Fault::ServerCrashAt(step, _) | Fault::ServerStallAt(step, _) => Some(Requirement::ServerStep(*step)),
                Fault::RefuseField(_) => Some(Requirement::ServerRules),
                Fault::SwitchUser(..) => Some(Requirement::UserSwitch),
                Fault::Upgrade(_, version) => Some(Requirement::AppVersion(*version)),
                Fault::Http(_, Route::Push, _) => Some(Requirement::PushPath),
                Fault::Http(_, Route::Pull, _) => Some(Requirement::PullPath),
                _ => None,
            });
        }
        needs
    }

    /// `Ok` when an implementation with `capabilities` has everything the scenario is
    /// about ([`Scenario::requirements`]); else why not, every missing thing named.
    pub fn applies_to(&self, capabilities: &Capabilities) -> Result<(), String> {
        let lacking: Vec<Requirement> =
            self.requirements().into_iter().filter(|r| capabilities.lacks(r).is_some()).collect();
        let steps: Vec<&str> = lacking
            .iter()
            .filter_map(|r| match r {
                Requirement::Step(step) => Some(step.name()),
                _ => None,
            })
            .collect();
        // One reason per kind: every step named once, the newest version alone.
        let newest_version = lacking.iter().filter(|r| matches!(r, Requirement::AppVersion(_))).max();
        let others = lacking.iter().filter(|r| !matches!(r, Requirement::Step(_) | Requirement::AppVersion(_)));
        let mut reasons: Vec<String> = others.chain(newest_version).filter_map(|r| capabilities.lacks(r)).collect();
        if !steps.is_empty() {
            reasons.push(format!("the client does not declare the sync steps {}", steps.join(", ")));
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons.join("; "))
        }
    }

    /// The conflict strategies a run declares: the scenario's, else the server's own.
    pub(crate) fn strategies_for(&self, capabilities: &Capabilities) -> Strategies {
        self.strategies.clone().unwrap_or_else(|| capabilities.server.strategies.clone())
    }

    /// Every user of a run: the users devices are dealt to, and those a
    /// [`Fault::SwitchUser`] logs in.
    pub(crate) fn run_users(&self) -> Vec<String> {
        let switched = self.schedule.iter().filter_map(|(_, fault)| match fault {
            Fault::SwitchUser(_, user) => Some(user + 1),
            _ => None,
        });
        let count = switched.fold(self.users, usize::max);
        (0..count).map(crate::net::user).collect()
    }

    /// The profile of device `i`.
    pub(crate) fn profile_of(&self, i: usize) -> Profile {
        self.device_profiles.get(&i).copied().unwrap_or(self.profile)
    }

    /// The app version device `i` starts with, given the client's latest version.
    pub(crate) fn app_version_of(&self, i: usize, latest: u32) -> u32 {
        self.app_versions.get(&i).copied().or(self.app_version).unwrap_or(latest)
    }

    /// Panics unless every app version the scenario installs is one the client has, and
    /// every upgrade installs a later version than the device runs.
    pub(crate) fn check_app_versions(&self, latest: u32) {
        let mut running: Vec<u32> = (0..self.devices).map(|i| self.app_version_of(i, latest)).collect();
        let mut schedule: Vec<&(Duration, Fault)> = self.schedule.iter().collect();
        schedule.sort_by_key(|(at, _)| *at);
        for (at, fault) in schedule {
            let Fault::Upgrade(target, to) = fault else { continue };
            for i in target.indexes(self.devices) {
                assert!(
                    *to > running[i],
                    "scenario {}: the upgrade at {at:?} installs app version {to} on device {i}, which runs version {}: \
                     an upgrade installs a later version",
                    self.name,
                    running[i]
                );
                running[i] = *to;
            }
        }
        let upgrades = self.schedule.iter().filter_map(|(_, f)| match f {
            Fault::Upgrade(_, v) => Some(*v),
            _ => None,
        });
        let installed = (0..self.devices).map(|i| self.app_version_of(i, latest));
        if let Some(v) = installed.chain(upgrades).find(|v| *v > latest) {
            panic!(
                "scenario {} installs app version {v}, but this client's latest is {latest}: \
                 implement Client::latest_app_version, or install versions 1 to {latest}",
                self.name
            );
        }
    }

    /// The command that replays seed `seed` of this scenario.
    pub fn replay_command(&self, seed: u64) -> String {
        self.replay.replace("{scenario}", &self.name).replace("{seed}", &seed.to_string())
    }
}

impl Builder {
    /// Number of users; devices are dealt to users in turn (device `i` is user `i % users`).
    pub fn users(mut self, users: usize) -> Self {
        self.scenario.users = users;
        self
    }

    /// Number of devices.
    pub fn devices(mut self, devices: usize) -> Self {
        self.scenario.devices = devices;
        self
    }

    /// The network profile of every device.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.scenario.profile = profile;
        self
    }

    /// The network profile of device `i` (overrides [`Builder::profile`]).
    pub fn device_profile(mut self, i: usize, profile: Profile) -> Self {
        self.scenario.device_profiles.insert(i, profile);
        self
    }

    /// What the users do.
    pub fn workload(mut self, workload: Workload) -> Self {
        self.scenario.workload = workload;
        self
    }

    /// Applies `fault` at time `at` of the fault phase. Times count on the timeline: after
    /// a [`Fault::skip`] of 3 days at 10 s, the next fault is due at 3 days + 10 s or later.
    pub fn at(mut self, at: Duration, fault: Fault) -> Self {
        self.scenario.schedule.push((at, fault));
        self
    }

    /// Device `i`'s network flaps: offline for `every`, back on `profile` for `every`,
    /// from `from` until `until` (a train in and out of tunnels).
    pub fn flapping(mut self, i: usize, profile: Profile, from: Duration, until: Duration, every: Duration) -> Self {
        assert!(!every.is_zero(), "scenario `{}`: flapping needs a positive period", self.scenario.name);
        let mut at = from;
        let mut offline = true;
        while at < until {
            let now = if offline { Profile::OFFLINE } else { profile };
            self.scenario.schedule.push((at, Fault::Profile(i.into(), now)));
            at += every;
            offline = !offline;
        }
        self.scenario.schedule.push((until, Fault::Profile(i.into(), profile)));
        self
    }

    /// Length of the fault phase, skipped time included; the final phase follows.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.scenario.duration = duration;
        self
    }

    /// Bound on the final phase: devices must be idle within it or the run fails
    /// convergence.
    pub fn converge_within(mut self, bound: Duration) -> Self {
        self.scenario.converge_within = bound;
        self
    }

    /// turmoil's step: message delivery granularity, and the cost of a run.
    pub fn tick(mut self, tick: Duration) -> Self {
        self.scenario.tick = tick;
        self
    }

    /// When devices sync.
    pub fn sync(mut self, policy: SyncPolicy) -> Self {
        self.scenario.sync = policy;
        self
    }

    /// The conflict strategies every run declares, whatever the server's own: the
    /// scenario is about them, so it applies only to servers that run them.
    pub fn strategies(mut self, strategies: Strategies) -> Self {
        self.scenario.strategies = Some(strategies);
        self
    }

    /// Declares something the scenario is about (counter fields, set fields...), so that
    /// it applies only to implementations that have it. Without it, a workload leaves out
    /// the operations an implementation does not have.
    pub fn requires(mut self, requirement: Requirement) -> Self {
        self.scenario.requires.insert(requirement);
        self
    }

    /// The invariants to check (default: all).
    pub fn invariants(mut self, invariants: Vec<Rc<dyn Invariant>>) -> Self {
        self.scenario.invariants = invariants;
        self
    }

    /// Device `i`'s wall clock starts `offset_ms` off (ahead when positive).
    pub fn clock_offset(mut self, i: usize, offset_ms: i64) -> Self {
        self.scenario.clock_offsets.insert(i, offset_ms);
        self
    }

    /// Declares how long the server keeps tombstones.
    pub fn tombstone_horizon(mut self, horizon: Duration) -> Self {
        self.scenario.tombstone_horizon = Some(horizon);
        self
    }

    /// The app version installed on every device (default: the client's latest).
    pub fn app_version(mut self, version: u32) -> Self {
        assert!(version >= 1, "app versions start at 1");
        self.scenario.app_version = Some(version);
        self
    }

    /// The app version installed on `device`, for a fleet of mixed versions.
    pub fn app_version_on(mut self, device: usize, version: u32) -> Self {
        assert!(version >= 1, "app versions start at 1");
        self.scenario.app_versions.insert(device, version);
        self
    }

    /// The replay command of failures (`{scenario}` and `{seed}` are filled in).
    pub fn replay(mut self, command: &str) -> Self {
        self.scenario.replay = command.to_owned();
        self
    }

    /// One sentence on the situation.
    pub fn description(mut self, text: &str) -> Self {
        self.scenario.description = text.to_owned();
        self
    }

    /// Checks the scenario and returns it. Panics with what to fix on an impossible one.
    pub fn build(mut self) -> Scenario {
        let s = &mut self.scenario;
        assert!(s.devices > 0, "scenario `{}` needs at least one device: call .devices(n)", s.name);
        assert!(
            (1..=s.devices).contains(&s.users),
            "scenario `{}` has {} users for {} devices: every user needs a device",
            s.name,
            s.users,
            s.devices
        );
        assert!(!s.tick.is_zero(), "scenario `{}`: the tick must be positive", s.name);
        for (at, fault) in &s.schedule {
            assert!(
                *at < s.duration,
                "scenario `{}`: `{fault}` at {at:?} is after the fault phase ends at {:?}: lengthen .duration()",
                s.name,
                s.duration
            );
            let target = match fault {
                Fault::Partition(t, _)
                | Fault::Repair(t, _)
                | Fault::Hold(t)
                | Fault::Release(t)
                | Fault::Profile(t, _)
                | Fault::KillAt(t, ..)
                | Fault::RandomKills(t, ..)
                | Fault::Clock(t, _)
                | Fault::Upgrade(t, _)
                | Fault::SwitchUser(t, _)
                | Fault::Condition(t, _) => Some(*t),
                Fault::Crash(Host::Device(i)) | Fault::Bounce(Host::Device(i)) => Some(Target::Device(*i)),
                _ => None,
            };
            target.map(|t| t.indexes(s.devices));
            if let Fault::Http(HttpFault::ServerError(status), ..) = fault {
                assert!((500..600).contains(status), "scenario `{}`: `{fault}` is not a 5xx status", s.name);
            }
        }
        for i in s.device_profiles.keys().chain(s.clock_offsets.keys()).chain(s.app_versions.keys()) {
            assert!(
                *i < s.devices,
                "scenario `{}` configures device {i} of {}: add devices or fix the index",
                s.name,
                s.devices
            );
        }
        if s.workload.ops > 0 {
            let last = s.workload.due(s.workload.ops - 1);
            assert!(
                last < s.duration,
                "scenario `{}`: the workload's last operation is due at {last:?}, after the fault phase ends at {:?}: \
                 lengthen .duration() or shorten the workload",
                s.name,
                s.duration
            );
        }
        s.schedule.sort_by_key(|(at, _)| *at);
        check_skips(s);
        self.scenario
    }
}

/// Panics unless every skip is over idle time within the fault phase: nothing scheduled and
/// no workload operation due inside it (they could only happen late, or not at all).
fn check_skips(s: &Scenario) {
    for (start, fault) in &s.schedule {
        let Fault::Skip(span) = fault else { continue };
        let end = *start + *span;
        assert!(!span.is_zero(), "scenario `{}`: `{fault}` at {start:?} skips nothing: remove it", s.name);
        assert!(
            end <= s.duration,
            "scenario `{}`: `{fault}` from {start:?} ends at {end:?}, after the fault phase ends at {:?}: \
             lengthen .duration() (it counts skipped time)",
            s.name,
            s.duration
        );
        if let Some((at, other)) = s.schedule.iter().find(|(at, _)| start < at && *at < end) {
            panic!(
                "scenario `{}`: `{other}` at {at:?} falls inside `{fault}` from {start:?} to {end:?}: nothing \
                 happens while time is skipped; schedule it at {end:?} or later",
                s.name
            );
        }
        if let Some(k) = (0..s.workload.ops).find(|k| (*start..end).contains(&s.workload.due(*k))) {
            panic!(
                "scenario `{}`: the workload's operation {k} is due at {:?}, inside `{fault}` from {start:?} to \
                 {end:?}: users are idle while time is skipped; end the workload before the skip or start it after",
                s.name,
                s.workload.due(k)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn idle(name: &str) -> Builder {
        Scenario::builder(name).workload(Workload::idle())
    }

    #[test]
    fn a_skip_over_idle_time_inside_the_fault_phase_builds() {
        let scenario = idle("skip").at(secs(10), Fault::skip(DAY)).at(DAY + secs(10), Fault::repair(0));
        scenario.duration(DAY + secs(60)).build();
    }

    #[test]
    #[should_panic(expected = "after the fault phase ends")]
    fn a_skip_past_the_fault_phase_is_refused() {
        idle("skip").at(secs(10), Fault::skip(DAY)).duration(secs(60)).build();
    }

    #[test]
    #[should_panic(expected = "falls inside `skip 1 day")]
    fn a_fault_inside_a_skip_is_refused() {
        idle("skip").at(secs(10), Fault::skip(DAY)).at(secs(20), Fault::repair(0)).duration(2 * DAY).build();
    }

    #[test]
    #[should_panic(expected = "the workload's operation 5 is due at 11s")]
    fn a_workload_operation_inside_a_skip_is_refused() {
        let builder = Scenario::builder("skip").workload(Workload::mixed(10)).at(secs(10), Fault::skip(DAY));
        builder.duration(2 * DAY).build();
    }

    #[test]
    fn a_workload_may_start_after_a_skip() {
        let builder = Scenario::builder("skip").workload(Workload::mixed(10).start(DAY + secs(20)));
        builder.at(secs(10), Fault::skip(DAY)).duration(DAY + secs(60)).build();
    }

    fn registers_only() -> Capabilities {
        let (client, server) = (Default::default(), Default::default());
        Capabilities { client, server, latest_app_version: 1 }
    }

    #[test]
    fn a_scenario_applies_unless_it_is_about_something_the_implementation_lacks() {
        let minimal = registers_only();
        assert_eq!(crate::suite::offline_writes_then_reconnect().applies_to(&minimal), Ok(()), "nothing special");
        let counters = crate::suite::counters_and_sets_edited_everywhere().applies_to(&minimal).unwrap_err();
        assert!(counters.contains("counter fields") && counters.contains("set fields"), "{counters}");
        let kills = crate::suite::kill_at_each_sync_step().applies_to(&minimal).unwrap_err();
        assert!(kills.contains("sync steps pull_starting, pull_page_received"), "the steps named once: {kills}");
        let upgrade = crate::suite::upgrade_from_v1_straight_to_v5().applies_to(&minimal).unwrap_err();
        assert_eq!(upgrade, "it installs app version 5; the client's latest is 1", "the newest version alone");
        assert_eq!(
            crate::suite::counters_and_sets_edited_everywhere().applies_to(&Capabilities::everything(6)),
            Ok(())
        );
    }

    #[test]
    fn a_scenario_that_names_no_strategies_runs_the_servers_own() {
        let minimal = registers_only();
        let own = idle("own").build().strategies_for(&minimal);
        assert_eq!(own, Strategies::uniform(protocol::Strategy::LastWriteWinsArrival));
        let named = idle("named").strategies(Strategies::default()).build();
        assert_eq!(named.strategies_for(&minimal), Strategies::default());
        assert!(named.applies_to(&minimal).is_err(), "a scenario about field merge needs a server that runs it");
    }

    #[test]
    fn mixed_fleets_start_each_device_on_its_version_and_others_on_the_latest() {
        let scenario = idle("fleet").devices(3).app_version_on(1, 2).build();
        let versions: Vec<u32> = (0..3).map(|i| scenario.app_version_of(i, 5)).collect();
        assert_eq!(versions, [5, 2, 5]);
        scenario.check_app_versions(5);
    }

    #[test]
    #[should_panic(expected = "installs app version 6, but this client's latest is 5")]
    fn a_version_the_client_does_not_have_is_refused() {
        idle("fleet").app_version(1).at(secs(10), Fault::Upgrade(0.into(), 6)).build().check_app_versions(5);
    }

    #[test]
    #[should_panic(expected = "installs app version 2 on device 0, which runs version 3")]
    fn a_downgrade_is_refused() {
        let scenario = idle("fleet").app_version(1).at(secs(10), Fault::Upgrade(0.into(), 3));
        scenario.at(secs(20), Fault::Upgrade(0.into(), 2)).build().check_app_versions(5);
    }
}
