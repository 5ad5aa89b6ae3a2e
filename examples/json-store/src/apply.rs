//! Applying one operation to a user's records, and the rules that refuse one. The server
//! applies pushed writes with them; the app applies its own writes with them to show them
//! before the server has answered.

use crate::record::Record;
use crate::validate::validate;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use syncsim::{FieldKind, Operation, RecordKey};

/// A user's records, tombstones included.
pub(crate) type Records = BTreeMap<RecordKey, Record>;

/// Applies `operation`, made under idempotency key `key`, and returns the record it
/// changed. A write to a deleted record changes nothing (the delete wins), nor does a
/// create of a record that exists.
pub(crate) fn apply<'r>(records: &'r mut Records, operation: &Operation, key: &str) -> Option<&'r mut Record> {
    let record = match operation {
        Operation::Create { .. } => match records.entry(operation.key()) {
            Entry::Vacant(vacant) => vacant.insert(Record::default()),
            Entry::Occupied(_) => return None,
        },
        Operation::Update { .. } | Operation::Delete { .. } => {
            records.get_mut(&operation.key()).filter(|record| !record.deleted)?
        }
    };
    match operation.changes() {
        Some(changes) => record.change(changes, key),
        None => *record = Record { deleted: true, ..Record::default() },
    }
    Some(record)
}

/// Why `operation` may not apply to `records`, if it may not: it is malformed, it creates
/// a record that exists, it writes to a record that never existed, or it names a parent
/// that does not exist or is deleted.
pub(crate) fn refusal(records: &Records, operation: &Operation) -> Option<String> {
    if let Err(reason) = validate(operation) {
        return Some(reason);
    }
    let key = operation.key();
    match (operation, records.get(&key)) {
        (Operation::Create { .. }, Some(_)) => Some(format!("{key} already exists")),
        (Operation::Update { .. } | Operation::Delete { .. }, None) => Some(format!("{key} does not exist")),
        _ => missing_parent(records, operation),
    }
}

/// The first reference field of `operation` that names a missing or deleted parent.
fn missing_parent(records: &Records, operation: &Operation) -> Option<String> {
    let entity = operation.key().entity;
    operation.changes()?.fields.iter().find_map(|(name, value)| {
        let FieldKind::Reference(parent) = entity.field(name)?.kind else { return None };
        let parent = RecordKey::new(parent, value.as_str()?);
        match records.get(&parent) {
            Some(record) if !record.deleted => None,
            Some(_) => Some(format!("{name} names {parent}, which is deleted")),
            None => Some(format!("{name} names {parent}, which does not exist")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncsim::{Changes, Entity};

    fn project() -> Operation {
        Operation::Create { entity: Entity::Project, id: "p1".into(), changes: Changes::new().set("name", "n") }
    }

    fn task() -> Operation {
        let changes = Changes::new().set("project_id", "p1").set("title", "t");
        Operation::Create { entity: Entity::Task, id: "t1".into(), changes }
    }

    #[test]
    fn a_child_of_a_deleted_parent_is_refused() {
        let mut records = Records::new();
        assert!(refusal(&records, &task()).unwrap().contains("does not exist"));
        apply(&mut records, &project(), "k1");
        assert_eq!(refusal(&records, &task()), None);
        apply(&mut records, &Operation::Delete { entity: Entity::Project, id: "p1".into() }, "k2");
        assert!(refusal(&records, &task()).unwrap().contains("is deleted"));
    }

    #[test]
    fn a_write_to_a_deleted_record_changes_nothing() {
        let mut records = Records::new();
        apply(&mut records, &project(), "k1");
        apply(&mut records, &Operation::Delete { entity: Entity::Project, id: "p1".into() }, "k2");
        let rename =
            Operation::Update { entity: Entity::Project, id: "p1".into(), changes: Changes::new().set("name", "m") };
        assert_eq!(refusal(&records, &rename), None, "the delete absorbs it");
        assert!(apply(&mut records, &rename, "k3").is_none());
        assert!(records[&rename.key()].deleted);
    }
}
