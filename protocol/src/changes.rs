//! What one write changes: register fields, counter increments, set adds and removes.

use crate::crdt::Tag;
use crate::record::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The changes one write makes to a record. A [`crate::Mutation`] carries them on the wire
/// (flattened into it); a client builds them with the methods and queues them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Register fields to set (`null` clears an optional field).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Value>,
    /// Counter fields to increment (negative to decrement).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub increments: BTreeMap<String, i64>,
    /// Set fields: elements to add. Each add is tagged with the writing mutation's key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_add: BTreeMap<String, BTreeSet<String>>,
    /// Set fields: elements to remove, each with the tags the writer had observed for it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_remove: BTreeMap<String, BTreeMap<String, BTreeSet<Tag>>>,
}

impl Changes {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a register field.
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }

    /// Adds `delta` to a counter field.
    pub fn increment(mut self, field: &str, delta: i64) -> Self {
        *self.increments.entry(field.to_owned()).or_default() += delta;
        self
    }

    /// Adds `element` to a set field.
    pub fn add(mut self, field: &str, element: &str) -> Self {
        self.set_add.entry(field.to_owned()).or_default().insert(element.to_owned());
        self
    }

    /// Removes `element` from a set field under the `observed` tags (a client fills these
    /// in from its local state when the write is made).
    pub fn remove_observed(mut self, field: &str, element: &str, observed: BTreeSet<Tag>) -> Self {
        self.set_remove.entry(field.to_owned()).or_default().insert(element.to_owned(), observed);
        self
    }

    /// Removes `element` from a set field; the observed tags are filled in later.
    pub fn remove(self, field: &str, element: &str) -> Self {
        self.remove_observed(field, element, BTreeSet::new())
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.increments.is_empty() && self.set_add.is_empty() && self.set_remove.is_empty()
    }

    /// Whether it touches a counter or a set (the parts that always merge).
    pub fn has_crdt_ops(&self) -> bool {
        !(self.increments.is_empty() && self.set_add.is_empty() && self.set_remove.is_empty())
    }

    /// Writes register field `name` into `record` (a `null` value removes it).
    pub fn apply_field(&self, record: &mut Record, name: &str) {
        match self.fields.get(name) {
            Some(Value::Null) | None => record.fields.remove(name),
            Some(value) => record.fields.insert(name.to_owned(), value.clone()),
        };
    }

    /// Applies every counter and set operation to `record`: increments count for
    /// `replica`, adds are tagged `tag` (the writing mutation's key).
    pub fn apply_crdt_ops(&self, record: &mut Record, replica: &str, tag: &str) {
        for (name, delta) in &self.increments {
            record.counters.entry(name.clone()).or_default().apply(replica, *delta, tag);
        }
        for (name, elements) in &self.set_add {
            let set = record.sets.entry(name.clone()).or_default();
            elements.iter().for_each(|e| set.add(e, tag));
        }
        for (name, removals) in &self.set_remove {
            let set = record.sets.entry(name.clone()).or_default();
            removals.iter().for_each(|(e, observed)| set.remove(e, observed));
        }
    }
}
