//! One write applied to a user's records: the same code on the device and on the server.

use serde::{Deserialize, Serialize};
use syncsim::{Operation, UserRecords};

/// A write as queued and sent: its idempotency key is made when the user acts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Queued {
    pub(crate) key: String,
    pub(crate) operation: Operation,
}

/// Applies `operation` to `records`: creates and updates set register fields and add to
/// counters; an update of a record that is gone does nothing; a delete removes it.
pub(crate) fn apply(records: &mut UserRecords, operation: &Operation) {
    let key = operation.key();
    let Some(changes) = operation.changes() else {
        records.remove(&key);
        return;
    };
    if matches!(operation, Operation::Update { .. }) && !records.contains_key(&key) {
        return;
    }
    let record = records.entry(key).or_default();
    record.extend(changes.fields.clone());
    for (field, delta) in &changes.increments {
        let now = record.get(field).and_then(|v| v.as_i64()).unwrap_or(0);
        record.insert(field.clone(), (now + delta).into());
    }
}
