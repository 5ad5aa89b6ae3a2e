//! Faults: what a scenario's schedule does to the network, the devices and the server.
//!
//! Each fault is recorded on the timeline when it takes effect. Network faults use
//! turmoil's verbs as they are (`partition`, `repair`, `hold`, `release`, `crash`,
//! `bounce`); every fault stops at the final phase. [`Fault::Skip`] is not a fault of any
//! host but of time itself: idle days pass in one event.

mod record;

pub use record::{FaultRecord, ALL_DEVICES};

/// The fault vocabulary as `syncsim list` shows it: the kinds a history records (a
/// [`FaultRecord`]'s `kind`), and what each does.
pub const VOCABULARY: &[(&str, &str)] = &[
    ("partition, repair", "cut a device's link to the server, both ways or one, and restore it"),
    ("hold, release", "keep every message between a device and the server, then deliver them"),
    ("profile", "switch a device's network (a handover; offline and blackhole too)"),
    ("crash, bounce", "kill a host, an app or the server, until bounced; restart it on its data"),
    (
        "kill_at",
        "kill a device's app at its next sync step or inside a migration; crash the server right after a push \
         commits, before it answers (simulation only)",
    ),
    (
        "stall_at",
        "stall one request inside the server at a step of its own (a pull's page read, not yet answered) while \
         its other requests go on (simulation only)",
    ),
    ("random_kills", "kill devices' apps at random instants"),
    (
        "http, http_calm",
        "at the server's edge: 5xx, 429 with Retry-After, slow, cut or lost answers, requests sent twice at once, on \
         a share",
    ),
    ("clock_jump, clock_set, clock_drift", "move a device's wall clock, or the server's (simulation only)"),
    (
        "refuse_field",
        "the server stops accepting writes of a field: what devices have queued with it is refused for ever \
         (simulation only)",
    ),
    ("battery_low, metered, background, foreground", "change a device's OS conditions"),
    ("second_round", "start a second sync round on a device beside its next one, both under way at once"),
    ("upgrade", "install a later app version, which migrates the local database on its next open"),
    (
        "switch_user",
        "log a device's user out and another user in on the same app and data (a shared tablet, a second account)",
    ),
    ("skip", "let idle days pass at once on every wall clock (simulation only)"),
];

use crate::net::{HttpFault, Profile, Route, SERVER};
use crate::step::Step;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Which devices a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every device.
    All,
    /// One device, by index.
    Device(usize),
}

impl From<usize> for Target {
    fn from(index: usize) -> Self {
        Target::Device(index)
    }
}

/// Every device: `Fault::partition(devices())`.
pub fn devices() -> Target {
    Target::All
}

impl Target {
    /// The device indexes it names among `count` devices.
    pub fn indexes(self, count: usize) -> Vec<usize> {
        match self {
            Target::All => (0..count).collect(),
            Target::Device(i) => {
                assert!(
                    i < count,
                    "fault names device {i}, but the scenario has {count} devices: add devices or fix the index"
                );
                vec![i]
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("all devices"),
            Target::Device(i) => write!(f, "{}", crate::net::device(*i)),
        }
    }
}

/// A host that can be crashed and restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// The server.
    Server,
    /// A device, by index.
    Device(usize),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Server => f.write_str(SERVER),
            Host::Device(i) => write!(f, "{}", crate::net::device(*i)),
        }
    }
}

/// Which way of a device's link a partition cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ways {
    /// Both ways.
    Both,
    /// Device to server only: requests are lost, answers would get through.
    ToServer,
    /// Server to device only: requests arrive, answers are lost.
    FromServer,
}

/// A change of a device's situation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionChange {
    /// The battery goes low (`true`) or is charged (`false`).
    BatteryLow(bool),
    /// The network becomes metered (`true`) or not.
    Metered(bool),
    /// The app goes to the background: each sync round is cut after this budget.
    Background(Duration),
    /// The app comes back to the foreground: no budget.
    Foreground,
}

/// A change of a device's wall clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockChange {
    /// Jump by this many ms (backwards when negative).
    Jump(i64),
    /// Drift by this many parts per million from now on.
    Drift(i64),
    /// The user sets the clock to this time (ms since the Unix epoch).
    Set(i64),
}

/// One fault of a scenario's schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Cut the link between devices and the server: connecting fails at once, data in
    /// flight is lost, and a connection that lost data stalls for good.
    Partition(Target, Ways),
    /// Restore the link.
    Repair(Target, Ways),
    /// Keep every message between devices and the server until `Release`.
    Hold(Target),
    /// Deliver what `Hold` kept and let traffic flow.
    Release(Target),
    /// Switch devices to another network profile (handover; `OFFLINE` and `BLACKHOLE`
    /// partition and hold).
    Profile(Target, Profile),
    /// Kill a host (the app or the server process); it stays down until `Bounce`.
    Crash(Host),
    /// Restart a host on its data (killing it first if it runs).
    Bounce(Host),
    /// Kill devices the next time each reaches `step`, and restart them after `downtime`.
    KillAt(Target, Step, Duration),
    /// Crash the server the next time it reaches `step` (one of its own, such as
    /// [`Step::PushCommitted`]: a crash right after a commit, before the answer), and
    /// restart it after `downtime`. The simulation alone can do this: a live server is a
    /// process that reports no steps.
    ServerCrashAt(Step, Duration),
    /// Stall the server the next time it reaches `step` (one of its own, such as
    /// [`Step::PullRead`]) for this long: the handling of that one request stops there (a
    /// slow query, a lock wait, a collector's pause) while its other requests go on. The
    /// simulation alone can do this.
    ServerStallAt(Step, Duration),
    /// From now to the final phase, kill devices at random instants (exponential gaps of
    /// this mean) and restart each after `downtime`.
    RandomKills(Target, Duration, Duration),
    /// Activate an HTTP fault for `permille` of the requests on `route` (0 turns it off).
    Http(HttpFault, Route, u32),
    /// Turn every HTTP fault off.
    HttpCalm,
    /// Change devices' wall clocks.
    Clock(Target, ClockChange),
    /// Change the server's wall clock: an NTP step, or a failover to a node whose clock is
    /// behind (`Jump` with a negative span). The server's process goes on running; only
    /// what it reads as the time of day moves. The simulation alone can do this: a live
    /// server reads its machine's clock.
    ServerClock(ClockChange),
    /// From now on the server refuses every write of this field, with a 4xx that says so
    /// (a deploy that dropped the field or tightened its validation): what devices have
    /// queued with it is refused for ever, and must be surfaced without holding up the
    /// rest. The simulation alone can do this, with a server that declares
    /// [`crate::ServerCapabilities::rules`].
    RefuseField(&'static str),
    /// Change devices' conditions.
    Condition(Target, ConditionChange),
    /// Start a second sync round on devices this long after their next one starts, both
    /// under way at once: a foreground sync and a background task, or a launch sync while
    /// the scheduler's round runs. The app may serialize them or refuse the second; it must
    /// lose and duplicate nothing. Live, the driver gets the second `sync` while the first
    /// is unanswered.
    SecondRound(Target, Duration),
    /// Upgrade devices' app to this version: the app is killed (if it runs), replaced, and
    /// restarted 1 s later on the same data directory, where it migrates its local
    /// database (the new version reaches the app as [`crate::DeviceEnv::app_version`]).
    Upgrade(Target, u32),
    /// Log devices' user out and user `n` of the run ([`crate::net::user`]) in, on the same
    /// app and data directory: the app is stopped and opened again 500 ms later as that user
    /// (the new user and token reach it as [`crate::DeviceEnv::user`] and
    /// [`crate::DeviceEnv::token`]). It must show the new user nothing of the previous one's,
    /// and keep the previous user's writes on their way to the server, under that user. Needs
    /// a client that declares [`crate::ClientCapabilities::user_switch`].
    SwitchUser(Target, usize),
    /// Idle time passes at once: every wall clock (each device's and the server's) and the
    /// timeline jump ahead by this span, without stepping through it, so that days offline
    /// cost one event instead of millions of steps.
    ///
    /// Monotonic time (`tokio::time`) does not move: timers, timeouts, backoffs and sync
    /// periods resume after the skip where they were, as if every host had been suspended
    /// for the span (the phone asleep in a drawer, the app not running: a suspended app's
    /// timers do not fire either, and the OS does not run its background tasks). What was
    /// under way (a sync round, a request in flight) goes on after the skip, its answer
    /// stamped days later. Restarts and random kills that fell due during the span happen
    /// at once after it. A clock's drift runs over the span as over stepped time.
    ///
    /// Only in the fault phase, and only over idle time: [`crate::scenario::Builder::build`] panics
    /// when the span reaches past `.duration()`, or when another fault or a workload
    /// operation falls inside it.
    Skip(Duration),
}

impl Fault {
    /// Partition devices from the server, both ways.
    pub fn partition(target: impl Into<Target>) -> Self {
        Fault::Partition(target.into(), Ways::Both)
    }

    /// Repair devices' links to the server, both ways.
    pub fn repair(target: impl Into<Target>) -> Self {
        Fault::Repair(target.into(), Ways::Both)
    }

    /// Kill device `index` the next time it reaches `step`, restarting it 2 s later.
    pub fn kill_at(index: usize, step: Step) -> Self {
        Fault::KillAt(Target::Device(index), step, Duration::from_secs(2))
    }

    /// Crash the server the next time it reaches `step`, restarting it 1 s later.
    pub fn crash_server_at(step: Step) -> Self {
        Fault::ServerCrashAt(step, Duration::from_secs(1))
    }

    /// Stall the server the next time it has read a pull's page, before it answers, for `stall`.
    pub fn stall_server_at_pull_read(stall: Duration) -> Self {
        Fault::ServerStallAt(Step::PullRead, stall)
    }

    /// Send `permille` of the pushes to the server twice at once (see [`HttpFault::Duplicate`]).
    pub fn duplicate_pushes(permille: u32) -> Self {
        Fault::Http(HttpFault::Duplicate, Route::Push, permille)
    }

    /// Lose the response of `permille` of the pushes after the server committed them.
    pub fn lose_push_responses(permille: u32) -> Self {
        Fault::Http(HttpFault::LoseResponse, Route::Push, permille)
    }

    /// Jump device clocks by `delta_ms`.
    pub fn clock_jump(target: impl Into<Target>, delta_ms: i64) -> Self {
        Fault::Clock(target.into(), ClockChange::Jump(delta_ms))
    }

    /// Step the server's clock by `delta_ms` (backwards when negative).
    pub fn server_clock_jump(delta_ms: i64) -> Self {
        Fault::ServerClock(ClockChange::Jump(delta_ms))
    }

    /// Let `span` of idle time pass at once (see [`Fault::Skip`]):
    /// `.at(secs(30), Fault::skip(Duration::from_secs(3 * 86_400)))`.
    pub fn skip(span: Duration) -> Self {
        Fault::Skip(span)
    }
}

/// `span` in the largest unit that divides it exactly: `3 days`, `36 h`, `90 s`, `1500 ms`.
fn whole_units(span: Duration) -> String {
    const UNITS: [(u128, &str); 4] = [(86_400_000, "days"), (3_600_000, "h"), (60_000, "min"), (1_000, "s")];
    let ms = span.as_millis();
    match UNITS.iter().find(|(unit, _)| ms >= *unit && ms.is_multiple_of(*unit)) {
        Some((86_400_000, _)) if ms == 86_400_000 => "1 day".to_owned(),
        Some((unit, name)) => format!("{} {name}", ms / unit),
        None => format!("{ms} ms"),
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = |ways: &Ways| match ways {
            Ways::Both => "<->",
            Ways::ToServer => "->",
            Ways::FromServer => "<-",
        };
        match self {
            Fault::Partition(t, w) => write!(f, "partition {t} {} {SERVER}", arrow(w)),
            Fault::Repair(t, w) => write!(f, "repair {t} {} {SERVER}", arrow(w)),
            Fault::Hold(t) => write!(f, "hold {t} <-> {SERVER}"),
            Fault::Release(t) => write!(f, "release {t} <-> {SERVER}"),
            Fault::Profile(t, p) => write!(f, "profile {t} {}", p.name),
            Fault::Crash(h) => write!(f, "crash {h}"),
            Fault::Bounce(h) => write!(f, "bounce {h}"),
            Fault::KillAt(t, s, d) => write!(f, "kill {t} at {s}, restart after {} ms", d.as_millis()),
            Fault::ServerCrashAt(s, d) => write!(f, "crash {SERVER} at {s}, restart after {} ms", d.as_millis()),
            Fault::ServerStallAt(s, d) => write!(f, "stall {SERVER} at {s} for {} ms", d.as_millis()),
            Fault::Upgrade(t, version) => write!(f, "upgrade {t} to app version {version}"),
            Fault::SwitchUser(t, user) => write!(f, "switch {t} to user {}", crate::net::user(*user)),
            Fault::RandomKills(t, every, d) => {
                write!(f, "random kills of {t} every ~{} ms, restart after {} ms", every.as_millis(), d.as_millis())
            }
            Fault::Http(fault, route, permille) => {
                let route = match route {
                    Route::Any => "every request".to_owned(),
                    Route::Push => "pushes".to_owned(),
                    Route::Pull => "pulls".to_owned(),
                    Route::Path(p) => (*p).to_owned(),
                };
                write!(f, "http {} on {route} for {permille} per mille", fault.name())
            }
            Fault::HttpCalm => f.write_str("http faults off"),
            Fault::Clock(t, ClockChange::Jump(ms)) => write!(f, "clock {t} jumps {ms} ms"),
            Fault::Clock(t, ClockChange::Drift(ppm)) => write!(f, "clock {t} drifts {ppm} ppm"),
            Fault::Clock(t, ClockChange::Set(ms)) => write!(f, "clock {t} set to {ms} ms"),
            Fault::ServerClock(ClockChange::Jump(ms)) => write!(f, "clock {SERVER} jumps {ms} ms"),
            Fault::ServerClock(ClockChange::Drift(ppm)) => write!(f, "clock {SERVER} drifts {ppm} ppm"),
            Fault::ServerClock(ClockChange::Set(ms)) => write!(f, "clock {SERVER} set to {ms} ms"),
            Fault::RefuseField(field) => write!(f, "{SERVER} refuses every write of the field {field}"),
            Fault::Condition(t, ConditionChange::BatteryLow(low)) => write!(f, "battery {t} low={low}"),
            Fault::Condition(t, ConditionChange::Metered(on)) => write!(f, "metered {t} {on}"),
            Fault::Condition(t, ConditionChange::Background(budget)) => {
                write!(f, "background {t}, sync budget {} ms", budget.as_millis())
            }
            Fault::Condition(t, ConditionChange::Foreground) => write!(f, "foreground {t}"),
            Fault::SecondRound(t, after) => {
                write!(f, "second round {t}, {} ms into its next sync round", after.as_millis())
            }
            Fault::Skip(span) => {
                write!(f, "skip {}: every wall clock jumps {} ms ahead", whole_units(*span), span.as_millis())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_reads_in_whole_units_and_exact_milliseconds() {
        let skip = |secs| Fault::skip(Duration::from_secs(secs)).to_string();
        assert_eq!(skip(3 * 86_400), "skip 3 days: every wall clock jumps 259200000 ms ahead");
        assert_eq!(skip(36 * 3_600), "skip 36 h: every wall clock jumps 129600000 ms ahead");
        assert_eq!(skip(90), "skip 90 s: every wall clock jumps 90000 ms ahead");
        assert_eq!(
            Fault::skip(Duration::from_millis(1_500)).to_string(),
            "skip 1500 ms: every wall clock jumps 1500 ms ahead"
        );
    }
}
