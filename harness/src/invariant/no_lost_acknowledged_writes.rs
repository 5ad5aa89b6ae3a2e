//! No lost acknowledged writes: what the app confirmed reaches the server, or loses openly.

use super::facts::{cite, register_writes, shown, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{History, OpView};
use crate::operation::{Fields, Operation, RecordKey};
use serde_json::Value;
use std::collections::BTreeSet;

/// Catches a write the app confirmed to its user that is silently gone after the final
/// phase: a created record missing from the server, or a text or reference field holding
/// neither the confirmed value nor a value some other write could legitimately have put
/// there.
///
/// A confirmed write may lose without a violation when its user was told (its device showed
/// them the record as failed or in conflict, at a read after the write or at the end), when
/// its user logged out of the device for good before they could be, when a delete of the
/// record may have run, or when another write that may have taken effect set the same field
/// and its value is the one the server kept (the declared strategy ordered it later).
/// Booleans are not judged: their values are not unique, so the history cannot tell whose
/// write survived.
///
/// When the client declares that it shows the writes a delete overtook
/// ([`crate::ClientCapabilities::overtaken_writes`]), a delete excuses an edit only where it
/// may have come after it: an edit whose device made no request between the edit and the
/// moment another device's delete of the record was surely on the server (that device ended
/// a round with nothing pending) reached the server after the delete or never, and is lost
/// unless its user was told. A client that drops its pending edits in silence when it pulls
/// the tombstone is caught here.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLostAcknowledgedWrites;

const NAME: &str = "no lost acknowledged writes";

impl Invariant for NoLostAcknowledgedWrites {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Eventually
    }

    fn description(&self) -> &'static str {
        "every write the app confirmed is on the server after the final phase, overridden by a later write, \
         or surfaced to the user"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let end = facts.end_ms();
        let mut violations = Vec::new();
        for user in facts.users().into_iter().filter(|u| !facts.servers.contains_key(u)) {
            let details = format!("the server never reported the final records of {user}: nothing can be verified");
            violations.push(Violation::new(NAME, end, None, details));
        }
        let mut missing = BTreeSet::new();
        for op in facts.operations.iter().filter(|op| op.acknowledged()) {
            let Some(server) = facts.servers.get(op.user) else { continue };
            let key = op.operation.key();
            // Told, or its user left the device for good before they could be.
            if facts.surfaced_for(op) || facts.left_for_good(op) {
                continue;
            }
            let lost: Vec<Details> = match server.get(&key) {
                Some(fields) => lost_values(&facts, op, &key, fields),
                // Each write on its own: a delete may have overridden one and overtaken another.
                None if facts.deletes(&key).next().is_some() => overtaken(&facts, op, &key).into_iter().collect(),
                // Once per record: every later write to it is lost with it.
                None if missing.insert(key.clone()) => missing_record(&facts, op, &key).into_iter().collect(),
                None => Vec::new(),
            };
            violations.extend(lost.into_iter().map(|details| Violation::new(NAME, end, Some(op.host), details)));
        }
        Check::found(violations)
    }
}

/// The text and reference values acknowledged `op` wrote that the server's `fields` of
/// its record silently lack.
fn lost_values(facts: &Facts<'_>, op: &OpView<'_>, key: &RecordKey, fields: &Fields) -> Vec<Details> {
    register_writes(op)
        .filter(|(_, value)| !matches!(value, Value::Bool(_) | Value::Null))
        .filter_map(|(field, value)| lost_value(facts, op, key, field, value, fields.get(field)))
        .collect()
}

/// What to report when the record acknowledged `op` wrote is not on the server, and no
/// delete of it may have run.
fn missing_record(facts: &Facts<'_>, op: &OpView<'_>, key: &RecordKey) -> Option<Details> {
    let what = match op.operation {
        Operation::Create { .. } => "created",
        _ => "wrote to",
    };
    let text = format!(
        "{} {what} {key} and was acknowledged, but {key} is not on the server and no delete of it may have run{}",
        cite(op),
        facts.lost_with_device(op)
    );
    Some(Details::from(text).op(op.op).record(key))
}

/// What to report when acknowledged `op` is lost to a delete that overtook it, on a client
/// that declares it shows such writes ([`crate::ClientCapabilities::overtaken_writes`]) and
/// did not: a delete of `key` by another device was surely on the server before the first
/// request `op`'s device made after the write, so the write can only have arrived after it
/// (the server kept the record deleted) or never, and the user was not told. A delete that
/// may have come after the write overrides it, as any later write may.
fn overtaken(facts: &Facts<'_>, op: &OpView<'_>, key: &RecordKey) -> Option<Details> {
    // A create was on the server before another device could delete its record.
    let judged = matches!(op.operation, Operation::Update { .. });
    if !facts.history.header.overtaken_writes_surfaced || !judged {
        return None;
    }
    let carried_ms = facts.first_request_ms(op.host, op.invoked_ms)?;
    let (delete, settled_ms) = facts
        .deletes(key)
        .filter(|delete| delete.host != op.host)
        .filter_map(|delete| Some((delete, facts.settled_ms(delete)?)))
        .filter(|(_, settled_ms)| *settled_ms < carried_ms)
        .min_by_key(|(_, settled_ms)| *settled_ms)?;
    let text = format!(
        "{} wrote to {key} and was acknowledged; {} was on the server by {:.3}s ({} had synced with nothing \
         pending), before the first request of {} after the write ({:.3}s): the write reached the server after the \
         delete or never, {key} is not on the server, and {} never showed the user that its write was lost, though \
         its client declares it does{}",
        cite(op),
        cite(delete),
        settled_ms as f64 / 1000.0,
        delete.host,
        op.host,
        carried_ms as f64 / 1000.0,
        op.host,
        facts.lost_with_device(op)
    );
    Some(Details::from(text).op(op.op).ops([delete.op]).record(key))
}

/// What to report when `field` of `key` does not hold `value`, which `op` wrote, unless
/// another write that may have run put the server's value there.
fn lost_value(
    facts: &Facts<'_>,
    op: &OpView<'_>,
    key: &RecordKey,
    field: &str,
    value: &Value,
    kept: Option<&Value>,
) -> Option<Details> {
    if kept == Some(value) {
        return None;
    }
    let kept_or_null = kept.unwrap_or(&Value::Null);
    let others: Vec<_> = facts.writers(key, field).filter(|(other, _)| other.op != op.op).collect();
    if others.iter().any(|(_, v)| *v == kept_or_null) {
        return None;
    }
    let involved = Details::default().op(op.op).ops(others.iter().map(|(other, _)| other.op)).record(key);
    let others = others.iter().map(|(other, v)| format!("{} wrote {v}", cite(other))).collect::<Vec<_>>();
    let others = if others.is_empty() { "no other write to it may have run".to_owned() } else { others.join(", ") };
    let text = format!(
        "{} set {key} {field} to {value} and was acknowledged, but on the server it is {}; {others}{}",
        cite(op),
        shown(kept),
        facts.lost_with_device(op)
    );
    Some(Details { text, ..involved })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, delete, records, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use crate::state::DeviceState;
    use protocol::Changes;
    use serde_json::json;

    fn created() -> Timeline {
        Timeline::new(&[ALICE, ALICE]).at(10).acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
    }

    #[test]
    fn an_acknowledged_create_missing_from_the_server_is_lost_once() {
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(900)
            .settle(&[(ALICE, records(&[]))])
            .build();
        let check = NoLostAcknowledgedWrites.check(&history);
        assert_eq!(check.violations.len(), 1, "op 2 is lost with the record, not reported again: {check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("op 1") && details.contains("task/t1"), "{details}");
    }

    #[test]
    fn a_create_lost_with_its_device_before_any_round_finished_says_so() {
        use crate::history::{EventKind, KillCause};
        let kill = EventKind::Kill { cause: KillCause::AtStep, step: Some(crate::Step::PushStarting) };
        let history = created()
            .at(15)
            .event(DEVICE0, EventKind::SyncStart { round: 1 })
            .at(310)
            .event(DEVICE0, kill)
            .at(900)
            .settle(&[(ALICE, records(&[]))])
            .build();
        let details = &NoLostAcknowledgedWrites.check(&history).violations[0].details;
        assert!(details.contains("device0 was killed 300 ms after confirming it"), "{details}");
        let synced = created()
            .at(15)
            .event(DEVICE0, EventKind::SyncStart { round: 1 })
            .event(DEVICE0, EventKind::SyncOk { round: 1, outcome: Default::default() })
            .at(310)
            .event(DEVICE0, EventKind::Kill { cause: KillCause::Random, step: None })
            .at(900)
            .settle(&[(ALICE, records(&[]))])
            .build();
        let details = &NoLostAcknowledgedWrites.check(&synced).violations[0].details;
        assert!(!details.contains("killed"), "a round finished after it: the server had its chance: {details}");
    }

    #[test]
    fn an_acknowledged_create_may_be_gone_when_a_delete_of_it_may_have_run() {
        let history = created()
            .at(20)
            .invoke(DEVICE1, 2, delete(&task("t1")))
            .info(DEVICE1, 2)
            .at(900)
            .settle(&[(ALICE, records(&[]))])
            .build();
        assert_eq!(NoLostAcknowledgedWrites.check(&history), Check::ok());
    }

    #[test]
    fn a_disjoint_field_edit_missing_from_the_server_is_lost() {
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("notes", "notes #2")))
            .at(900)
            .settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #1"}))]))])
            .build();
        let check = NoLostAcknowledgedWrites.check(&history);
        assert_eq!(check.violations.len(), 1, "no other write touched notes: {check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains(r#"op 2 (update task/t1 on device1) set task/t1 notes to "notes #2""#), "{details}");
        assert!(details.contains("on the server it is absent"), "{details}");
    }

    #[test]
    fn a_title_may_lose_to_another_write_of_the_same_field() {
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(900)
            .settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #2"}))]))])
            .build();
        assert_eq!(NoLostAcknowledgedWrites.check(&history), Check::ok(), "op 1's title was overwritten by op 2");
    }

    #[test]
    fn a_value_nobody_wrote_does_not_excuse_a_lost_title() {
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(900)
            .settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "garbage"}))]))])
            .build();
        assert_eq!(NoLostAcknowledgedWrites.check(&history).violations.len(), 2, "both titles are lost");
    }

    #[test]
    fn a_write_surfaced_as_a_conflict_may_lose() {
        let conflicted = DeviceState { conflicts: vec![task("t1")], ..DeviceState::default() };
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("notes", "notes #2")))
            .at(900)
            .server(ALICE, records(&[(&task("t1"), json!({"title": "title #1"}))]))
            .snapshot(DEVICE1, conflicted)
            .build();
        assert_eq!(NoLostAcknowledgedWrites.check(&history), Check::ok());
    }

    /// device1 creates t1 and device0 edits it (op 2, at 20 ms) while device1 deletes it
    /// (op 3, at 30 ms) and ends a round with nothing pending at 200 ms.
    fn deleted_while_edited() -> Timeline {
        let t1 = task("t1");
        Timeline::new(&[ALICE, ALICE])
            .overtaken_writes_surfaced()
            .at(10)
            .acked(DEVICE1, 1, create(&t1, json!({"title": "title #1"})))
            .at(20)
            .acked(DEVICE0, 2, update(&t1, Changes::new().set("notes", "notes #2")))
            .at(30)
            .acked(DEVICE1, 3, delete(&t1))
            .at(100)
            .sync_start(DEVICE1, 1)
            .at(200)
            .synced(DEVICE1, 1, DeviceState::default())
    }

    /// [`deleted_while_edited`], then device0's first request after its edit reaches the
    /// server at `first_request_ms`; the run ends with t1 gone, device0 showing what
    /// `device0` says.
    fn edited_while_deleted(first_request_ms: u64, device0: DeviceState) -> Timeline {
        deleted_while_edited()
            .at(first_request_ms)
            .sync_start(DEVICE0, 1)
            .request(DEVICE0, protocol::PULL_PATH)
            .request(DEVICE0, protocol::PUSH_PATH)
            .at(first_request_ms + 50)
            .synced(DEVICE0, 1, device0)
            .at(900)
            .settle(&[(ALICE, records(&[]))])
    }

    #[test]
    fn a_write_a_delete_overtook_is_lost_unless_the_user_is_told() {
        let check = NoLostAcknowledgedWrites.check(&edited_while_deleted(300, DeviceState::default()).build());
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("op 2 (update task/t1 on device0)"), "{details}");
        assert!(details.contains("op 3 (delete task/t1 on device1) was on the server by 0.200s"), "{details}");
        assert!(details.contains("never showed the user"), "{details}");
        let told = DeviceState { conflicts: vec![task("t1")], ..DeviceState::default() };
        let check = NoLostAcknowledgedWrites.check(&edited_while_deleted(300, told).build());
        assert_eq!(check, Check::ok(), "device0 showed the conflict after the round");
    }

    #[test]
    fn a_write_that_may_have_reached_the_server_before_the_delete_may_lose_to_it() {
        let check = NoLostAcknowledgedWrites.check(&edited_while_deleted(150, DeviceState::default()).build());
        assert_eq!(check, Check::ok(), "device0 pushed at 150 ms, before the delete was surely applied");
    }

    #[test]
    fn a_write_a_delete_overtook_may_lose_in_silence_when_the_client_does_not_declare_otherwise() {
        let mut history = edited_while_deleted(300, DeviceState::default()).build();
        history.header.overtaken_writes_surfaced = false;
        assert_eq!(NoLostAcknowledgedWrites.check(&history), Check::ok(), "the delete wins, as before");
    }

    /// device0's edit is overtaken while bob uses device0: alice, who made it, is told at
    /// her next login, which the run may not have; when she does come back, she must be.
    #[test]
    fn a_write_whose_user_left_the_device_for_good_waits_for_their_next_login() {
        use crate::invariant::fixture::BOB;
        let away = |back: bool, again: bool| {
            let mut timeline = deleted_while_edited()
                .at(250)
                .switch_user(DEVICE0, BOB)
                .at(300)
                .sync_start(DEVICE0, 1)
                .request(DEVICE0, protocol::PUSH_PATH)
                .at(350)
                .synced(DEVICE0, 1, DeviceState::default());
            if back {
                timeline = timeline.at(600).switch_user(DEVICE0, ALICE).read(DEVICE0, records(&[]));
            }
            if again {
                timeline = timeline.at(700).switch_user(DEVICE0, BOB);
            }
            timeline.at(900).settle(&[(ALICE, records(&[])), (BOB, records(&[]))]).build()
        };
        assert_eq!(NoLostAcknowledgedWrites.check(&away(false, false)), Check::ok(), "alice never came back");
        assert_eq!(NoLostAcknowledgedWrites.check(&away(true, false)).violations.len(), 1, "alice came back, untold");
        // Whether she should have been told at 600 ms depends on when the answer came, which
        // the history does not say: the last time she left decides.
        assert_eq!(NoLostAcknowledgedWrites.check(&away(true, true)), Check::ok(), "alice left again for good");
    }

    #[test]
    fn a_missing_server_state_is_reported_once_per_user() {
        let history = created().build();
        let check = NoLostAcknowledgedWrites.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("alice"), "{check:?}");
    }
}
