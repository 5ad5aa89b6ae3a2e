//! Declared strategy honoured: counter and set fields equal the merge of every operation,
//! and strategies that refuse stale writes never let one overwrite silently.

use super::facts::{adds, cite, counter, fields_of, increment, removes, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{Completion, History, OpView};
use crate::operation::{Fields, RecordKey};
use protocol::FieldKind;
use serde_json::Value;
use std::collections::BTreeSet;

/// Catches CRDT fields that do not merge: whatever the entity's register strategy, counters
/// and sets must combine every write. A counter on the server must equal the sum of the
/// acknowledged increments plus some of the increments whose outcome is unknown; a set
/// must hold every element an acknowledged write added and no write removed, and nothing
/// that no write added.
///
/// Records that a writing device surfaced as failed or in conflict are not judged: part of
/// their writes may have been refused openly.
///
/// Register fields of entities whose strategy refuses stale writes (server-wins, field
/// merge, user-prompted) are judged too: a text value on the server written by a write
/// that never saw an acknowledged write to the same field must come with a conflict shown
/// on some device, since one of the two was stale when it arrived (see
/// `stale_overwrite.rs`). Other register rules are judged by
/// [`super::NoLostAcknowledgedWrites`] and [`super::Causality`].
#[derive(Clone, Copy, Debug, Default)]
pub struct StrategyHonoured;

const NAME: &str = "declared strategy honoured";

impl Invariant for StrategyHonoured {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Eventually
    }

    fn description(&self) -> &'static str {
        "counters and sets merge every write; under server-wins, field merge and user-prompted no stale \
         write overwrites silently"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let end = facts.end_ms();
        let mut violations = Vec::new();
        for records in facts.servers.values() {
            for (key, fields) in records.iter().filter(|(key, _)| !facts.surfaced_by_a_writer(key)) {
                let counters =
                    fields_of(key.entity, FieldKind::Counter).filter_map(|f| counter_off(&facts, key, fields, f));
                let sets = fields_of(key.entity, FieldKind::Set).flat_map(|f| set_off(&facts, key, fields, f));
                violations.extend(counters.chain(sets).map(|details| Violation::new(NAME, end, None, details)));
            }
        }
        for (host, details) in super::stale_overwrite::silent_stale_overwrites(&facts) {
            violations.push(Violation::new(NAME, end, Some(host), details));
        }
        Check::found(violations)
    }
}

/// What is wrong with counter `field` of `key`, if its value is not the sum of the
/// acknowledged increments plus some of the unknown ones.
fn counter_off(facts: &Facts<'_>, key: &RecordKey, fields: &Fields, field: &str) -> Option<Details> {
    let value = counter(fields, field);
    let touching: Vec<&OpView<'_>> = facts.on(key).filter(|op| increment(op, field) != 0).collect();
    let acknowledged: i64 = touching.iter().filter(|op| op.acknowledged()).map(|op| increment(op, field)).sum();
    let unknown: Vec<i64> =
        touching.iter().filter(|op| op.completion == Completion::Unknown).map(|op| increment(op, field)).collect();
    let lowest = acknowledged + unknown.iter().filter(|d| **d < 0).sum::<i64>();
    let highest = acknowledged + unknown.iter().filter(|d| **d > 0).sum::<i64>();
    if (lowest..=highest).contains(&value) {
        return None;
    }
    let listed = |ops: Vec<String>| if ops.is_empty() { "none".to_owned() } else { ops.join(", ") };
    let applied: Vec<&&OpView<'_>> = touching.iter().filter(|op| op.maybe_applied()).collect();
    let involved = Details::default().ops(applied.iter().map(|op| op.op)).record(key);
    let ops = applied.iter().map(|op| format!("{} {:+} ({})", cite(op), increment(op, field), outcome(op)));
    let text = format!(
        "{key} {field} is {value} on the server, outside {lowest}..={highest}: increments {}",
        listed(ops.collect())
    );
    Some(Details { text, ..involved })
}

fn outcome(op: &OpView<'_>) -> &'static str {
    if op.acknowledged() {
        "acknowledged"
    } else {
        "unknown"
    }
}

/// What is wrong with set `field` of `key`: acknowledged elements missing, and elements no
/// write added.
fn set_off(facts: &Facts<'_>, key: &RecordKey, fields: &Fields, field: &str) -> Vec<Details> {
    let present: BTreeSet<&str> =
        fields.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let applied: Vec<&OpView<'_>> = facts.on(key).filter(|op| op.maybe_applied()).collect();
    let added: BTreeSet<&str> = applied
        .iter()
        .filter_map(|op| op.operation.changes()?.set_add.get(field))
        .flatten()
        .map(String::as_str)
        .collect();
    let mut wrong = Vec::new();
    for element in added.iter().filter(|e| !present.contains(**e)) {
        let removed = applied.iter().any(|op| removes(op, field, element));
        let adders: Vec<&&OpView<'_>> =
            applied.iter().filter(|op| op.acknowledged() && adds(op, field, element)).collect();
        if !removed && !adders.is_empty() {
            let by: Vec<String> = adders.iter().map(|op| cite(op)).collect();
            let text = format!("{key} {field} lacks {element:?}, added by {} and removed by no write", by.join(", "));
            wrong.push(Details::from(text).ops(adders.iter().map(|op| op.op)).record(key));
        }
    }
    for element in present.iter().filter(|e| !added.contains(**e)) {
        let text = format!("{key} {field} holds {element:?}, which no write that may have run added");
        wrong.push(Details::from(text).record(key));
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use protocol::Changes;
    use serde_json::json;

    fn edited() -> Timeline {
        let t1 = task("t1");
        Timeline::new(&[ALICE, ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&t1, json!({"title": "title #1"})))
            .acked(DEVICE0, 2, update(&t1, Changes::new().increment("pomodoros", 2).add("labels", "e1")))
            .acked(DEVICE1, 3, update(&t1, Changes::new().increment("pomodoros", 1).add("labels", "e2")))
            .invoke(DEVICE1, 4, update(&t1, Changes::new().increment("pomodoros", 3).add("labels", "e3")))
            .info(DEVICE1, 4)
            .invoke(DEVICE1, 5, update(&t1, Changes::new().add("labels", "e4")))
            .fail(DEVICE1, 5)
    }

    fn ending_with(pomodoros: i64, labels: &[&str]) -> crate::history::History {
        let t1 = json!({"title": "title #1", "pomodoros": pomodoros, "labels": labels});
        edited().at(900).settle(&[(ALICE, records(&[(&task("t1"), t1)]))]).build()
    }

    #[test]
    fn counters_and_sets_holding_every_acknowledged_write_honour_the_strategy() {
        assert_eq!(StrategyHonoured.check(&ending_with(3, &["e1", "e2"])), Check::ok());
        assert_eq!(StrategyHonoured.check(&ending_with(6, &["e1", "e2", "e3"])), Check::ok(), "op 4 may have run");
    }

    #[test]
    fn a_counter_missing_an_acknowledged_increment_breaks_the_merge() {
        let check = StrategyHonoured.check(&ending_with(2, &["e1", "e2"]));
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(
            details.contains("pomodoros is 2") && details.contains("3..=6") && details.contains("op 3"),
            "{details}"
        );
    }

    #[test]
    fn a_set_losing_an_acknowledged_add_or_holding_a_failed_one_breaks_the_merge() {
        let check = StrategyHonoured.check(&ending_with(3, &["e1", "e4"]));
        let details: Vec<String> = check.violations.into_iter().map(|v| v.details).collect();
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(details[0].contains(r#"lacks "e2", added by op 3"#), "{details:?}");
        assert!(details[1].contains(r#"holds "e4""#), "op 5 failed: {details:?}");
    }

    #[test]
    fn an_element_removed_by_a_write_that_may_have_run_may_be_gone() {
        let history = edited()
            .at(20)
            .invoke(DEVICE0, 6, update(&task("t1"), Changes::new().remove("labels", "e2")))
            .info(DEVICE0, 6)
            .at(900)
            .settle(&[(
                ALICE,
                records(&[(&task("t1"), json!({"title": "title #1", "pomodoros": 3, "labels": ["e1"]}))]),
            )])
            .build();
        assert_eq!(StrategyHonoured.check(&history), Check::ok());
    }
}
