//! Read your writes: a device shows what its user confirmed, from then on.

use super::facts::{cite, register_writes, shown, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{Completion, History, OpView, ReadView};
use crate::operation::{Operation, RecordKey};

/// Catches a device that stops showing its own confirmed writes: after the app confirmed a
/// create, every later read of that device shows the record; after it confirmed a text
/// value, every later read showing the record shows that value.
///
/// A read may differ once something else could explain it: a delete of the record, or
/// another write of the same field (from any device, other than the device's own earlier
/// writes) invoked before the read; or the device surfaced the record as failed or in
/// conflict by the end of the run.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadYourWrites;

const NAME: &str = "read your writes";

impl Invariant for ReadYourWrites {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "after the app confirms a write, the same device shows it until something else could have replaced it"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let reads = history.reads();
        let mut violations = Vec::new();
        for write in &facts.operations {
            let Completion::Ok(confirmed_ms) = write.completion else { continue };
            if facts.surfaced_for(write) {
                continue;
            }
            // The same device, while the same user is logged in on it.
            let later: Vec<&ReadView<'_>> = reads
                .iter()
                .filter(|r| r.host == write.host && r.user == write.user && r.t_ms > confirmed_ms)
                .collect();
            violations.extend(record_missing(&facts, write, &later));
            violations.extend(values_missing(&facts, write, &later));
        }
        Check::found(violations)
    }
}

/// The first of `later` reads that does not show the record `write` created.
fn record_missing(facts: &Facts<'_>, write: &OpView<'_>, later: &[&ReadView<'_>]) -> Option<Violation> {
    let Operation::Create { .. } = write.operation else { return None };
    let key = write.operation.key();
    let read = later.iter().find(|r| !r.records.contains_key(&key) && !deleted_before(facts, &key, r.t_ms))?;
    let details = format!(
        "{} does not show {key}, which {} created and was acknowledged{}",
        read.host,
        cite(write),
        facts.lost_with_device(write)
    );
    Some(Violation::new(NAME, read.t_ms, Some(read.host), Details::from(details).op(write.op).record(&key)))
}

fn deleted_before(facts: &Facts<'_>, key: &RecordKey, t_ms: u64) -> bool {
    facts.deletes(key).any(|d| d.invoked_ms <= t_ms)
}

/// For each text field `write` sets, the first of `later` reads that shows the record with
/// another value while nothing else could have written one.
fn values_missing(facts: &Facts<'_>, write: &OpView<'_>, later: &[&ReadView<'_>]) -> Vec<Violation> {
    let key = write.operation.key();
    let mut violations = Vec::new();
    for (field, value) in register_writes(write).filter(|(_, v)| v.is_string()) {
        let stale = later.iter().find(|read| {
            let Some(fields) = read.records.get(&key) else { return false };
            fields.get(field) != Some(value) && !rewritten_before(facts, write, &key, field, read.t_ms)
        });
        if let Some(read) = stale {
            let details = format!(
                "{} shows {key} {field} as {} after {} set it to {value} and was acknowledged{}",
                read.host,
                shown(read.records[&key].get(field)),
                cite(write),
                facts.lost_with_device(write)
            );
            let details = Details::from(details).op(write.op).record(&key);
            violations.push(Violation::new(NAME, read.t_ms, Some(read.host), details));
        }
    }
    violations
}

/// Whether a write other than `write` and its own device's earlier ones, that may have
/// run, set `field` of `key` before `t_ms`.
fn rewritten_before(facts: &Facts<'_>, write: &OpView<'_>, key: &RecordKey, field: &str, t_ms: u64) -> bool {
    let earlier_here = |op: &OpView<'_>| {
        op.host == write.host && op.user == write.user && (op.invoked_ms, op.op) < (write.invoked_ms, write.op)
    };
    facts.writers(key, field).any(|(op, _)| op.op != write.op && !earlier_here(op) && op.invoked_ms <= t_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, delete, records, task, update, Timeline, ALICE, BOB, DEVICE0, DEVICE1};
    use protocol::Changes;
    use serde_json::json;

    fn titled(title: &str) -> crate::state::UserRecords {
        records(&[(&task("t1"), json!({ "title": title }))])
    }

    fn created() -> Timeline {
        Timeline::new(&[ALICE, ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
            .read(DEVICE0, titled("title #1"))
    }

    #[test]
    fn a_device_showing_its_own_writes_reads_them() {
        let history = created()
            .at(20)
            .acked(DEVICE0, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(30)
            .read(DEVICE0, titled("title #2"))
            .build();
        assert_eq!(ReadYourWrites.check(&history), Check::ok());
    }

    #[test]
    fn a_device_losing_its_own_create_does_not_read_its_writes() {
        let history = created().at(30).read(DEVICE0, records(&[])).build();
        let check = ReadYourWrites.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("does not show task/t1, which op 1"), "{check:?}");
    }

    #[test]
    fn a_device_showing_its_older_value_does_not_read_its_writes() {
        let history = created()
            .at(20)
            .acked(DEVICE0, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(30)
            .read(DEVICE0, titled("title #1"))
            .build();
        let check = ReadYourWrites.check(&history);
        assert_eq!(check.violations.len(), 1, "op 1 is op 2's own earlier write: it excuses nothing: {check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains(r#"title as "title #1" after op 2"#), "{details}");
    }

    #[test]
    fn another_device_writing_the_field_or_deleting_the_record_may_replace_a_write() {
        let history = created()
            .at(20)
            .acked(DEVICE1, 2, update(&task("t1"), Changes::new().set("title", "title #2")))
            .at(30)
            .read(DEVICE0, titled("title #2"))
            .acked(DEVICE1, 3, delete(&task("t1")))
            .at(40)
            .read(DEVICE0, records(&[]))
            .build();
        assert_eq!(ReadYourWrites.check(&history), Check::ok());
    }

    /// Alice retitles t1 on device0 and bob logs in on it: bob's reads are not alice's, so
    /// not showing her write is no violation; alice's, once she is back, must show it.
    #[test]
    fn a_write_is_read_back_by_its_user_on_the_device_not_by_the_next_user() {
        let switched = || {
            Timeline::new(&[ALICE, BOB])
                .at(10)
                .acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
                .at(20)
                .switch_user(DEVICE0, BOB)
                .read(DEVICE0, records(&[]))
                .at(30)
                .switch_user(DEVICE0, ALICE)
        };
        assert_eq!(ReadYourWrites.check(&switched().read(DEVICE0, titled("title #1")).build()), Check::ok());
        let forgotten = ReadYourWrites.check(&switched().read(DEVICE0, records(&[])).build());
        assert_eq!(forgotten.violations.len(), 1, "alice is back and t1 is gone: {forgotten:?}");
        assert_eq!(forgotten.violations[0].t_ms, 30);
    }
}
