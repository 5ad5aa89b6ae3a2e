//! No resurrection: a deleted record does not come back.

use super::facts::{cite, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{Completion, History, OpView, ReadView};
use crate::operation::{Operation, RecordKey};
use std::collections::{BTreeMap, BTreeSet};

/// Catches deleted records that come back: after a delete was confirmed, the record is on
/// the server at the end, in any device's final state, or shown again by the deleting
/// device; and on any device, a record that disappeared after a delete and then shows
/// again. Record ids are never reused, so nothing may legitimately create it again.
///
/// Other devices may keep showing a record until they pull the delete, so during the run
/// only the deleting device's reads, and a device's own show-gone-show sequence, are judged.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResurrection;

const NAME: &str = "no resurrection";

impl Invariant for NoResurrection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "a record whose delete was confirmed never shows again, on the server or on any device"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let reads = history.reads();
        let mut seen = BTreeSet::new();
        let mut violations = Vec::new();
        for delete in facts.operations.iter().filter(|op| matches!(op.operation, Operation::Delete { .. })) {
            let Completion::Ok(deleted_ms) = delete.completion else { continue };
            violations.extend(in_final_states(&facts, delete, deleted_ms));
            violations.extend(shown_by_deleter(&facts, &reads, delete, deleted_ms, &mut seen));
        }
        violations.extend(shown_after_gone(&facts, &reads, &mut seen));
        Check::found(violations)
    }
}

/// Where the record of acknowledged `delete` is back at the end: the server's records of
/// its user and the final states of that user's devices.
fn in_final_states(facts: &Facts<'_>, delete: &OpView<'_>, deleted_ms: u64) -> Vec<Violation> {
    let key = delete.operation.key();
    let back = |place: &str| {
        let text = format!(
            "{key} is back {place} after {} was acknowledged at {deleted_ms} ms{}",
            cite(delete),
            facts.lost_with_device(delete)
        );
        Details::from(text).op(delete.op).record(&key)
    };
    let mut violations = Vec::new();
    if facts.servers.get(delete.user).is_some_and(|records| records.contains_key(&key)) {
        violations.push(Violation::new(NAME, facts.server_state_ms(delete.user), None, back("on the server")));
    }
    for (host, (user, state)) in &facts.snapshots {
        if *user == delete.user && state.records.contains_key(&key) {
            let place = format!("in the final state of {host}");
            violations.push(Violation::new(NAME, facts.snapshot_ms(host), Some(host), back(&place)));
        }
    }
    violations
}

/// The first read of the deleting device, after the delete was acknowledged, that still
/// shows the record.
fn shown_by_deleter(
    facts: &Facts<'_>,
    reads: &[ReadView<'_>],
    delete: &OpView<'_>,
    deleted_ms: u64,
    seen: &mut BTreeSet<(String, RecordKey)>,
) -> Option<Violation> {
    let key = delete.operation.key();
    let by_deleter = |r: &&ReadView<'_>| r.host == delete.host && r.user == delete.user;
    let read = reads.iter().filter(by_deleter).find(|r| r.t_ms > deleted_ms && r.records.contains_key(&key))?;
    seen.insert((read.host.to_owned(), key.clone())).then(|| {
        let details = format!(
            "{} still shows {key} after {} was acknowledged at {deleted_ms} ms{}",
            read.host,
            cite(delete),
            facts.lost_with_device(delete)
        );
        Violation::new(NAME, read.t_ms, Some(read.host), Details::from(details).op(delete.op).record(&key))
    })
}

/// On each device, records shown, then gone after a delete of them was invoked, then shown
/// again, while the same user is logged in (another user sees other records).
fn shown_after_gone(
    facts: &Facts<'_>,
    reads: &[ReadView<'_>],
    seen: &mut BTreeSet<(String, RecordKey)>,
) -> Vec<Violation> {
    let mut gone: BTreeMap<(&str, &str, &RecordKey), (u64, u64)> = BTreeMap::new();
    let mut shown: BTreeSet<(&str, &str, &RecordKey)> = BTreeSet::new();
    let mut violations = Vec::new();
    for read in reads {
        for key in read.records.keys() {
            if let Some((gone_ms, op)) = gone.remove(&(read.host, read.user, key)) {
                if seen.insert((read.host.to_owned(), key.clone())) {
                    let details = format!(
                        "{} shows {key} again; it had gone at {gone_ms} ms after op {op} (a delete of it)",
                        read.host
                    );
                    let details = Details::from(details).op(op).record(key);
                    violations.push(Violation::new(NAME, read.t_ms, Some(read.host), details));
                }
            }
            shown.insert((read.host, read.user, key));
        }
        let here =
            |(h, u, k): &&(&str, &str, &RecordKey)| *h == read.host && *u == read.user && !read.records.contains_key(k);
        let vanished: Vec<_> = shown.iter().filter(here).copied().collect();
        for (host, user, key) in vanished {
            let deleted = facts.deletes(key).find(|d| d.invoked_ms <= read.t_ms);
            if let Some(delete) = deleted {
                shown.remove(&(host, user, key));
                gone.insert((host, user, key), (read.t_ms, delete.op));
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, delete, records, task, Timeline, ALICE, BOB, DEVICE0, DEVICE1};
    use crate::state::UserRecords;
    use serde_json::json;

    fn with_t1() -> UserRecords {
        records(&[(&task("t1"), json!({"title": "title #1"}))])
    }

    fn deleted() -> Timeline {
        Timeline::new(&[ALICE, ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
            .read(DEVICE0, with_t1())
            .read(DEVICE1, with_t1())
            .at(20)
            .acked(DEVICE0, 2, delete(&task("t1")))
    }

    #[test]
    fn a_deleted_record_that_stays_gone_is_not_resurrected() {
        let history = deleted()
            .at(30)
            .read(DEVICE0, records(&[]))
            .read(DEVICE1, with_t1())
            .at(40)
            .read(DEVICE1, records(&[]))
            .at(900)
            .settle(&[(ALICE, records(&[]))])
            .build();
        assert_eq!(NoResurrection.check(&history), Check::ok(), "device1 may show t1 until it syncs");
    }

    #[test]
    fn a_deleted_record_back_on_the_server_and_devices_is_resurrected() {
        let history = deleted().at(900).settle(&[(ALICE, with_t1())]).build();
        let check = NoResurrection.check(&history);
        assert_eq!(check.violations.len(), 3, "the server and both devices: {check:?}");
        assert!(check.violations.iter().all(|v| v.details.contains("task/t1") && v.details.contains("op 2")));
    }

    #[test]
    fn the_deleting_device_showing_the_record_after_the_acknowledgement_resurrects_it() {
        let history = deleted().at(30).read(DEVICE0, with_t1()).build();
        let check = NoResurrection.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert_eq!((check.violations[0].t_ms, check.violations[0].host.as_deref()), (30, Some(DEVICE0)));
    }

    #[test]
    fn a_delete_lost_with_its_device_before_a_round_carried_it_says_so() {
        use crate::history::{EventKind, KillCause};
        let kill = EventKind::Kill { cause: KillCause::AtStep, step: Some(crate::Step::PushStarting) };
        let history = deleted().at(38).event(DEVICE0, kill).at(2_000).read(DEVICE0, with_t1()).build();
        let check = NoResurrection.check(&history);
        let details = &check.violations[0].details;
        assert!(details.contains("device0 was killed 18 ms after confirming it"), "{details}");
    }

    #[test]
    fn a_record_gone_after_a_delete_then_shown_again_is_resurrected_on_any_device() {
        let history = deleted().at(30).read(DEVICE1, records(&[])).at(40).read(DEVICE1, with_t1()).build();
        let check = NoResurrection.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let v = &check.violations[0];
        assert_eq!((v.t_ms, v.host.as_deref()), (40, Some(DEVICE1)));
        assert!(v.details.contains("gone at 30 ms after op 2"), "{}", v.details);
    }

    /// device1 shows t1, bob logs in on it (t1 is not his), device0 deletes t1, alice logs
    /// back in and device1 shows t1 until it syncs: t1 never went while alice was logged in.
    #[test]
    fn a_record_another_user_did_not_see_is_not_resurrected_when_its_user_comes_back() {
        let history = deleted()
            .at(30)
            .switch_user(DEVICE1, BOB)
            .read(DEVICE1, records(&[]))
            .at(40)
            .read(DEVICE0, records(&[]))
            .switch_user(DEVICE1, ALICE)
            .read(DEVICE1, with_t1())
            .at(50)
            .read(DEVICE1, records(&[]))
            .at(900)
            .settle(&[(ALICE, records(&[])), (BOB, records(&[]))])
            .build();
        let check = NoResurrection.check(&history);
        assert_eq!(check, Check::ok(), "judged per device and host, t1 went at bob's read and came back at alice's");
    }
}
