//! How a record's sync state is stored in its row.
//!
//! Up to schema 5 the `state` column holds the whole [`Record`] as JSON, and `server` the
//! server's copy, also whole, whenever the server has the record: two copies of every
//! value beside the `visible` one, and a write stamp of about 80 bytes per field. From
//! schema 6 (the `compact` format) the row keeps each value once:
//! - register values live in `visible` only;
//! - `state` holds the rest as a JSON array: `[version, created_at_ms, updated_at_ms,
//!   stamps, counters, sets, extra]`, where `stamps` groups the fields written by one
//!   mutation (`[[version, wall_ms, counter, node, [field, ...]], ...]`) and `extra` holds
//!   register values `visible` does not show (none, for records that validate);
//! - `server` is NULL when the server's copy equals the local state (no open write): the
//!   row's `version` column, above 0, says the server has it.
//!
//! A database upgraded to schema 6 keeps its old rows as they are; each is rewritten
//! compact at its next write. Reading accepts both: a whole record starts with `{`, a
//! compact one with `[`.

use crate::error::{corrupt, Result};
use protocol::{Entity, FieldKind, FieldStamp, Hlc, OrSet, PnCounter, Record};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The first schema version whose rows are stored compact.
pub(crate) const COMPACT_SINCE: u32 = 6;

/// A record's state without its entity, id, deletion flag and register values, which the
/// row holds in columns of their own.
#[derive(Serialize, Deserialize)]
struct Compact(
    u64,
    i64,
    i64,
    Vec<StampGroup>,
    BTreeMap<String, PnCounter>,
    BTreeMap<String, OrSet>,
    BTreeMap<String, Value>,
);

/// Fields that share one write stamp: `(version, wall_ms, counter, node, fields)`.
#[derive(Serialize, Deserialize)]
struct StampGroup(u64, i64, u32, String, Vec<String>);

/// Whether `entity` shows register field `name` in its visible fields.
pub(crate) fn shown_register(entity: Entity, name: &str) -> bool {
    entity.field(name).is_some_and(|def| !matches!(def.kind, FieldKind::Counter | FieldKind::Set))
}

/// The `state` column of `state`, in the format of a database at `schema`.
pub(crate) fn encode_state(state: &Record, schema: u32) -> String {
    if schema < COMPACT_SINCE {
        return serde_json::to_string(state).expect("records serialize");
    }
    let mut groups: Vec<StampGroup> = Vec::new();
    for (field, stamp) in &state.stamps {
        let hlc = &stamp.hlc;
        match groups
            .iter_mut()
            .find(|g| (g.0, g.1, g.2, g.3.as_str()) == (stamp.version, hlc.wall_ms, hlc.counter, &hlc.node))
        {
            Some(group) => group.4.push(field.clone()),
            None => {
                groups.push(StampGroup(stamp.version, hlc.wall_ms, hlc.counter, hlc.node.clone(), vec![field.clone()]))
            }
        }
    }
    let extra = state.fields.iter().filter(|(name, _)| !shown_register(state.entity, name));
    let compact = Compact(
        state.version,
        state.created_at_ms,
        state.updated_at_ms,
        groups,
        state.counters.clone(),
        state.sets.clone(),
        extra.map(|(name, value)| (name.clone(), value.clone())).collect(),
    );
    serde_json::to_string(&compact).expect("compact records serialize")
}

/// The record a row holds: `state` in either format, with the row's entity, id, deletion
/// flag and visible fields (the register values of a compact state).
pub(crate) fn decode_state(entity: Entity, id: &str, deleted: bool, visible: &str, state: &str) -> Result<Record> {
    if !state.starts_with('[') {
        return serde_json::from_str(state).map_err(corrupt("record state"));
    }
    let Compact(version, created_at_ms, updated_at_ms, groups, counters, sets, extra) =
        serde_json::from_str(state).map_err(corrupt("record state"))?;
    let visible: BTreeMap<String, Value> = serde_json::from_str(visible).map_err(corrupt("visible fields"))?;
    let mut fields: BTreeMap<String, Value> =
        visible.into_iter().filter(|(name, _)| shown_register(entity, name)).collect();
    fields.extend(extra);
    let mut stamps = BTreeMap::new();
    for StampGroup(version, wall_ms, counter, node, names) in groups {
        let stamp = FieldStamp { version, hlc: Hlc { wall_ms, counter, node } };
        stamps.extend(names.into_iter().map(|name| (name, stamp.clone())));
    }
    Ok(Record {
        entity,
        id: id.to_owned(),
        version,
        deleted,
        fields,
        counters,
        sets,
        stamps,
        created_at_ms,
        updated_at_ms,
    })
}

/// The `server` column of a row whose local state is `state`: NULL when the server never
/// had the record, and from schema 6 also when its copy equals the state.
pub(crate) fn encode_server(server: Option<&Record>, state: &Record, schema: u32) -> Option<String> {
    let server = server?;
    (schema < COMPACT_SINCE || server != state).then(|| serde_json::to_string(server).expect("records serialize"))
}

/// The server's copy of a row's record: the `server` column when it holds one, else the
/// local state when the server has the record (`version` above 0).
pub(crate) fn decode_server(server: Option<&str>, version: u64, state: &Record) -> Result<Option<Record>> {
    match server {
        Some(json) => Ok(Some(serde_json::from_str(json).map_err(corrupt("server record"))?)),
        None => Ok((version > 0).then(|| state.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task() -> Record {
        let mut record = Record::empty(Entity::Task, "t1");
        record.version = 9;
        record.created_at_ms = 100;
        record.updated_at_ms = 200;
        let stamp =
            |version, node: &str| FieldStamp { version, hlc: Hlc { wall_ms: 150, counter: 2, node: node.into() } };
        for (name, value, stamp) in [
            ("title", json!("Dig"), stamp(9, "a")),
            ("notes", json!("deep"), stamp(9, "a")),
            ("done", json!(true), stamp(4, "b")),
        ] {
            record.fields.insert(name.into(), value);
            record.stamps.insert(name.into(), stamp);
        }
        record.counters.entry("pomodoros".into()).or_default().p.insert("a".into(), 3);
        record.sets.entry("labels".into()).or_default().adds.entry("home".into()).or_default().insert("k1".into());
        record
    }

    fn round_trip(record: &Record, schema: u32) -> Record {
        let visible = serde_json::to_string(&record.visible()).unwrap();
        let state = encode_state(record, schema);
        decode_state(record.entity, &record.id, record.deleted, &visible, &state).unwrap()
    }

    #[test]
    fn a_record_reads_back_equal_from_either_format() {
        let mut record = task();
        assert_eq!(round_trip(&record, 5), record);
        assert_eq!(round_trip(&record, 6), record);
        record.deleted = true;
        record.fields.insert("not_declared".into(), json!(1));
        assert_eq!(round_trip(&record, 6), record, "a value visible does not show is kept apart");
    }

    #[test]
    fn the_compact_state_holds_no_register_value_and_one_stamp_per_write() {
        let state = encode_state(&task(), 6);
        assert!(!state.contains("Dig") && !state.contains("deep"), "{state}");
        assert_eq!(state.matches("150,2,").count(), 2, "two writes, two stamps: {state}");
        assert!(state.len() * 2 < serde_json::to_string(&task()).unwrap().len(), "{state}");
    }

    #[test]
    fn the_server_copy_is_stored_only_while_it_differs_from_the_state() {
        let server = task();
        let mut state = server.clone();
        assert_eq!(encode_server(Some(&server), &state, 6), None);
        assert_eq!(decode_server(None, 9, &state).unwrap(), Some(server.clone()));
        assert!(encode_server(Some(&server), &state, 5).is_some(), "schema 5 keeps both copies");
        state.fields.insert("title".into(), json!("Rake"));
        let stored = encode_server(Some(&server), &state, 6);
        assert_eq!(decode_server(stored.as_deref(), 9, &state).unwrap(), Some(server));
        assert_eq!(decode_server(None, 0, &state).unwrap(), None, "version 0: the server never had it");
    }
}
