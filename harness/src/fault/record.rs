//! A fault as the history records it: what it does, whom it hits and its parameters, as
//! fields, so that the timeline and the reports read data instead of the fault's words.

use super::{ClockChange, ConditionChange, Fault, Target, Ways};
use crate::net::{Route, SERVER};
use crate::step::Step;
use serde::{Deserialize, Serialize};

/// Whom a fault hits: every device, or one host (`device0`, ..., `server`).
pub const ALL_DEVICES: &str = "all";

/// A fault that took effect, as data. `target` and `host` are [`ALL_DEVICES`] or a host
/// name; durations are milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultRecord {
    /// The network between `target` and the server is cut `ways`.
    Partition {
        /// Who is cut off.
        target: String,
        /// Which directions.
        ways: Ways,
    },
    /// A partition ends.
    Repair {
        /// Who is reconnected.
        target: String,
        /// Which directions.
        ways: Ways,
    },
    /// Messages between `target` and the server are held.
    Hold {
        /// Whose messages.
        target: String,
    },
    /// Held messages flow again.
    Release {
        /// Whose messages.
        target: String,
    },
    /// `target`'s network changes to the named profile (`offline` and `blackhole` too).
    Profile {
        /// Whose network.
        target: String,
        /// The profile's stable name.
        profile: String,
    },
    /// A host is crashed until it is bounced.
    Crash {
        /// The host.
        host: String,
    },
    /// A crashed host starts again.
    Bounce {
        /// The host.
        host: String,
    },
    /// A kill armed at a step, with the time the host stays down.
    KillAt {
        /// Whose app, or `server`.
        target: String,
        /// The step.
        step: Step,
        /// Downtime after the kill, ms.
        down_ms: u64,
    },
    /// A stall armed at one of the server's steps.
    StallAt {
        /// `server`.
        target: String,
        /// The step.
        step: Step,
        /// How long the request stalls there, ms.
        ms: u64,
    },
    /// Kills at random instants.
    RandomKills {
        /// Whose apps.
        target: String,
        /// Mean time between kills, ms.
        every_ms: u64,
        /// Downtime after each kill, ms.
        down_ms: u64,
    },
    /// An HTTP fault at the server's edge, for `permille` of the requests on `route`; 0
    /// turns it off.
    Http {
        /// The fault's name ([`crate::net::HttpFault::name`]).
        fault: String,
        /// `any`, `push`, `pull`, or a path.
        route: String,
        /// Parts per thousand of the requests.
        permille: u32,
    },
    /// Every HTTP fault off.
    HttpCalm,
    /// A clock jumps by `ms` (backwards when negative).
    ClockJump {
        /// Whose clock: devices, or `server`.
        target: String,
        /// The jump, ms.
        ms: i64,
    },
    /// A clock drifts.
    ClockDrift {
        /// Whose clock: devices, or `server`.
        target: String,
        /// Parts per million.
        ppm: i64,
    },
    /// A clock is set by hand.
    ClockSet {
        /// Whose clock: devices, or `server`.
        target: String,
        /// The time it is set to, ms since the Unix epoch.
        ms: i64,
    },
    /// The server refuses every write of `field` from now on.
    RefuseField {
        /// The field.
        field: String,
    },
    /// The battery is low (`on`) or not.
    BatteryLow {
        /// Whose battery.
        target: String,
        /// Low or not.
        on: bool,
    },
    /// The network is metered (`on`) or not.
    Metered {
        /// Whose network.
        target: String,
        /// Metered or not.
        on: bool,
    },
    /// The app goes to the background with a sync budget.
    Background {
        /// Whose app.
        target: String,
        /// The budget, ms.
        budget_ms: u64,
    },
    /// The app comes back to the foreground.
    Foreground {
        /// Whose app.
        target: String,
    },
    /// A second sync round starts beside the next one.
    SecondRound {
        /// Whose app.
        target: String,
        /// How long after the next round's start the second starts, ms.
        after_ms: u64,
    },
    /// An app upgrade to `version`.
    Upgrade {
        /// Whose app.
        target: String,
        /// The version installed.
        version: u32,
    },
    /// Another user logs in on the app.
    SwitchUser {
        /// Whose app.
        target: String,
        /// The user who logs in.
        user: String,
    },
    /// Idle time skipped at once.
    Skip {
        /// How much, ms.
        ms: u64,
    },
}

impl From<&Fault> for FaultRecord {
    fn from(fault: &Fault) -> Self {
        let ms = |d: &std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match fault {
            Fault::Partition(t, ways) => FaultRecord::Partition { target: target(t), ways: *ways },
            Fault::Repair(t, ways) => FaultRecord::Repair { target: target(t), ways: *ways },
            Fault::Hold(t) => FaultRecord::Hold { target: target(t) },
            Fault::Release(t) => FaultRecord::Release { target: target(t) },
            Fault::Profile(t, p) => FaultRecord::Profile { target: target(t), profile: p.name.to_owned() },
            Fault::Crash(h) => FaultRecord::Crash { host: h.to_string() },
            Fault::Bounce(h) => FaultRecord::Bounce { host: h.to_string() },
            Fault::KillAt(t, step, down) => FaultRecord::KillAt { target: target(t), step: *step, down_ms: ms(down) },
            Fault::ServerCrashAt(step, down) => {
                FaultRecord::KillAt { target: SERVER.into(), step: *step, down_ms: ms(down) }
            }
            Fault::ServerStallAt(step, stall) => {
                FaultRecord::StallAt { target: SERVER.into(), step: *step, ms: ms(stall) }
            }
            Fault::RandomKills(t, every, down) => {
                FaultRecord::RandomKills { target: target(t), every_ms: ms(every), down_ms: ms(down) }
            }
            Fault::Http(http, route, permille) => {
                FaultRecord::Http { fault: http.name(), route: route_name(route), permille: *permille }
            }
            Fault::HttpCalm => FaultRecord::HttpCalm,
            Fault::Clock(t, ClockChange::Jump(by)) => FaultRecord::ClockJump { target: target(t), ms: *by },
            Fault::Clock(t, ClockChange::Drift(ppm)) => FaultRecord::ClockDrift { target: target(t), ppm: *ppm },
            Fault::Clock(t, ClockChange::Set(to)) => FaultRecord::ClockSet { target: target(t), ms: *to },
            Fault::ServerClock(ClockChange::Jump(by)) => FaultRecord::ClockJump { target: SERVER.into(), ms: *by },
            Fault::ServerClock(ClockChange::Drift(ppm)) => FaultRecord::ClockDrift { target: SERVER.into(), ppm: *ppm },
            Fault::ServerClock(ClockChange::Set(to)) => FaultRecord::ClockSet { target: SERVER.into(), ms: *to },
            Fault::RefuseField(field) => FaultRecord::RefuseField { field: (*field).to_owned() },
            Fault::Condition(t, ConditionChange::BatteryLow(on)) => {
                FaultRecord::BatteryLow { target: target(t), on: *on }
            }
            Fault::Condition(t, ConditionChange::Metered(on)) => FaultRecord::Metered { target: target(t), on: *on },
            Fault::Condition(t, ConditionChange::Background(budget)) => {
                FaultRecord::Background { target: target(t), budget_ms: ms(budget) }
            }
            Fault::Condition(t, ConditionChange::Foreground) => FaultRecord::Foreground { target: target(t) },
            Fault::SecondRound(t, after) => FaultRecord::SecondRound { target: target(t), after_ms: ms(after) },
            Fault::Upgrade(t, version) => FaultRecord::Upgrade { target: target(t), version: *version },
            Fault::SwitchUser(t, user) => FaultRecord::SwitchUser { target: target(t), user: crate::net::user(*user) },
            Fault::Skip(span) => FaultRecord::Skip { ms: ms(span) },
        }
    }
}

fn target(target: &Target) -> String {
    match target {
        Target::All => ALL_DEVICES.to_owned(),
        Target::Device(i) => crate::net::device(*i),
    }
}

fn route_name(route: &Route) -> String {
    match route {
        Route::Any => "any".to_owned(),
        Route::Push => "push".to_owned(),
        Route::Pull => "pull".to_owned(),
        Route::Path(path) => (*path).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{HttpFault, Profile};
    use std::time::Duration;

    #[test]
    fn every_kind_recorded_is_in_the_vocabulary() {
        let faults = [
            Fault::partition(0),
            Fault::repair(0),
            Fault::Hold(Target::All),
            Fault::Release(Target::All),
            Fault::Profile(0.into(), Profile::OFFLINE),
            Fault::Crash(crate::fault::Host::Server),
            Fault::Bounce(crate::fault::Host::Server),
            Fault::kill_at(0, Step::PushStarting),
            Fault::crash_server_at(Step::PushCommitted),
            Fault::stall_server_at_pull_read(Duration::from_secs(1)),
            Fault::RandomKills(Target::All, Duration::from_secs(5), Duration::from_secs(1)),
            Fault::lose_push_responses(100),
            Fault::HttpCalm,
            Fault::clock_jump(0, 1),
            Fault::Clock(Target::All, ClockChange::Drift(5)),
            Fault::Clock(Target::All, ClockChange::Set(0)),
            Fault::server_clock_jump(-1),
            Fault::Condition(Target::All, ConditionChange::BatteryLow(true)),
            Fault::Condition(Target::All, ConditionChange::Metered(true)),
            Fault::Condition(Target::All, ConditionChange::Background(Duration::from_secs(1))),
            Fault::Condition(Target::All, ConditionChange::Foreground),
            Fault::SecondRound(Target::All, Duration::ZERO),
            Fault::RefuseField("notes"),
            Fault::Upgrade(0.into(), 2),
            Fault::SwitchUser(0.into(), 1),
            Fault::skip(Duration::from_secs(1)),
        ];
        let listed: Vec<&str> = crate::fault::VOCABULARY.iter().flat_map(|(kinds, _)| kinds.split(", ")).collect();
        for fault in &faults {
            let json = serde_json::to_value(FaultRecord::from(fault)).expect("a record serializes");
            let kind = json["kind"].as_str().expect("every record has a kind");
            assert!(listed.contains(&kind), "`{kind}` ({fault}) is missing from fault::VOCABULARY");
        }
    }

    #[test]
    fn a_fault_is_recorded_as_fields_that_read_back() {
        let faults = [
            Fault::partition(0),
            Fault::Repair(Target::All, Ways::ToServer),
            Fault::Profile(1.into(), Profile::OFFLINE),
            Fault::kill_at(2, Step::PushResponseReceived),
            Fault::lose_push_responses(250),
            Fault::Http(HttpFault::ServerError(503), Route::Any, 500),
            Fault::clock_jump(0, -7_200_000),
            Fault::server_clock_jump(-3_600_000),
            Fault::Condition(Target::All, ConditionChange::Background(Duration::from_secs(30))),
            Fault::skip(Duration::from_secs(86_400)),
        ];
        for fault in &faults {
            let record = FaultRecord::from(fault);
            let json = serde_json::to_string(&record).expect("a record serializes");
            assert_eq!(serde_json::from_str::<FaultRecord>(&json).expect("and reads back"), record, "{json}");
        }
        let json = serde_json::to_string(&FaultRecord::from(&faults[4])).unwrap();
        assert_eq!(json, r#"{"kind":"http","fault":"lose_response","route":"push","permille":250}"#);
        let json = serde_json::to_string(&FaultRecord::from(&faults[1])).unwrap();
        assert_eq!(json, r#"{"kind":"repair","target":"all","ways":"to_server"}"#);
        let json = serde_json::to_string(&FaultRecord::from(&faults[7])).unwrap();
        assert_eq!(json, r#"{"kind":"clock_jump","target":"server","ms":-3600000}"#);
    }
}
