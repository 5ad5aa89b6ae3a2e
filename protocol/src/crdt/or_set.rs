use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A unique tag for one add operation: the idempotency key of the mutation that added it.
pub type Tag = String;

/// An observed-remove set of strings: an element is present while some tag that added it
/// has not been removed. A remove only cancels the adds its issuer had observed, so an add
/// concurrent with a remove survives (add wins).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrSet {
    /// Live tags per element.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adds: BTreeMap<String, BTreeSet<Tag>>,
    /// Tags cancelled by a remove. Kept so that merges and late adds stay idempotent.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub removed: BTreeSet<Tag>,
}

impl OrSet {
    /// Adds `element` under the fresh tag `tag`. An add whose tag was already removed stays
    /// removed (the remove observed it).
    pub fn add(&mut self, element: &str, tag: &str) {
        if !self.removed.contains(tag) {
            self.adds.entry(element.to_owned()).or_default().insert(tag.to_owned());
        }
    }

    /// Removes the observed tags of `element`. Tags the remover had not observed survive.
    pub fn remove(&mut self, element: &str, observed: &BTreeSet<Tag>) {
        self.removed.extend(observed.iter().cloned());
        if let Some(tags) = self.adds.get_mut(element) {
            tags.retain(|t| !observed.contains(t));
            if tags.is_empty() {
                self.adds.remove(element);
            }
        }
    }

    /// The tags under which `element` is currently present (what a remover observes).
    pub fn tags(&self, element: &str) -> BTreeSet<Tag> {
        self.adds.get(element).cloned().unwrap_or_default()
    }

    /// The elements present, in order.
    pub fn elements(&self) -> Vec<String> {
        self.adds.keys().cloned().collect()
    }

    /// Whether `element` is present.
    pub fn contains(&self, element: &str) -> bool {
        self.adds.contains_key(element)
    }

    /// Least upper bound of two states: union of adds and of removes, removes applied.
    pub fn merge(&mut self, other: &Self) {
        self.removed.extend(other.removed.iter().cloned());
        for (element, tags) in &other.adds {
            self.adds.entry(element.clone()).or_default().extend(tags.iter().cloned());
        }
        let removed = &self.removed;
        self.adds.retain(|_, tags| {
            tags.retain(|t| !removed.contains(t));
            !tags.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_add_concurrent_with_a_remove_wins() {
        let mut base = OrSet::default();
        base.add("x", "t1");
        let observed = base.tags("x");
        let mut left = base.clone();
        left.remove("x", &observed);
        let mut right = base;
        right.add("x", "t2");
        left.merge(&right);
        assert_eq!(left.elements(), vec!["x".to_owned()], "t2 was not observed by the remove");
    }

    #[test]
    fn a_remove_of_every_observed_tag_removes_the_element() {
        let mut set = OrSet::default();
        set.add("x", "t1");
        set.add("x", "t2");
        set.remove("x", &set.tags("x"));
        assert!(!set.contains("x"));
        set.add("x", "t1");
        assert!(!set.contains("x"), "a replayed add of a removed tag must stay removed");
    }
}
