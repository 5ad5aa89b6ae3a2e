//! Stale overwrites: a register write that replaced a value its device never saw, under a
//! strategy that refuses stale writes, with nobody told.

use super::facts::{cite, written, Facts};
use super::Details;
use crate::history::OpView;
use crate::operation::RecordKey;
use protocol::{Entity, FieldKind, Strategy};
use serde_json::Value;
use std::collections::BTreeSet;

/// Under server-wins, field merge and user-prompted, of two writes to one field that did
/// not see each other the later to arrive is stale: it is refused, and its device shows a
/// conflict. So when the server ends with a text value written by B, every acknowledged
/// write A to that field is either seen by B (B's device showed A's value, or a value
/// written by a write that saw A, or A is an earlier write of B's own device), or some
/// device shows a conflict or failure on the record. Returns, for each A overwritten
/// silently, the host that made B and the details.
pub(super) fn silent_stale_overwrites<'a>(facts: &Facts<'a>) -> Vec<(&'a str, Details)> {
    let mut found = Vec::new();
    for records in facts.servers.values() {
        for (key, fields) in records.iter().filter(|(key, _)| refuses_stale(facts, key.entity)) {
            // Told at the end, or to a writer's user (who may have handed the device on).
            if facts.snapshots.values().any(|(_, state)| state.surfaced(key)) || facts.surfaced_by_a_writer(key) {
                continue;
            }
            for field in text_fields(key.entity) {
                let Some(kept) = fields.get(field) else { continue };
                found.extend(overwritten(facts, key, field, kept));
            }
        }
    }
    found
}

fn refuses_stale(facts: &Facts<'_>, entity: Entity) -> bool {
    matches!(facts.strategy(entity), Some(Strategy::ServerWins | Strategy::FieldMerge | Strategy::UserPrompted))
}

fn text_fields(entity: Entity) -> impl Iterator<Item = &'static str> {
    entity.fields().iter().filter(|f| matches!(f.kind, FieldKind::Text { .. })).map(|f| f.name)
}

/// The acknowledged writes to `field` of `key` that the writer of `kept` never saw.
fn overwritten<'a>(facts: &Facts<'a>, key: &RecordKey, field: &str, kept: &Value) -> Vec<(&'a str, Details)> {
    let writers: Vec<&OpView<'a>> = facts.on(key).filter(|op| written(op, field).is_some()).collect();
    let Some(winner) = writers.iter().find(|op| written(op, field) == Some(kept)) else { return Vec::new() };
    let seen = seen_by(&writers, winner, field);
    writers
        .iter()
        .filter(|op| op.acknowledged() && !seen.contains(&op.op) && written(op, field) != Some(kept))
        .map(|lost| {
            let details = format!(
                "{} set {key} {field} to {kept} without having seen {}, which set it to {}; the server kept {kept} \
                 and no device shows a conflict: a stale write overwrote silently",
                cite(winner),
                cite(lost),
                written(lost, field).map_or_else(String::new, Value::to_string),
            );
            (winner.host, Details::from(details).op(winner.op).op(lost.op).record(key))
        })
        .collect()
}

/// The operations `winner` saw on `field`: its own, earlier writes of its device, and,
/// transitively, the writers of the values they showed before writing.
fn seen_by(writers: &[&OpView<'_>], winner: &OpView<'_>, field: &str) -> BTreeSet<u64> {
    let mut seen = BTreeSet::from([winner.op]);
    let mut frontier = vec![winner];
    while let Some(op) = frontier.pop() {
        let shown = op.observed.get(field);
        for other in writers {
            let same_device_before =
                other.host == op.host && other.user == op.user && other.invoked_ms <= op.invoked_ms;
            let saw = same_device_before || (shown.is_some() && written(other, field) == shown);
            if saw && seen.insert(other.op) {
                frontier.push(other);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use crate::state::DeviceState;
    use protocol::Changes;
    use serde_json::json;

    /// Device 0 creates t1; devices 0 and 1 then both retitle it, neither seeing the other.
    fn concurrent_titles() -> Timeline {
        let timeline = created_under_server_wins().at(20);
        retitle(retitle(timeline, DEVICE0, 2, "title #2", "title #1"), DEVICE1, 3, "title #3", "title #1")
    }

    /// Device 0 creates t1, titled "title #1", under server-wins.
    fn created_under_server_wins() -> Timeline {
        let t1 = task("t1");
        Timeline::new(&[ALICE, ALICE]).strategy("task", Strategy::ServerWins).at(10).acked(
            DEVICE0,
            1,
            create(&t1, json!({"title": "title #1"})),
        )
    }

    /// `host` retitles t1 to `title` (operation `op`), having shown `seen`.
    fn retitle(timeline: Timeline, host: &str, op: u64, title: &str, seen: &str) -> Timeline {
        let change = update(&task("t1"), Changes::new().set("title", title));
        timeline.acked_seeing(host, op, change, json!({ "title": seen }))
    }

    fn facts_of(history: &crate::history::History) -> Vec<(&str, Details)> {
        silent_stale_overwrites(&Facts::of(history))
    }

    #[test]
    fn a_write_that_never_saw_the_value_it_replaced_is_a_silent_stale_overwrite() {
        let finals = records(&[(&task("t1"), json!({"title": "title #3"}))]);
        let history = concurrent_titles().at(900).settle(&[(ALICE, finals)]).build();
        let found = facts_of(&history);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.text.contains("op 3") && found[0].1.text.contains("op 2"), "{}", found[0].1.text);
        assert_eq!((&found[0].1.ops, &found[0].1.records), (&vec![3, 2], &vec![task("t1")]), "as data too");
    }

    #[test]
    fn a_conflict_shown_on_a_device_makes_it_open() {
        let finals = records(&[(&task("t1"), json!({"title": "title #3"}))]);
        let told = DeviceState { records: finals.clone(), conflicts: vec![task("t1")], ..DeviceState::default() };
        let history = concurrent_titles().at(900).server(ALICE, finals).snapshot(DEVICE0, told).build();
        assert!(facts_of(&history).is_empty());
    }

    #[test]
    fn last_write_wins_may_overwrite_what_it_never_saw() {
        let finals = records(&[(&task("t1"), json!({"title": "title #3"}))]);
        let history =
            concurrent_titles().strategy("task", Strategy::LastWriteWinsHlc).at(900).settle(&[(ALICE, finals)]);
        assert!(facts_of(&history.build()).is_empty());
    }

    #[test]
    fn a_write_that_saw_the_one_before_may_replace_it() {
        let timeline = retitle(created_under_server_wins().at(20), DEVICE0, 2, "title #2", "title #1");
        let timeline = retitle(timeline.at(30), DEVICE1, 3, "title #3", "title #2");
        let history = timeline.at(900).settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #3"}))]))]);
        assert!(facts_of(&history.build()).is_empty());
    }
}
