//! What a user does on a device: create, update or delete one record.

use protocol::{Changes, Entity};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// A record's visible fields: register values as they are, counters as numbers, sets as
/// sorted arrays (the shape of [`protocol::Record::visible`]).
pub type Fields = BTreeMap<String, Value>;

/// Which record: its entity and id. Written `entity/id` in histories, so that maps keyed
/// by it stay JSON objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    /// The entity type.
    pub entity: Entity,
    /// The record's id, chosen by the harness when the workload creates it.
    pub id: String,
}

impl RecordKey {
    /// The key of record `id` of `entity`.
    pub fn new(entity: Entity, id: impl Into<String>) -> Self {
        Self { entity, id: id.into() }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.entity, self.id)
    }
}

impl Serialize for RecordKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let (entity, id) = text
            .split_once('/')
            .and_then(|(e, id)| Some((Entity::parse(e)?, id)))
            .ok_or_else(|| serde::de::Error::custom(format!("record key `{text}` is not `entity/id`")))?;
        Ok(RecordKey::new(entity, id))
    }
}

/// One user operation. The harness chooses every created record's id (a UUID drawn from
/// the run's seed), so it can tell one logical create from a duplicate; an implementation
/// must create the record under exactly that id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Operation {
    /// Create record `id` with these fields.
    Create {
        /// The entity type.
        entity: Entity,
        /// The new record's id.
        id: String,
        /// Its initial fields (required fields included).
        changes: Changes,
    },
    /// Change some fields, counters or sets of an existing record.
    Update {
        /// The entity type.
        entity: Entity,
        /// The record.
        id: String,
        /// What to change.
        changes: Changes,
    },
    /// Delete a record (a soft delete: it must never come back).
    Delete {
        /// The entity type.
        entity: Entity,
        /// The record.
        id: String,
    },
}

impl Operation {
    /// The record the operation is about.
    pub fn key(&self) -> RecordKey {
        match self {
            Operation::Create { entity, id, .. }
            | Operation::Update { entity, id, .. }
            | Operation::Delete { entity, id } => RecordKey::new(*entity, id.clone()),
        }
    }

    /// The changes it makes, if it is not a delete.
    pub fn changes(&self) -> Option<&Changes> {
        match self {
            Operation::Create { changes, .. } | Operation::Update { changes, .. } => Some(changes),
            Operation::Delete { .. } => None,
        }
    }

    /// `create`, `update` or `delete`.
    pub fn action(&self) -> &'static str {
        match self {
            Operation::Create { .. } => "create",
            Operation::Update { .. } => "update",
            Operation::Delete { .. } => "delete",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action(), self.key())?;
        if let Some(changes) = self.changes() {
            let json = serde_json::to_string(changes).map_err(|_| fmt::Error)?;
            write!(f, " {json}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_round_trip_as_map_keys() {
        let mut map = BTreeMap::new();
        map.insert(RecordKey::new(Entity::Task, "a-1"), 1);
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"task/a-1":1}"#);
        assert_eq!(serde_json::from_str::<BTreeMap<RecordKey, i32>>(&json).unwrap(), map);
    }

    #[test]
    fn a_malformed_record_key_is_refused_with_its_text() {
        let err = serde_json::from_str::<RecordKey>(r#""widget/1""#).unwrap_err().to_string();
        assert!(err.contains("widget/1"), "{err}");
    }
}
