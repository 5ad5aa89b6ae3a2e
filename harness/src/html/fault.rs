//! What a `fault` event does to the timeline: the history records each fault as a
//! [`FaultRecord`], and the timeline draws it as a span that starts or ends, a mark, or a
//! break in the time axis.

use crate::fault::{FaultRecord, Ways, ALL_DEVICES};
use crate::net::SERVER;

/// Which lanes a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every device.
    Devices,
    /// One device, by host name.
    Device(String),
    /// The server.
    Server,
    /// The run as a whole (faults of no host, and texts this module does not know).
    Run,
}

/// What a fault does to the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// A span starts in `slot` (ending the slot's open span, if any).
    Start {
        /// The span's slot: one open span per slot and lane.
        slot: String,
        /// How it is drawn: `partition`, `hold`, `offline`, `blackhole`, `profile`, `http`,
        /// `lose_response`, `background`, `battery`, `metered`, `random_kills`.
        kind: &'static str,
        /// Its label.
        label: String,
    },
    /// The open spans whose slot starts with this prefix end.
    End(String),
    /// One instant: `arm` (a kill armed at a sync step), `clock`, or `note`.
    Mark(&'static str),
    /// Idle time skipped at once, in ms.
    Skip(u64),
    /// Nothing to draw: another event shows it (an upgrade has its own event).
    Nothing,
}

/// Where a fault applies and what it does, read from its record's fields.
pub(super) fn classify(fault: &FaultRecord) -> (Scope, Effect) {
    let start = |slot: &str, kind: &'static str, label: String| Effect::Start { slot: slot.to_owned(), kind, label };
    match fault {
        FaultRecord::Partition { target, ways } => {
            let arrow = arrow(*ways);
            (scope(target), start(&format!("partition{arrow}"), "partition", format!("partition {arrow} {SERVER}")))
        }
        FaultRecord::Repair { target, ways } => {
            let ends = match ways {
                Ways::Both => "partition".to_owned(),
                ways => format!("partition{}", arrow(*ways)),
            };
            (scope(target), Effect::End(ends))
        }
        FaultRecord::Hold { target } => (scope(target), start("hold", "hold", "hold".into())),
        FaultRecord::Release { target } => (scope(target), Effect::End("hold".into())),
        FaultRecord::Profile { target, profile } => {
            let kind = match profile.as_str() {
                "offline" => "offline",
                "blackhole" => "blackhole",
                _ => "profile",
            };
            (scope(target), start("profile", kind, profile.clone()))
        }
        FaultRecord::Http { fault, route, permille } => (Scope::Server, http(fault, route, *permille)),
        FaultRecord::HttpCalm => (Scope::Server, Effect::End("http:".into())),
        FaultRecord::RefuseField { .. } => (Scope::Server, Effect::Mark("note")),
        FaultRecord::KillAt { target, .. }
        | FaultRecord::StallAt { target, .. }
        | FaultRecord::SecondRound { target, .. } => (scope(target), Effect::Mark("arm")),
        FaultRecord::RandomKills { target, .. } => {
            (scope(target), start("random_kills", "random_kills", "random kills".into()))
        }
        FaultRecord::ClockJump { target, .. }
        | FaultRecord::ClockDrift { target, .. }
        | FaultRecord::ClockSet { target, .. } => (scope(target), Effect::Mark("clock")),
        FaultRecord::BatteryLow { target, on } => (scope(target), switch("battery", *on, "battery low")),
        FaultRecord::Metered { target, on } => (scope(target), switch("metered", *on, "metered network")),
        FaultRecord::Background { target, budget_ms } => {
            (scope(target), start("background", "background", format!("sync budget {budget_ms} ms")))
        }
        FaultRecord::Foreground { target } => (scope(target), Effect::End("background".into())),
        // Crashes and bounces show as `kill` and `restart` events, upgrades as `upgrade`,
        // user switches as `switch_user`.
        FaultRecord::Crash { .. }
        | FaultRecord::Bounce { .. }
        | FaultRecord::Upgrade { .. }
        | FaultRecord::SwitchUser { .. } => (Scope::Run, Effect::Nothing),
        FaultRecord::Skip { ms } => (Scope::Run, Effect::Skip(*ms)),
    }
}

fn scope(target: &str) -> Scope {
    match target {
        ALL_DEVICES => Scope::Devices,
        SERVER => Scope::Server,
        host => Scope::Device(host.to_owned()),
    }
}

fn arrow(ways: Ways) -> &'static str {
    match ways {
        Ways::Both => "<->",
        Ways::ToServer => "->",
        Ways::FromServer => "<-",
    }
}

/// A span per HTTP fault and route while its rate is above 0.
fn http(fault: &str, route: &str, permille: u32) -> Effect {
    let slot = format!("http:{fault}:{route}");
    if permille == 0 {
        return Effect::End(slot);
    }
    let kind = if fault == "lose_response" { "lose_response" } else { "http" };
    let on = match route {
        "any" => "every request",
        "push" => "pushes",
        "pull" => "pulls",
        path => path,
    };
    Effect::Start { slot, kind, label: format!("{fault} on {on}, {permille}\u{2030}") }
}

fn switch(slot: &'static str, on: bool, label: &str) -> Effect {
    if on {
        Effect::Start { slot: slot.into(), kind: slot, label: label.into() }
    } else {
        Effect::End(slot.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{ClockChange, ConditionChange, Fault, Host, Target, Ways};
    use crate::net::{HttpFault, Profile, Route};
    use crate::step::Step;
    use std::time::Duration;

    fn of(fault: Fault) -> (Scope, Effect) {
        classify(&FaultRecord::from(&fault))
    }

    fn kind(effect: &Effect) -> &str {
        match effect {
            Effect::Start { kind, .. } => kind,
            Effect::End(slot) => slot.split(':').next().unwrap_or_default(),
            Effect::Mark(kind) => kind,
            Effect::Skip(_) => "skip",
            Effect::Nothing => "nothing",
        }
    }

    /// Each fault's record, classified: a fault this module draws as something else fails
    /// here, not in a reader's browser.
    #[test]
    fn every_fault_the_harness_records_is_drawn_as_what_it_is() {
        let device1 = || Scope::Device("device1".into());
        let cases = [
            (Fault::partition(1), device1(), "partition"),
            (Fault::Partition(Target::All, Ways::ToServer), Scope::Devices, "partition"),
            (Fault::repair(1), device1(), "partition"),
            (Fault::Repair(Target::All, Ways::FromServer), Scope::Devices, "partition<-"),
            (Fault::Hold(Target::Device(1)), device1(), "hold"),
            (Fault::Release(Target::All), Scope::Devices, "hold"),
            (Fault::Profile(Target::Device(1), Profile::OFFLINE), device1(), "offline"),
            (Fault::Profile(Target::All, Profile::BLACKHOLE), Scope::Devices, "blackhole"),
            (Fault::Profile(Target::Device(1), Profile::EDGE), device1(), "profile"),
            (Fault::lose_push_responses(333), Scope::Server, "lose_response"),
            (Fault::Http(HttpFault::ServerError(503), Route::Any, 500), Scope::Server, "http"),
            (Fault::Http(HttpFault::ServerError(503), Route::Any, 0), Scope::Server, "http"),
            (Fault::HttpCalm, Scope::Server, "http"),
            (Fault::kill_at(1, Step::PushStarting), device1(), "arm"),
            (Fault::crash_server_at(Step::PushCommitted), Scope::Server, "arm"),
            (Fault::stall_server_at_pull_read(Duration::from_millis(1_500)), Scope::Server, "arm"),
            (Fault::duplicate_pushes(333), Scope::Server, "http"),
            (Fault::SecondRound(Target::Device(1), Duration::ZERO), device1(), "arm"),
            (Fault::RefuseField("notes"), Scope::Server, "note"),
            (
                Fault::RandomKills(Target::All, Duration::from_secs(9), Duration::from_secs(2)),
                Scope::Devices,
                "random_kills",
            ),
            (Fault::clock_jump(1, -3_600_000), device1(), "clock"),
            (Fault::Clock(Target::All, ClockChange::Drift(50)), Scope::Devices, "clock"),
            (Fault::Clock(Target::Device(1), ClockChange::Set(0)), device1(), "clock"),
            (Fault::server_clock_jump(-3_600_000), Scope::Server, "clock"),
            (Fault::Condition(Target::Device(1), ConditionChange::BatteryLow(true)), device1(), "battery"),
            (Fault::Condition(Target::Device(1), ConditionChange::Metered(false)), device1(), "metered"),
            (
                Fault::Condition(Target::All, ConditionChange::Background(Duration::from_secs(30))),
                Scope::Devices,
                "background",
            ),
            (Fault::Condition(Target::Device(1), ConditionChange::Foreground), device1(), "background"),
            (Fault::Upgrade(Target::Device(1), 3), Scope::Run, "nothing"),
            (Fault::SwitchUser(Target::Device(1), 0), Scope::Run, "nothing"),
            (Fault::skip(Duration::from_secs(2 * 86_400)), Scope::Run, "skip"),
        ];
        for (fault, scope, expected) in cases {
            let text = fault.to_string();
            let (got_scope, effect) = of(fault);
            assert_eq!((got_scope, kind(&effect)), (scope, expected), "`{text}` is drawn as {effect:?}");
        }
        // Crash and bounce are drawn as the `kill` and `restart` events they cause.
        assert_eq!(of(Fault::Crash(Host::Server)), (Scope::Run, Effect::Nothing));
    }

    #[test]
    fn a_partition_ends_with_its_repair_and_a_fault_turned_off_ends_its_span() {
        let (_, start) = of(Fault::partition(0));
        let Effect::Start { slot, .. } = start else { panic!("a partition starts a span: {start:?}") };
        let Effect::End(prefix) = of(Fault::repair(0)).1 else { panic!("a repair ends one") };
        assert!(slot.starts_with(&prefix), "`{slot}` is ended by `{prefix}`");
        let (_, on) = of(Fault::lose_push_responses(250));
        let Effect::Start { slot, label, .. } = on else { panic!("losing responses starts a span") };
        assert!(label.contains("250"), "{label}");
        assert_eq!(of(Fault::lose_push_responses(0)).1, Effect::End(slot.clone()), "0 per mille ends that fault alone");
        let Effect::End(calm) = of(Fault::HttpCalm).1 else { panic!("calm ends every http fault") };
        assert!(slot.starts_with(&calm), "`{slot}` is ended by `{calm}`");
    }

    #[test]
    fn a_skip_gives_its_span_in_milliseconds() {
        assert_eq!(of(Fault::skip(Duration::from_secs(3 * 86_400))).1, Effect::Skip(259_200_000));
    }
}
