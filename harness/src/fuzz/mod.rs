//! Generated runs: a proptest strategy that draws a whole scenario (devices and users, a
//! network profile, conflict strategies, a workload, a fault schedule with upgrades and
//! long absences) and shrinks it, and the campaigns that run, shrink and report them.
//!
//! A [`Plan`] is plain data, so proptest shrinks it: fewer faults, fewer operations, fewer
//! devices, earlier times. [`Plan::scenario`] turns it into a [`Scenario`] that
//! `Builder::build` accepts by construction (every fault inside the fault phase, upgrades
//! only to later versions, skips over idle time only). A [`Campaign`] draws case `k` from
//! its seed and `k` alone, so any case of any campaign replays on its own, and shrinks a
//! failing case with its run seed pinned to a minimal [`Counterexample`], printed as a
//! timeline and as a ready-to-paste regression test.
//!
//! ```no_run
//! # fn example<C: syncsim::Client, S: syncsim::Server>(client: &C, server: &S) {
//! use syncsim::fuzz::Campaign;
//! use syncsim::Capabilities;
//!
//! // 50 generated runs of campaign 7; a failure panics with its shrunk counterexample.
//! Campaign::new(7, 50, Capabilities::of(client, server)).assert_survives(client, server);
//! # }
//! ```

mod call;
mod campaign;

pub use campaign::{
    default_replay, panic_message, run_caught, Adapters, Campaign, Case, CaseOutcome, Counterexample, Failure, Shrunk,
    GROWN, MAX_SHRINK_ITERS,
};

use crate::capability::{Capabilities, Requirement};
use crate::fault::Fault;
use crate::net::Profile;
use crate::scenario::Scenario;
use crate::step::Step;
use call::Call;
use proptest::prelude::*;
use protocol::{Strategies, Strategy as Resolution};
use std::fmt;
use std::time::Duration;

/// Length of a generated run's fault phase, before any absence's skip.
pub const FAULT_PHASE: Duration = Duration::from_secs(40);

/// How long an absent device stays away: past the tombstone horizon of a generated run.
pub const ABSENCE: Duration = Duration::from_secs(2 * 86_400);

/// The tombstone horizon of every generated run: shorter than [`ABSENCE`].
pub const TOMBSTONE_HORIZON: Duration = Duration::from_secs(86_400);

/// The profiles a generated run is drawn on.
const PROFILES: [Profile; 4] = [Profile::WIFI, Profile::LTE, Profile::SLOW_4G, Profile::THREE_G];

/// One generated fault, at a time of the fault phase.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(missing_docs, reason = "each variant's doc names its fields")]
pub enum Event {
    /// Device `device` loses the server both ways for `for_ms`.
    Partition { device: usize, for_ms: u64 },
    /// Device `device`'s app is killed when it next reaches `step` (restarting 2 s later);
    /// [`Step::Migrating`] kills it inside its next upgrade's migration.
    KillAt { device: usize, step: Step },
    /// Device `device`'s app is killed now and restarted after `down_ms`.
    Kill { device: usize, down_ms: u64 },
    /// The server crashes and restarts after `down_ms`.
    ServerRestart { down_ms: u64 },
    /// The server crashes right after it next commits a push, before it answers, and
    /// restarts 1 s later ([`Step::PushCommitted`]). Simulation only: a live case leaves it
    /// out.
    ServerCrashAfterCommit,
    /// The server's next pull stalls for `ms` between reading its page and answering
    /// ([`Step::PullRead`]), while other requests go on. Simulation only: a live case leaves
    /// it out.
    ServerStall { ms: u64 },
    /// For `for_ms`, a share (per mille) of pushes reach the server twice at once.
    DuplicatePushes { permille: u32, for_ms: u64 },
    /// For `for_ms`, a share (per mille) of push answers is lost after the server committed.
    LosePushAnswers { permille: u32, for_ms: u64 },
    /// For `for_ms`, a share (per mille) of requests is answered 503 by the edge.
    ServerErrors { permille: u32, for_ms: u64 },
    /// Device `device`'s clock jumps by `ms` (negative: backwards).
    ClockJump { device: usize, ms: i64 },
    /// The server's clock steps by `ms` (negative: backwards; an NTP step, a failover to a
    /// node that is behind). Simulation only: a live case leaves it out.
    ServerClockStep { ms: i64 },
    /// The server stops accepting writes of the task field `notes`, for good: the edits
    /// devices have queued with it are refused for ever. Simulation only: a live case leaves
    /// it out.
    RefuseNotes,
    /// For `for_ms`, every second, a second sync round starts on device `device` `after_ms`
    /// into its next one.
    SecondRounds { device: usize, after_ms: u64, for_ms: u64 },
    /// Device `device`'s app is upgraded to the next version, if it is not the latest.
    Upgrade { device: usize },
    /// Another user logs in on device `device` (the device's user's neighbour, or a user of
    /// no device of the run's), and the device's own user logs back in after `for_ms`, unless
    /// that is past the fault phase: then the device ends as the other user's.
    SwitchUser { device: usize, for_ms: u64 },
}

/// A generated run: what [`plan`] draws and proptest shrinks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Number of users; devices are spread over them.
    pub users: usize,
    /// The app version each device starts on.
    pub versions: Vec<u32>,
    /// The network profile of every device.
    pub profile: Profile,
    /// The conflict strategies of projects and tasks.
    pub strategies: Strategies,
    /// User operations per device.
    pub ops: u32,
    /// Whether the users edit a shared set of records (else a mix of everything).
    pub shared: bool,
    /// Milliseconds between a device's operations (shortened when the operations would
    /// not fit in the fault phase).
    pub every_ms: u64,
    /// Each device's clock offset, ms.
    pub offsets: Vec<i64>,
    /// A device that goes offline at a time of the fault phase (ms; no later than halfway
    /// through the workload, see [`Plan::away`]) and stays away for [`ABSENCE`], longer
    /// than the tombstone horizon, while the others go on: then every device is the one
    /// user's, and the workload edits and deletes records ([`crate::workload::Mix::DELETES`]).
    pub away: Option<(usize, u64)>,
    /// Whether the absent device leaves with a push answered to a dead app: from the time it
    /// leaves, its app is killed as its next push's answer arrives (and at the latest as the
    /// days begin), and stays down until it is back; else it goes offline, its app running.
    pub leaves_mid_push: bool,
    /// The fault schedule: (ms into the fault phase, fault).
    pub events: Vec<(u64, Event)>,
}

/// Draws plans for a client whose app versions run from 1 to `latest`: 1 to 4 devices of 1
/// or 2 users, up to 12 operations each (now and then a burst of 40 to 90), any conflict
/// strategies, up to 8 faults, sometimes a device away for days.
pub fn plan(latest: u32) -> impl Strategy<Value = Plan> {
    sized_plan(latest, FULL_SIZE)
}

/// The size at which [`sized_plan`] draws everything [`plan`] does.
pub const FULL_SIZE: u32 = 100;

/// Draws plans no bigger than `size` (0 to [`FULL_SIZE`]) allows: at size 0, one device
/// with one operation and one fault; the devices, operations and faults grow with it, and
/// bursts of operations and long absences come from half size on. Campaigns start small
/// and grow, so that the first failing case is often small already.
pub fn sized_plan(latest: u32, size: u32) -> impl Strategy<Value = Plan> {
    let latest = latest.max(1);
    let size = size.min(FULL_SIZE);
    let scale = move |max: u32| 1 + (max - 1) * size / FULL_SIZE;
    let (max_devices, max_ops, max_events) = (scale(4) as usize, scale(12), scale(8) as usize);
    let grown = size * 2 >= FULL_SIZE;
    (1usize..=max_devices).prop_flat_map(move |devices| {
        let fault_ms = 0..FAULT_PHASE.as_millis() as u64 - 5_000;
        let resolution = || prop::sample::select(Resolution::ALL.to_vec());
        let strategies = prop_oneof![
            3 => Just(Strategies::default()),
            1 => (resolution(), resolution()).prop_map(|(project, task)| Strategies { project, task }),
        ];
        // A burst's operations come faster, so that they fit in the fault phase.
        let workload = if grown {
            prop_oneof![4 => (0u32..=max_ops, 500u64..=2_500), 1 => (40u32..=90, 100u64..=400)].boxed()
        } else {
            (0u32..=max_ops, 500u64..=2_500).boxed()
        };
        let away = if grown {
            prop::option::weighted(0.15, (0..devices, fault_ms.clone(), any::<bool>())).boxed()
        } else {
            Just(None).boxed()
        };
        (
            (1usize..=2.min(devices), prop::collection::vec(1..=latest, devices)),
            (prop::sample::select(PROFILES.to_vec()), strategies),
            (workload, any::<bool>()),
            prop::collection::vec(prop_oneof![3 => Just(0i64), 1 => -7_200_000i64..=7_200_000], devices),
            away,
            prop::collection::vec((fault_ms, event(devices)), 1..=max_events),
        )
            .prop_map(
                |((users, versions), (profile, strategies), ((ops, every_ms), shared), offsets, away, mut events)| {
                    events.sort_by_key(|(at, _)| *at);
                    let leaves_mid_push = away.is_some_and(|(_, _, mid_push)| mid_push);
                    let away = away.map(|(device, at, _)| (device, at));
                    Plan {
                        users,
                        versions,
                        profile,
                        strategies,
                        ops,
                        shared,
                        every_ms,
                        offsets,
                        away,
                        leaves_mid_push,
                        events,
                    }
                },
            )
    })
}

/// A fault. Kills at a named step are drawn three times as often as each other kind: most
/// bugs of a sync engine hide between two of its steps.
fn event(devices: usize) -> impl Strategy<Value = Event> {
    let device = 0..devices;
    let steps: Vec<Step> = Step::ALL.into_iter().chain([Step::Migrating]).collect();
    prop_oneof![
        1 => (device.clone(), 1_000u64..=15_000).prop_map(|(device, for_ms)| Event::Partition { device, for_ms }),
        3 => (device.clone(), prop::sample::select(steps)).prop_map(|(device, step)| Event::KillAt { device, step }),
        1 => (device.clone(), 0u64..=5_000).prop_map(|(device, down_ms)| Event::Kill { device, down_ms }),
        1 => (0u64..=5_000).prop_map(|down_ms| Event::ServerRestart { down_ms }),
        1 => Just(Event::ServerCrashAfterCommit),
        1 => (200u64..=3_000).prop_map(|ms| Event::ServerStall { ms }),
        1 => (100u32..=900, 1_000u64..=10_000).prop_map(|(permille, for_ms)| Event::DuplicatePushes { permille, for_ms }),
        1 => (100u32..=900, 1_000u64..=10_000).prop_map(|(permille, for_ms)| Event::LosePushAnswers { permille, for_ms }),
        1 => (100u32..=900, 1_000u64..=10_000).prop_map(|(permille, for_ms)| Event::ServerErrors { permille, for_ms }),
        1 => (device.clone(), -3_600_000i64..=3_600_000).prop_map(|(device, ms)| Event::ClockJump { device, ms }),
        1 => (-3_600_000i64..=600_000).prop_map(|ms| Event::ServerClockStep { ms }),
        1 => (device.clone(), 0u64..=500, 2_000u64..=15_000)
            .prop_map(|(device, after_ms, for_ms)| Event::SecondRounds { device, after_ms, for_ms }),
        1 => Just(Event::RefuseNotes),
        1 => device.clone().prop_map(|device| Event::Upgrade { device }),
        1 => (device, 2_000u64..=40_000).prop_map(|(device, for_ms)| Event::SwitchUser { device, for_ms }),
    ]
}

impl Plan {
    /// The scenario this plan describes, named `name`, for an implementation with
    /// `capabilities`: what it does not declare is left out (strategies it cannot run,
    /// kills at steps it does not report, faults on pushes it does not name, a tombstone
    /// horizon), and apps are upgraded at most to its latest version.
    pub fn scenario(&self, name: &str, capabilities: &Capabilities) -> Scenario {
        self.builder(name, capabilities).build()
    }

    /// The builder of [`Plan::scenario`], every call made, before `build`.
    fn builder(&self, name: &str, capabilities: &Capabilities) -> crate::scenario::Builder {
        self.calls(capabilities).into_iter().fold(Scenario::builder(name), |builder, call| call.apply(builder))
    }

    /// How big the counterexample is: user operations, faults, and an absence.
    pub fn size(&self) -> usize {
        self.versions.len() * self.ops as usize + self.events.len() + usize::from(self.away.is_some())
    }

    /// Milliseconds between a device's operations: `every_ms`, shortened so that the last
    /// operation is due before the fault phase ends.
    pub fn every(&self) -> u64 {
        let start = crate::workload::Workload::mixed(0).start.as_millis() as u64;
        let room = FAULT_PHASE.as_millis() as u64 - 1 - start;
        self.every_ms.min(room / u64::from(self.ops.max(1)))
    }

    /// The builder calls of [`Plan::scenario`], in order: what it runs and what a
    /// regression test prints.
    fn calls(&self, capabilities: &Capabilities) -> Vec<Call> {
        let latest = capabilities.latest_app_version;
        let devices = self.versions.len();
        let end = FAULT_PHASE.as_millis() as u64 - 1;
        let ms = Duration::from_millis;
        // An absent device's user goes on writing on the other devices.
        let users = if self.away.is_some() { 1 } else { self.users };
        let mut calls = vec![
            Call::Description(self.to_string()),
            Call::Users(users),
            Call::Devices(devices),
            Call::Profile(self.profile),
        ];
        let runs = |s: Resolution| capabilities.lacks(&Requirement::Strategy(s)).is_none();
        if self.strategies != Strategies::default() && runs(self.strategies.project) && runs(self.strategies.task) {
            calls.push(Call::Strategies(self.strategies.clone()));
        }
        calls.push(match self.away {
            // Deletes while it is away, purged before it is back.
            Some(_) => Call::Deletes { ops: self.ops, every: ms(self.every()) },
            None => Call::Workload { shared: self.shared, ops: self.ops, every: ms(self.every()) },
        });
        let duration = if self.away.is_some() { FAULT_PHASE + ABSENCE + Duration::from_secs(30) } else { FAULT_PHASE };
        calls.push(Call::Duration(duration));
        for (i, version) in self.versions.iter().enumerate() {
            calls.push(Call::AppVersionOn(i, (*version).min(latest)));
        }
        for (i, offset) in self.offsets.iter().enumerate().filter(|(_, o)| **o != 0) {
            calls.push(Call::ClockOffset(i, *offset));
        }
        let mut running: Vec<u32> = self.versions.iter().map(|v| (*v).min(latest)).collect();
        for (at, event) in &self.events {
            let (at, until) = (ms(*at), |for_ms: u64| ms((*at + for_ms).min(end)));
            let faults = match *event {
                Event::Partition { device, for_ms } => {
                    vec![(at, Fault::partition(device)), (until(for_ms), Fault::repair(device))]
                }
                Event::KillAt { device, step } if capabilities.client.steps.contains(&step) => {
                    vec![(at, Fault::kill_at(device, step))]
                }
                Event::KillAt { .. } => Vec::new(),
                Event::Kill { device, down_ms } => vec![
                    (at, Fault::Crash(crate::fault::Host::Device(device))),
                    (until(down_ms), Fault::Bounce(crate::fault::Host::Device(device))),
                ],
                Event::ServerRestart { down_ms } => {
                    vec![
                        (at, Fault::Crash(crate::fault::Host::Server)),
                        (until(down_ms), Fault::Bounce(crate::fault::Host::Server)),
                    ]
                }
                Event::ServerCrashAfterCommit if capabilities.server.steps.contains(&Step::PushCommitted) => {
                    vec![(at, Fault::crash_server_at(Step::PushCommitted))]
                }
                Event::ServerCrashAfterCommit => Vec::new(),
                Event::ServerStall { ms: stall } if capabilities.server.steps.contains(&Step::PullRead) => {
                    vec![(at, Fault::stall_server_at_pull_read(ms(stall)))]
                }
                Event::ServerStall { .. } => Vec::new(),
                Event::DuplicatePushes { permille, for_ms } if capabilities.server.push_path.is_some() => {
                    vec![(at, Fault::duplicate_pushes(permille)), (until(for_ms), Fault::HttpCalm)]
                }
                Event::DuplicatePushes { .. } => Vec::new(),
                Event::LosePushAnswers { permille, for_ms } if capabilities.server.push_path.is_some() => {
                    vec![(at, Fault::lose_push_responses(permille)), (until(for_ms), Fault::HttpCalm)]
                }
                Event::LosePushAnswers { .. } => Vec::new(),
                Event::ServerErrors { permille, for_ms } => vec![
                    (at, Fault::Http(crate::net::HttpFault::ServerError(503), crate::net::Route::Any, permille)),
                    (until(for_ms), Fault::HttpCalm),
                ],
                Event::ClockJump { device, ms: by } => vec![(at, Fault::clock_jump(device, by))],
                Event::ServerClockStep { ms: by } => vec![(at, Fault::server_clock_jump(by))],
                Event::RefuseNotes if capabilities.server.rules => vec![(at, Fault::RefuseField("notes"))],
                Event::RefuseNotes => Vec::new(),
                Event::SecondRounds { device, after_ms, for_ms } => (0..=for_ms / 1_000)
                    .map(|k| (until(k * 1_000), Fault::SecondRound(device.into(), ms(after_ms))))
                    .collect(),
                Event::Upgrade { device } if running[device] < latest => {
                    running[device] += 1;
                    vec![(at, Fault::Upgrade(device.into(), running[device]))]
                }
                Event::Upgrade { .. } => Vec::new(),
                Event::SwitchUser { device, for_ms } if capabilities.client.user_switch => {
                    let own = device % users;
                    let other = (own + 1) % users.max(2);
                    let mut faults = vec![(at, Fault::SwitchUser(device.into(), other))];
                    if at + ms(for_ms) < ms(end) {
                        faults.push((at + ms(for_ms), Fault::SwitchUser(device.into(), own)));
                    }
                    faults
                }
                Event::SwitchUser { .. } => Vec::new(),
            };
            calls.extend(faults.into_iter().map(|(at, fault)| Call::At(at, fault)));
        }
        if let Some((device, at)) = self.away() {
            // Away past the horizon: the others' deletes are purged before it is back.
            if capabilities.server.tombstone_horizon {
                calls.push(Call::TombstoneHorizon(TOMBSTONE_HORIZON));
            }
            let back = FAULT_PHASE + ABSENCE + Duration::from_secs(1);
            let steps = &capabilities.client.steps;
            if self.leaves_mid_push && steps.contains(&Step::PushResponseReceived) {
                use crate::fault::Host;
                // Down until the bounce: the crash as the days begin drops the kill's restart.
                calls.push(Call::At(ms(at), Fault::KillAt(device.into(), Step::PushResponseReceived, back)));
                calls.push(Call::At(FAULT_PHASE, Fault::Crash(Host::Device(device))));
                calls.push(Call::At(FAULT_PHASE, Fault::skip(ABSENCE)));
                calls.push(Call::At(back, Fault::Bounce(Host::Device(device))));
            } else {
                calls.push(Call::At(ms(at), Fault::Profile(device.into(), Profile::OFFLINE)));
                calls.push(Call::At(FAULT_PHASE, Fault::skip(ABSENCE)));
                calls.push(Call::At(back, Fault::Profile(device.into(), self.profile)));
            }
        }
        calls
    }
}

impl Plan {
    /// Plans one step smaller than this one, the boldest first: half the operations, the
    /// last device dropped, each fault dropped, the absence dropped, a quarter, an eighth
    /// or one of the operations fewer, the default strategies, each clock offset zeroed. What a greedy pass tries after
    /// proptest's own shrinking, which cannot step back to a part it has shrunk before.
    pub fn smaller(&self) -> Vec<Plan> {
        let mut smaller = Vec::new();
        let with = |change: &dyn Fn(&mut Plan)| {
            let mut plan = self.clone();
            change(&mut plan);
            plan
        };
        let fewer_ops = |ops: u32, smaller: &mut Vec<Plan>| {
            if ops < self.ops && !smaller.iter().any(|p: &Plan| p.ops == ops && p.events == self.events) {
                smaller.push(with(&|p| p.ops = ops));
            }
        };
        fewer_ops(self.ops / 2, &mut smaller);
        if self.versions.len() > 1 {
            smaller.push(with(&|p| {
                let last = p.versions.len() - 1;
                p.versions.truncate(last);
                p.offsets.truncate(last);
                p.users = p.users.min(last);
                p.away = p.away.filter(|(device, _)| *device < last);
                p.events.retain(|(_, e)| e.device().is_none_or(|d| d < last));
            }));
        }
        for i in 0..self.events.len() {
            smaller.push(with(&|p| {
                p.events.remove(i);
            }));
        }
        if self.away.is_some() {
            smaller.push(with(&|p| p.away = None));
        }
        if self.away.is_some() && self.leaves_mid_push {
            smaller.push(with(&|p| p.leaves_mid_push = false));
        }
        for ops in [self.ops * 3 / 4, self.ops * 7 / 8, self.ops.saturating_sub(1)] {
            fewer_ops(ops, &mut smaller);
        }
        if self.strategies != Strategies::default() {
            smaller.push(with(&|p| p.strategies = Strategies::default()));
        }
        for i in (0..self.offsets.len()).filter(|i| self.offsets[*i] != 0) {
            smaller.push(with(&|p| p.offsets[i] = 0));
        }
        smaller
    }

    /// The absent device and when it leaves: `away`, no later than halfway through the
    /// workload, so that the others write while it is gone.
    pub fn away(&self) -> Option<(usize, u64)> {
        let start = crate::workload::Workload::mixed(0).start.as_millis() as u64;
        let halfway = start + self.every() * u64::from(self.ops) / 2;
        self.away.map(|(device, at)| (device, at.min(halfway)))
    }

    /// What the users do: `mixed`, `shared-record` or, with an absence, `edit-and-delete`.
    fn kind(&self) -> &'static str {
        match (self.away, self.shared) {
            (Some(_), _) => "edit-and-delete",
            (None, true) => "shared-record",
            (None, false) => "mixed",
        }
    }

    /// Who does what: `1 device of 1 user on app versions [4], 3g, 1 mixed operation each
    /// every 1197 ms`.
    fn set_up(&self) -> String {
        let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
        let who = format!("{} of {}", plural(self.versions.len(), "device"), plural(self.users, "user"));
        let operations = if self.ops == 1 { "operation" } else { "operations" };
        format!(
            "{who} on app versions {:?}, {}, {} {} {operations} each every {} ms",
            self.versions,
            self.profile.name,
            self.ops,
            self.kind(),
            self.every()
        )
    }

    /// The plan as a readable timeline: the set-up, then one line per fault in time order.
    pub fn timeline(&self) -> String {
        let mut out = format!("  {}\n", self.set_up());
        if self.strategies != Strategies::default() {
            out += &format!("  projects {:?}, tasks {:?}\n", self.strategies.project, self.strategies.task);
        }
        for (i, offset) in self.offsets.iter().enumerate().filter(|(_, o)| **o != 0) {
            out += &format!("  device{i}'s clock is {offset:+} ms off\n");
        }
        let mut lines: Vec<(u64, String)> = self.events.iter().map(|(at, e)| (*at, e.to_string())).collect();
        if let Some((device, at)) = self.away() {
            let days = ABSENCE.as_secs() / 86_400;
            lines.push(match self.leaves_mid_push {
                true => {
                    (at, format!("device{device}'s app is killed as its next push is answered, down for {days} days"))
                }
                false => (at, format!("device{device} goes offline, for {days} days")),
            });
        }
        lines.sort_by_key(|(at, _)| *at);
        for (at, line) in lines {
            out += &format!("  {:>7.3} s  {line}\n", at as f64 / 1000.0);
        }
        out
    }
}

impl Event {
    /// The device it happens to, if one.
    pub fn device(&self) -> Option<usize> {
        match *self {
            Event::Partition { device, .. }
            | Event::KillAt { device, .. }
            | Event::Kill { device, .. }
            | Event::ClockJump { device, .. }
            | Event::SecondRounds { device, .. }
            | Event::Upgrade { device }
            | Event::SwitchUser { device, .. } => Some(device),
            Event::ServerRestart { .. }
            | Event::ServerCrashAfterCommit
            | Event::ServerStall { .. }
            | Event::DuplicatePushes { .. }
            | Event::LosePushAnswers { .. }
            | Event::ServerErrors { .. }
            | Event::ServerClockStep { .. }
            | Event::RefuseNotes => None,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Partition { device, for_ms } => write!(f, "device{device} is cut off for {for_ms} ms"),
            Event::KillAt { device, step } => write!(f, "device{device}'s app is killed at its next {step}"),
            Event::Kill { device, down_ms } => write!(f, "device{device}'s app is killed, back after {down_ms} ms"),
            Event::ServerRestart { down_ms } => write!(f, "the server crashes, back after {down_ms} ms"),
            Event::ServerCrashAfterCommit => {
                f.write_str("the server crashes right after its next push commits, back after 1000 ms")
            }
            Event::ServerStall { ms } => write!(f, "the server's next pull stalls {ms} ms before its answer"),
            Event::DuplicatePushes { permille, for_ms } => {
                write!(f, "{permille} per mille of pushes reach the server twice at once for {for_ms} ms")
            }
            Event::LosePushAnswers { permille, for_ms } => {
                write!(f, "{permille} per mille of push answers are lost for {for_ms} ms")
            }
            Event::ServerErrors { permille, for_ms } => {
                write!(f, "{permille} per mille of requests get 503 for {for_ms} ms")
            }
            Event::ClockJump { device, ms } => write!(f, "device{device}'s clock jumps {ms:+} ms"),
            Event::ServerClockStep { ms } => write!(f, "the server's clock steps {ms:+} ms"),
            Event::RefuseNotes => f.write_str("the server stops accepting writes of the field notes, for good"),
            Event::SecondRounds { device, after_ms, for_ms } => write!(
                f,
                "for {for_ms} ms, every second, a second sync round starts on device{device} {after_ms} ms into its next one"
            ),
            Event::Upgrade { device } => write!(f, "device{device}'s app is upgraded to its next version"),
            Event::SwitchUser { device, for_ms } => write!(
                f,
                "another user logs in on device{device}, its own back after {for_ms} ms if the faults still run then"
            ),
        }
    }
}

impl fmt::Display for Plan {
    /// The plan as a readable timeline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.set_up())?;
        if self.strategies != Strategies::default() {
            write!(f, "; projects {:?}, tasks {:?}", self.strategies.project, self.strategies.task)?;
        }
        for (i, offset) in self.offsets.iter().enumerate().filter(|(_, o)| **o != 0) {
            write!(f, "; device{i} clock {offset:+} ms")?;
        }
        for (at, event) in &self.events {
            write!(f, "; at {at} ms {event}")?;
        }
        if let Some((device, at)) = self.away() {
            let how = if self.leaves_mid_push { ", killed as its next push is answered" } else { "" };
            write!(f, "; at {at} ms device{device} goes away for 2 days{how}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_drawn_plan_and_every_smaller_one_builds_a_valid_scenario() {
        let mut runner = TestRunner::deterministic();
        for size in [0, 30, 60, FULL_SIZE] {
            runner
                .run(&sized_plan(5, size), |plan| {
                    for plan in std::iter::once(plan.clone()).chain(plan.smaller()) {
                        plan.scenario("generated", &Capabilities::everything(5)).check_app_versions(5);
                    }
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn plans_of_size_zero_are_one_device_one_fault_and_at_most_one_operation() {
        let mut runner = TestRunner::deterministic();
        runner
            .run(&sized_plan(5, 0), |plan| {
                prop_assert_eq!((plan.versions.len(), plan.events.len(), plan.away), (1, 1, None));
                prop_assert!(plan.ops <= 1 && plan.size() <= 2, "{}", plan);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_case_is_drawn_from_its_campaign_seed_and_index_alone() {
        let all = Capabilities::everything(5);
        let campaign = Campaign::new(7, 100, all.clone());
        assert_eq!(
            campaign.case(60),
            Campaign::new(7, 3, all.clone()).case(60),
            "the campaign's length does not matter"
        );
        assert_ne!(campaign.case(60).plan, campaign.case(61).plan);
        assert_ne!(campaign.case(60).plan, Campaign::new(8, 100, all).case(60).plan);
        assert_eq!(
            (campaign.size(0), campaign.size(GROWN / 2), campaign.size(GROWN * 3)),
            (0, FULL_SIZE / 2, FULL_SIZE)
        );
    }

    #[test]
    fn smaller_plans_drop_faults_devices_and_operations() {
        let plan = Plan {
            users: 2,
            versions: vec![1, 5],
            profile: Profile::LTE,
            strategies: Strategies::default(),
            ops: 8,
            shared: true,
            every_ms: 1_000,
            offsets: vec![0, 3_000],
            away: Some((1, 2_000)),
            leaves_mid_push: true,
            events: vec![(1_000, Event::Upgrade { device: 0 }), (2_000, Event::Kill { device: 1, down_ms: 10 })],
        };
        let smaller = plan.smaller();
        let fewer_ops: Vec<u32> =
            smaller.iter().filter(|p| p.events == plan.events && p.away.is_some()).map(|p| p.ops).collect();
        assert!(
            fewer_ops.starts_with(&[4]) && fewer_ops.contains(&7),
            "half the operations first, then fewer: {fewer_ops:?}"
        );
        let one_device = smaller.iter().find(|p| p.versions.len() == 1).expect("the last device dropped");
        assert_eq!(
            (one_device.users, &one_device.offsets, one_device.away, one_device.events.len()),
            (1, &vec![0], None, 1),
            "with its user, clock, absence and faults"
        );
        assert!(smaller.iter().any(|p| p.events.len() == 1 && p.versions.len() == 2), "each fault dropped");
        assert!(smaller.iter().any(|p| p.away.is_none() && p.versions.len() == 2), "the absence dropped");
        assert!(smaller.iter().any(|p| p.away.is_some() && !p.leaves_mid_push), "the absence made plain");
        assert!(smaller.iter().any(|p| p.offsets == [0, 0]), "the clock offset zeroed");
        assert!(smaller.iter().all(|p| p.size() <= plan.size()));
    }

    #[test]
    fn upgrades_past_the_latest_version_are_dropped() {
        let plan = Plan {
            users: 1,
            versions: vec![4],
            profile: Profile::LTE,
            strategies: Strategies::default(),
            ops: 0,
            shared: false,
            every_ms: 1_000,
            offsets: vec![0],
            away: None,
            leaves_mid_push: false,
            events: vec![(1_000, Event::Upgrade { device: 0 }), (2_000, Event::Upgrade { device: 0 })],
        };
        let scenario = plan.scenario("generated", &Capabilities::everything(5));
        scenario.check_app_versions(5);
        let upgrades = scenario.schedule.iter().filter(|(_, f)| matches!(f, Fault::Upgrade(..))).count();
        assert_eq!(upgrades, 1, "4 to 5, then nothing");
    }
}
