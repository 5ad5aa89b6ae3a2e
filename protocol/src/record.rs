//! A record as the server holds it and sends it.

use crate::crdt::{OrSet, PnCounter};
use crate::hlc::Hlc;
use crate::schema::{Entity, FieldKind};
use crate::version::REMOVED_PER_ELEMENT_SINCE;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// When a register field was last written: the change sequence number and the writer's
/// hybrid logical timestamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStamp {
    /// Server change sequence of the write (a per-field version).
    pub version: u64,
    /// Hybrid logical timestamp of the mutation that wrote it.
    pub hlc: Hlc,
}

/// The server's state of one record. Tombstones (`deleted`) are records like any other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The entity type.
    pub entity: Entity,
    /// Client-generated UUID.
    pub id: String,
    /// Server change sequence of the record's last change: its version and its place in
    /// the pull order.
    pub version: u64,
    /// Soft-delete flag. A deleted record never comes back.
    #[serde(default)]
    pub deleted: bool,
    /// Register fields (text, bool, reference).
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// Counter fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, PnCounter>,
    /// Set fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: BTreeMap<String, OrSet>,
    /// Per-register-field write stamps, for field merge and last-write-wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stamps: BTreeMap<String, FieldStamp>,
    /// Server time of creation, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Server time of the last change, ms since the Unix epoch.
    pub updated_at_ms: i64,
}

impl Record {
    /// An empty, not yet written record.
    pub fn empty(entity: Entity, id: impl Into<String>) -> Self {
        Self {
            entity,
            id: id.into(),
            version: 0,
            deleted: false,
            fields: BTreeMap::new(),
            counters: BTreeMap::new(),
            sets: BTreeMap::new(),
            stamps: BTreeMap::new(),
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    /// What a user sees of the record: register fields as they are, counters as numbers,
    /// sets as sorted arrays. Absent counters read 0 and absent sets read empty.
    pub fn visible(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for def in self.entity.fields() {
            let value = match def.kind {
                FieldKind::Counter => Value::from(self.counters.get(def.name).map_or(0, PnCounter::value)),
                FieldKind::Set => Value::from(self.sets.get(def.name).map(OrSet::elements).unwrap_or_default()),
                _ => match self.fields.get(def.name) {
                    Some(v) => v.clone(),
                    None => continue,
                },
            };
            out.insert(def.name.to_owned(), value);
        }
        out
    }

    /// The record as a client speaking protocol `version` receives it: without the fields
    /// (and their stamps) of later versions, and before version 3 with its sets' removed
    /// tags cancelled for every element ([`OrSet::cancel_everywhere`]).
    pub fn restrict_to(&mut self, version: u32) {
        let entity = self.entity;
        let known = |name: &String| entity.field_in(name, version).is_some();
        self.fields.retain(|name, _| known(name));
        self.counters.retain(|name, _| known(name));
        self.sets.retain(|name, _| known(name));
        self.stamps.retain(|name, _| known(name));
        if version < REMOVED_PER_ELEMENT_SINCE {
            self.sets.values_mut().for_each(OrSet::cancel_everywhere);
        }
    }

    /// The greatest write stamp on the record, if any: what a reader must observe so that
    /// its next write orders after everything it saw.
    pub fn max_stamp(&self) -> Option<&Hlc> {
        self.stamps.values().map(|s| &s.hlc).max()
    }
}
