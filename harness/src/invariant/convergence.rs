//! Convergence: after the final phase every device shows exactly the server's records.

use super::facts::{shown, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{EventKind, History};
use crate::operation::RecordKey;
use crate::state::{knows, UserRecords};
use std::collections::BTreeSet;

/// Catches devices that never agree with the server: a final phase that reached its time
/// bound before every device was idle, and any device whose final records differ from the
/// server's records of its user (a record missing, one too many, or a field that differs).
/// A device that never reported its final state cannot be shown to converge, so it is a
/// violation too.
#[derive(Clone, Copy, Debug, Default)]
pub struct Convergence;

const NAME: &str = "convergence";

impl Invariant for Convergence {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Eventually
    }

    fn description(&self) -> &'static str {
        "after the final phase every device shows exactly the server's records of its user, within the time bound"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let end = facts.end_ms();
        let mut violations: Vec<Violation> =
            verdict(history).into_iter().map(|d| Violation::new(NAME, end, None, d)).collect();
        for device in &history.header.devices {
            // Its user at the end: a device changes hands at a user switch.
            let user = facts.snapshots.get(device.host.as_str()).map_or(device.user.as_str(), |(user, _)| user);
            if let Some(details) = divergence(&facts, &device.host, user) {
                violations.push(Violation::new(NAME, end, Some(&device.host), details));
            }
        }
        Check::found(violations)
    }
}

/// What is wrong with the final phase's own verdict, if anything.
fn verdict(history: &History) -> Option<String> {
    for event in &history.events {
        match &event.kind {
            EventKind::NotConverged { bound_ms } => {
                return Some(format!("the devices were still syncing {bound_ms} ms into the final phase"))
            }
            EventKind::Converged { .. } => return None,
            _ => {}
        }
    }
    Some("the run never reported whether the final phase converged".to_owned())
}

/// How device `host`'s final records differ from the server's records of `user`, if they do.
fn divergence(facts: &Facts<'_>, host: &str, user: &str) -> Option<Details> {
    let Some((_, state)) = facts.snapshots.get(host) else {
        return Some(format!("{host} never reported its final state").into());
    };
    let Some(server) = facts.servers.get(user) else {
        return Some(format!("the server never reported the records of {user}, so {host} cannot be compared").into());
    };
    let known = known_to(server, state.protocol);
    let (key, difference) = first_difference(&state.records, &known)?;
    Some(Details::from(format!("{host} differs from the server's records of {user}: {difference}")).record(key))
}

/// `server`'s records as an app speaking protocol `version` must show them: without the
/// fields of later versions.
fn known_to(server: &UserRecords, version: u32) -> UserRecords {
    let mut known = server.clone();
    for (key, fields) in known.iter_mut() {
        fields.retain(|field, _| knows(version, key, field));
    }
    known
}

/// The first record, in key order, where `device` and `server` differ.
fn first_difference<'r>(device: &'r UserRecords, server: &'r UserRecords) -> Option<(&'r RecordKey, String)> {
    let keys = device.keys().chain(server.keys()).collect::<BTreeSet<_>>();
    let difference = |key: &RecordKey| match (device.get(key), server.get(key)) {
        (Some(_), None) => Some(format!("it shows {key}, which the server does not have")),
        (None, Some(_)) => Some(format!("it does not show {key}, which the server has")),
        (Some(mine), Some(theirs)) if mine != theirs => {
            let names = mine.keys().chain(theirs.keys()).collect::<BTreeSet<_>>();
            let field = names.into_iter().find(|f| mine.get(*f) != theirs.get(*f))?;
            Some(format!(
                "{key} {field} is {} on the device and {} on the server",
                shown(mine.get(field)),
                shown(theirs.get(field))
            ))
        }
        _ => None,
    };
    keys.into_iter().find_map(|key| difference(key).map(|d| (key, d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HARNESS;
    use crate::invariant::fixture::{records, showing, task, Timeline, ALICE, DEVICE0, DEVICE1};
    use serde_json::json;

    fn titled(title: &str) -> UserRecords {
        records(&[(&task("t1"), json!({ "title": title }))])
    }

    #[test]
    fn devices_showing_the_server_records_have_converged() {
        let history = Timeline::new(&[ALICE, ALICE]).at(900).settle(&[(ALICE, titled("title #1"))]).build();
        assert_eq!(Convergence.check(&history), Check::ok());
    }

    #[test]
    fn a_device_showing_another_value_diverges_with_both_values_named() {
        let history = Timeline::new(&[ALICE, ALICE])
            .at(900)
            .event(HARNESS, EventKind::FinalPhase)
            .event(HARNESS, EventKind::Converged { after_ms: 100 })
            .snapshot(DEVICE0, showing(titled("title #1")))
            .snapshot(DEVICE1, showing(titled("title #2")))
            .server(ALICE, titled("title #1"))
            .build();
        let check = Convergence.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let v = &check.violations[0];
        assert_eq!(v.host.as_deref(), Some(DEVICE1));
        assert!(v.details.contains(r#""title #2" on the device and "title #1" on the server"#), "{}", v.details);
    }

    #[test]
    fn a_final_phase_that_hit_its_bound_did_not_converge() {
        let history = Timeline::new(&[ALICE])
            .at(900)
            .event(HARNESS, EventKind::FinalPhase)
            .event(HARNESS, EventKind::NotConverged { bound_ms: 60_000 })
            .snapshot(DEVICE0, showing(titled("title #1")))
            .server(ALICE, titled("title #1"))
            .build();
        let check = Convergence.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("60000 ms"), "{check:?}");
    }

    #[test]
    fn a_device_without_a_final_state_and_a_record_missing_on_another_are_both_divergent() {
        let history = Timeline::new(&[ALICE, ALICE])
            .at(900)
            .event(HARNESS, EventKind::FinalPhase)
            .event(HARNESS, EventKind::Converged { after_ms: 100 })
            .snapshot(DEVICE0, showing(records(&[])))
            .server(ALICE, titled("title #1"))
            .build();
        let details: Vec<String> = Convergence.check(&history).violations.into_iter().map(|v| v.details).collect();
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(details[0].contains("does not show task/t1"), "{details:?}");
        assert!(details[1].contains("device1 never reported"), "{details:?}");
    }
}
