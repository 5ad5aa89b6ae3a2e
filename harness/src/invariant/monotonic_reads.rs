//! Monotonic reads: a device never shows a counter going back.

use super::facts::{counter, fields_of, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::History;
use crate::operation::RecordKey;
use protocol::FieldKind;
use std::collections::{BTreeMap, BTreeSet};

/// Catches a device that shows an older state after a newer one. The workload only ever
/// increments counters, so across one device's reads a counter of a record must never
/// decrease: if it does, the device showed a state and then one from before it (a stale
/// page applied over a fresher one, a rollback of local writes).
///
/// Not judged: counter fields that some operation decrements, and records the device
/// surfaced as failed or in conflict (a refused local write may be rolled back openly).
#[derive(Clone, Copy, Debug, Default)]
pub struct MonotonicReads;

const NAME: &str = "monotonic reads";

impl Invariant for MonotonicReads {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "a device never shows a counter lower than it showed before"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let decremented = decremented(&facts);
        // Per device and user: another user logged in on the device sees other records.
        let mut last: BTreeMap<(&str, &str, &RecordKey, &str), (u64, i64)> = BTreeMap::new();
        let mut reported = BTreeSet::new();
        let mut violations = Vec::new();
        for read in history.reads() {
            let told = |key: &RecordKey| {
                read.surfaced(key)
                    || facts.snapshots.get(read.host).is_some_and(|(u, s)| *u == read.user && s.surfaced(key))
            };
            for (key, fields) in read.records.iter().filter(|(key, _)| !told(key)) {
                for field in fields_of(key.entity, FieldKind::Counter) {
                    if decremented.get(key).is_some_and(|fields| fields.contains(field)) {
                        continue;
                    }
                    let value = counter(fields, field);
                    let before = last.insert((read.host, read.user, key, field), (read.t_ms, value));
                    let Some((before_ms, before_value)) = before.filter(|(_, v)| *v > value) else { continue };
                    if reported.insert((read.host, key, field)) {
                        let details = format!(
                            "{} shows {key} {field} as {value} after showing {before_value} at {before_ms} ms",
                            read.host
                        );
                        let details = Details::from(details).record(key);
                        violations.push(Violation::new(NAME, read.t_ms, Some(read.host), details));
                    }
                }
            }
        }
        Check::found(violations)
    }
}

/// The counters, by record, that some operation decrements: those may legitimately go down.
fn decremented<'f>(facts: &'f Facts<'_>) -> BTreeMap<RecordKey, BTreeSet<&'f str>> {
    let mut decremented: BTreeMap<RecordKey, BTreeSet<&str>> = BTreeMap::new();
    for op in &facts.operations {
        let Some(changes) = op.operation.changes() else { continue };
        for (field, _) in changes.increments.iter().filter(|(_, delta)| **delta < 0) {
            decremented.entry(op.operation.key()).or_default().insert(field);
        }
    }
    decremented
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use crate::state::UserRecords;
    use protocol::Changes;
    use serde_json::json;

    fn counted(pomodoros: i64) -> UserRecords {
        records(&[(&task("t1"), json!({"title": "title #1", "pomodoros": pomodoros}))])
    }

    fn incremented() -> Timeline {
        Timeline::new(&[ALICE, ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
            .acked(DEVICE0, 2, update(&task("t1"), Changes::new().increment("pomodoros", 2)))
            .read(DEVICE0, counted(2))
    }

    #[test]
    fn counters_that_only_grow_on_each_device_are_monotonic() {
        let history = incremented().at(20).read(DEVICE1, counted(0)).at(30).read(DEVICE0, counted(2)).build();
        assert_eq!(MonotonicReads.check(&history), Check::ok(), "each device is judged on its own reads");
    }

    #[test]
    fn a_counter_going_back_on_one_device_is_not_monotonic() {
        let history = incremented().at(30).read(DEVICE0, counted(0)).at(40).read(DEVICE0, counted(1)).build();
        let check = MonotonicReads.check(&history);
        assert_eq!(check.violations.len(), 1, "reported once per counter: {check:?}");
        let v = &check.violations[0];
        assert_eq!(v.t_ms, 30);
        assert!(v.details.contains("task/t1 pomodoros as 0 after showing 2 at 10 ms"), "{}", v.details);
    }

    #[test]
    fn a_counter_some_operation_decrements_may_go_back() {
        let history = incremented()
            .at(20)
            .acked(DEVICE1, 3, update(&task("t1"), Changes::new().increment("pomodoros", -1)))
            .at(30)
            .read(DEVICE0, counted(1))
            .build();
        assert_eq!(MonotonicReads.check(&history), Check::ok());
    }
}
