//! Exactly once: one logical create gives one record, a mutation takes effect at most once.

use super::facts::{cite, counter, fields_of, increment, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{History, OpView};
use crate::operation::{Fields, Operation, RecordKey};
use crate::state::UserRecords;
use protocol::FieldKind;

/// Catches duplicates: a record whose id no create operation chose (the harness picks every
/// id, so such a record can only be a copy the implementation made, typically a create
/// replayed under a new id), and a counter the server holds above the sum of every increment
/// that may have taken effect (an increment applied twice, typically a retried push the
/// server did not recognise).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactlyOnce;

const NAME: &str = "exactly once";

impl Invariant for ExactlyOnce {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "every record comes from one create operation and no counter exceeds the increments that may have run"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let mut violations = Vec::new();
        for (user, records) in &facts.servers {
            let t_ms = facts.server_state_ms(user);
            let place = format!("the server's records of {user}");
            violations.extend(unknown_records(&facts, records, &place).map(|d| Violation::new(NAME, t_ms, None, d)));
            violations.extend(counters_above_increments(&facts, records).map(|d| Violation::new(NAME, t_ms, None, d)));
        }
        for (host, (_, state)) in &facts.snapshots {
            let t_ms = facts.snapshot_ms(host);
            let place = format!("the final state of {host}");
            let found = unknown_records(&facts, &state.records, &place);
            violations.extend(found.map(|d| Violation::new(NAME, t_ms, Some(host), d)));
        }
        Check::found(violations)
    }
}

/// Records of `records` that no create operation of their entity made.
fn unknown_records<'f>(
    facts: &'f Facts<'_>,
    records: &'f UserRecords,
    place: &'f str,
) -> impl Iterator<Item = Details> + 'f {
    records.iter().filter(|(key, _)| facts.creator(key).is_none()).map(move |(key, fields)| {
        let original = copied_from(facts, key, fields);
        let origin = original.map_or_else(String::new, |op| format!("; it copies {}", cite(op)));
        let details = Details::from(format!("{key} in {place} was made by no create operation: a duplicate{origin}"));
        details.record(key).ops(original.map(|op| op.op))
    })
}

/// The create whose text values the unknown record `key` carries, if one does: the record
/// it duplicates. Text values are unique per operation; references are not, so they are
/// left out.
fn copied_from<'f, 'a>(facts: &'f Facts<'a>, key: &RecordKey, fields: &Fields) -> Option<&'f OpView<'a>> {
    let is_text = |name: &str| key.entity.field(name).is_some_and(|def| matches!(def.kind, FieldKind::Text { .. }));
    let carries = |op: &&OpView<'_>| {
        let Operation::Create { changes, .. } = op.operation else { return false };
        changes.fields.iter().any(|(name, value)| is_text(name) && fields.get(name) == Some(value))
    };
    facts.operations.iter().filter(|op| op.operation.key().entity == key.entity).find(carries)
}

/// Counters of `records` above the sum of the positive increments that may have run on them.
fn counters_above_increments<'f>(facts: &'f Facts<'_>, records: &'f UserRecords) -> impl Iterator<Item = Details> + 'f {
    records.iter().flat_map(move |(key, fields)| {
        fields_of(key.entity, FieldKind::Counter).filter_map(move |field| {
            let value = counter(fields, field);
            let ops: Vec<_> = facts.on(key).filter(|op| op.maybe_applied() && increment(op, field) > 0).collect();
            let most: i64 = ops.iter().map(|op| increment(op, field)).sum();
            (value > most).then(|| {
                let listed: Vec<String> =
                    ops.iter().map(|op| format!("{} +{}", cite(op), increment(op, field))).collect();
                let listed = if listed.is_empty() { "none".to_owned() } else { listed.join(", ") };
                let text = format!(
                    "{key} {field} is {value} on the server, above {most}, the sum of the increments that may have \
                     run (applied twice?): {listed}"
                );
                Details::from(text).record(key).ops(ops.iter().map(|op| op.op))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, update, Timeline, ALICE, DEVICE0};
    use protocol::Changes;
    use serde_json::json;

    fn incremented_twice() -> Timeline {
        let t1 = task("t1");
        Timeline::new(&[ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&t1, json!({"title": "title #1"})))
            .acked(DEVICE0, 2, update(&t1, Changes::new().increment("pomodoros", 2)))
            .invoke(DEVICE0, 3, update(&t1, Changes::new().increment("pomodoros", 1)))
            .info(DEVICE0, 3)
    }

    #[test]
    fn a_counter_within_the_increments_that_may_have_run_is_exactly_once() {
        for value in [2, 3] {
            let finals = records(&[(&task("t1"), json!({"title": "title #1", "pomodoros": value}))]);
            let history = incremented_twice().at(900).settle(&[(ALICE, finals)]).build();
            assert_eq!(ExactlyOnce.check(&history), Check::ok(), "op 3's outcome is unknown: {value} is possible");
        }
    }

    #[test]
    fn a_counter_above_every_increment_was_applied_twice() {
        let finals = records(&[(&task("t1"), json!({"title": "title #1", "pomodoros": 5}))]);
        let history = incremented_twice().at(900).settle(&[(ALICE, finals)]).build();
        let check = ExactlyOnce.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("task/t1 pomodoros is 5") && details.contains("op 2") && details.contains("op 3"));
    }

    #[test]
    fn a_record_no_operation_created_is_a_duplicate_of_the_create_it_copies() {
        let finals =
            records(&[(&task("t1"), json!({"title": "title #1"})), (&task("copy"), json!({"title": "title #1"}))]);
        let history = incremented_twice().at(900).settle(&[(ALICE, finals)]).build();
        let check = ExactlyOnce.check(&history);
        assert_eq!(check.violations.len(), 2, "once on the server, once on device0: {check:?}");
        for v in &check.violations {
            assert!(v.details.contains("task/copy") && v.details.contains("op 1"), "{}", v.details);
        }
    }
}
