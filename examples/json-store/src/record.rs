//! A record as both sides hold it, and what one write does to it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use syncsim::{Changes, Fields};

/// An observed-remove set: each element with the tags it was added under. A tag is the
/// idempotency key of the write that added the element; a remove cancels only the tags its
/// writer had seen, so an add made concurrently with a remove survives it.
pub(crate) type OrSet = BTreeMap<String, BTreeSet<String>>;

/// One record: register fields, counters and sets, or a tombstone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The server's change number of the record's last change: its place in pulls.
    #[serde(default)]
    pub(crate) seq: u64,
    /// The device whose write changed the record last: a write that replaces another
    /// device's change it had not seen met a conflict.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) writer: String,
    /// Soft-deleted. A tombstone syncs like any change and is never written again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deleted: bool,
    /// Text, boolean and reference fields: the last write to arrive wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) fields: BTreeMap<String, Value>,
    /// Counter fields: every increment adds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) counters: BTreeMap<String, i64>,
    /// Set fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) sets: BTreeMap<String, OrSet>,
}

impl Record {
    /// Applies the `changes` of the write whose idempotency key is `key`.
    pub(crate) fn change(&mut self, changes: &Changes, key: &str) {
        for (name, value) in &changes.fields {
            match value {
                Value::Null => self.fields.remove(name),
                value => self.fields.insert(name.clone(), value.clone()),
            };
        }
        for (name, delta) in &changes.increments {
            *self.counters.entry(name.clone()).or_default() += delta;
        }
        for (name, elements) in &changes.set_add {
            let set = self.sets.entry(name.clone()).or_default();
            for element in elements {
                set.entry(element.clone()).or_default().insert(key.to_owned());
            }
        }
        for (name, removals) in &changes.set_remove {
            let set = self.sets.entry(name.clone()).or_default();
            for (element, observed) in removals {
                if let Some(tags) = set.get_mut(element) {
                    tags.retain(|tag| !observed.contains(tag));
                    if tags.is_empty() {
                        set.remove(element);
                    }
                }
            }
        }
    }

    /// The tags under which `element` of set `field` is present: what a remove made now
    /// has seen.
    pub(crate) fn tags(&self, field: &str, element: &str) -> BTreeSet<String> {
        self.sets.get(field).and_then(|set| set.get(element)).cloned().unwrap_or_default()
    }

    /// What the user sees: register fields as they are, counters as numbers, sets as
    /// sorted arrays of their elements.
    pub(crate) fn visible(&self) -> Fields {
        let mut visible = self.fields.clone();
        visible.extend(self.counters.iter().map(|(name, value)| (name.clone(), Value::from(*value))));
        for (name, set) in &self.sets {
            visible.insert(name.clone(), set.keys().cloned().collect::<Vec<_>>().into());
        }
        visible
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_add_the_remover_had_not_seen_survives_the_remove() {
        let mut record = Record::default();
        record.change(&Changes::new().add("labels", "e1"), "k1");
        let seen = record.tags("labels", "e1");
        record.change(&Changes::new().add("labels", "e1"), "k2");
        record.change(&Changes::new().remove_observed("labels", "e1", seen), "k3");
        assert_eq!(record.visible()["labels"], json!(["e1"]), "k2 was added after the remove looked");
        record.change(&Changes::new().remove_observed("labels", "e1", record.tags("labels", "e1")), "k4");
        assert_eq!(record.visible()["labels"], json!([]));
    }

    #[test]
    fn counters_add_and_null_clears_a_field() {
        let mut record = Record::default();
        record.change(&Changes::new().set("notes", "n").increment("pomodoros", 2), "k1");
        record.change(&Changes::new().set("notes", Value::Null).increment("pomodoros", 3), "k2");
        assert_eq!(serde_json::to_value(record.visible()).unwrap(), json!({"pomodoros": 5}));
    }
}
