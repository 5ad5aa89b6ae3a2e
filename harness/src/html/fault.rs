//! What a `fault` event's text does to the timeline: a history records each fault in the
//! words of [`crate::Fault`]'s `Display`, and the timeline draws it as a span that starts or
//! ends, a mark, or a break in the time axis.

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

/// Where a fault's text applies and what it does.
pub(super) fn classify(text: &str) -> (Scope, Effect) {
    let words: Vec<&str> = text.split(' ').map(|w| w.trim_end_matches(',')).collect();
    let target = |i: usize| match (words.get(i), words.get(i + 1)) {
        (Some(&"all"), Some(&"devices")) => Scope::Devices,
        (Some(host), _) if host.starts_with("device") => Scope::Device((*host).to_owned()),
        _ => Scope::Run,
    };
    let arrow = |scope: &Scope| {
        let at = if *scope == Scope::Devices { 3 } else { 2 };
        words.get(at).copied().unwrap_or("<->")
    };
    match words.first().copied().unwrap_or_default() {
        "partition" => {
            let scope = target(1);
            let arrow = arrow(&scope);
            let slot = format!("partition{arrow}");
            (scope, Effect::Start { slot, kind: "partition", label: format!("partition {arrow} {SERVER}") })
        }
        "repair" => {
            let scope = target(1);
            let effect = match arrow(&scope) {
                "->" => Effect::End("partition->".into()),
                "<-" => Effect::End("partition<-".into()),
                _ => Effect::End("partition".into()),
            };
            (scope, effect)
        }
        "hold" => (target(1), Effect::Start { slot: "hold".into(), kind: "hold", label: "hold".into() }),
        "release" => (target(1), Effect::End("hold".into())),
        "profile" => profile(target(1), words.last().copied().unwrap_or_default()),
        "http" if text == "http faults off" => (Scope::Server, Effect::End("http:".into())),
        "http" => (Scope::Server, http(&words)),
        "kill" => (target(1), Effect::Mark("arm")),
        "random" => {
            let label = "random kills".to_owned();
            (target(3), Effect::Start { slot: "random_kills".into(), kind: "random_kills", label })
        }
        "clock" => (target(1), Effect::Mark("clock")),
        "battery" => switch(target(1), "battery", text.ends_with("low=true"), "battery low"),
        "metered" => switch(target(1), "metered", text.ends_with("true"), "metered network"),
        "background" => {
            let label = text.split_once(", ").map_or("background", |(_, budget)| budget).to_owned();
            (target(1), Effect::Start { slot: "background".into(), kind: "background", label })
        }
        "foreground" => (target(1), Effect::End("background".into())),
        "upgrade" => (target(1), Effect::Nothing),
        "skip" => (Scope::Run, skip(&words)),
        _ => (Scope::Run, Effect::Mark("note")),
    }
}

fn profile(scope: Scope, name: &str) -> (Scope, Effect) {
    let kind = match name {
        "offline" => "offline",
        "blackhole" => "blackhole",
        _ => "profile",
    };
    (scope, Effect::Start { slot: "profile".into(), kind, label: name.to_owned() })
}

/// `http FAULT on ROUTE for N per mille`: a span per fault and route while N > 0.
fn http(words: &[&str]) -> Effect {
    let fault = words.get(1).copied().unwrap_or_default();
    let route = match words.iter().position(|w| *w == "for") {
        Some(end) if end > 3 => words[3..end].join(" "),
        _ => String::new(),
    };
    let permille: u32 = words.iter().rev().nth(2).and_then(|n| n.parse().ok()).unwrap_or(0);
    let slot = format!("http:{fault}:{route}");
    if permille == 0 {
        return Effect::End(slot);
    }
    let kind = if fault == "lose_response" { "lose_response" } else { "http" };
    Effect::Start { slot, kind, label: format!("{fault} on {route}, {permille}\u{2030}") }
}

fn switch(scope: Scope, slot: &'static str, on: bool, label: &str) -> (Scope, Effect) {
    let effect = if on {
        Effect::Start { slot: slot.into(), kind: slot, label: label.into() }
    } else {
        Effect::End(slot.into())
    };
    (scope, effect)
}

/// `skip SPAN: every wall clock jumps MS ms ahead`.
fn skip(words: &[&str]) -> Effect {
    let ms = words.iter().position(|w| *w == "jumps").and_then(|i| words.get(i + 1)).and_then(|n| n.parse().ok());
    ms.map_or(Effect::Mark("note"), Effect::Skip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{ClockChange, ConditionChange, Fault, Host, Target, Ways};
    use crate::net::{HttpFault, Profile, Route};
    use crate::step::Step;
    use std::time::Duration;

    fn of(fault: Fault) -> (Scope, Effect) {
        classify(&fault.to_string())
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

    /// Each fault's words, as `Fault`'s `Display` writes them, classified: a change of
    /// those words that this module does not follow fails here, not in a reader's browser.
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
            (
                Fault::RandomKills(Target::All, Duration::from_secs(9), Duration::from_secs(2)),
                Scope::Devices,
                "random_kills",
            ),
            (Fault::clock_jump(1, -3_600_000), device1(), "clock"),
            (Fault::Clock(Target::All, ClockChange::Drift(50)), Scope::Devices, "clock"),
            (Fault::Clock(Target::Device(1), ClockChange::Set(0)), device1(), "clock"),
            (Fault::Condition(Target::Device(1), ConditionChange::BatteryLow(true)), device1(), "battery"),
            (Fault::Condition(Target::Device(1), ConditionChange::Metered(false)), device1(), "metered"),
            (
                Fault::Condition(Target::All, ConditionChange::Background(Duration::from_secs(30))),
                Scope::Devices,
                "background",
            ),
            (Fault::Condition(Target::Device(1), ConditionChange::Foreground), device1(), "background"),
            (Fault::Upgrade(Target::Device(1), 3), device1(), "nothing"),
            (Fault::skip(Duration::from_secs(2 * 86_400)), Scope::Run, "skip"),
        ];
        for (fault, scope, expected) in cases {
            let text = fault.to_string();
            let (got_scope, effect) = of(fault);
            assert_eq!((got_scope, kind(&effect)), (scope, expected), "`{text}` is drawn as {effect:?}");
        }
        // Crash and bounce are never noted: they are `kill` and `restart` events.
        assert_eq!(Host::Server.to_string(), SERVER);
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
    fn a_skip_gives_its_span_in_milliseconds_and_unknown_words_are_a_note() {
        assert_eq!(of(Fault::skip(Duration::from_secs(3 * 86_400))).1, Effect::Skip(259_200_000));
        assert_eq!(classify("the app could not show its state: boom"), (Scope::Run, Effect::Mark("note")));
    }
}
