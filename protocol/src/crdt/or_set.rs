use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A unique tag for one add operation: the idempotency key of the mutation that added it.
/// One mutation may add several elements, so a tag names an add only with its element.
pub type Tag = String;

/// The key of [`OrSet::removed`] under which tags cancelled for every element are kept:
/// protocols 1 and 2 list cancelled tags without their element. No element is empty.
pub const EVERY_ELEMENT: &str = "";

/// An observed-remove set of strings: an element is present while some tag that added it
/// has not been removed from it. A remove only cancels the adds its issuer had observed, so
/// an add concurrent with a remove survives (add wins).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrSet {
    /// Live tags per element.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adds: BTreeMap<String, BTreeSet<Tag>>,
    /// Tags cancelled by a remove, per element, kept so that merges and late adds stay
    /// idempotent; those under [`EVERY_ELEMENT`] are cancelled for every element. On the
    /// wire (protocol 3) an object from element to tags; a plain array of tags, cancelled
    /// for every element, is what protocols 1 and 2 carry (see [`OrSet::cancel_everywhere`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "wire")]
    pub removed: BTreeMap<String, BTreeSet<Tag>>,
}

impl OrSet {
    /// Adds `element` under the fresh tag `tag`. An add whose tag was already removed from
    /// `element` stays removed (the remove observed it).
    pub fn add(&mut self, element: &str, tag: &str) {
        if !self.is_removed(element, tag) {
            self.adds.entry(element.to_owned()).or_default().insert(tag.to_owned());
        }
    }

    /// Removes the observed tags of `element`. Tags the remover had not observed survive,
    /// and so do the same tags on other elements.
    pub fn remove(&mut self, element: &str, observed: &BTreeSet<Tag>) {
        if observed.is_empty() {
            return;
        }
        self.removed.entry(element.to_owned()).or_default().extend(observed.iter().cloned());
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
        for (element, tags) in &other.removed {
            self.removed.entry(element.clone()).or_default().extend(tags.iter().cloned());
        }
        for (element, tags) in &other.adds {
            self.adds.entry(element.clone()).or_default().extend(tags.iter().cloned());
        }
        let removed = &self.removed;
        let everywhere = removed.get(EVERY_ELEMENT);
        self.adds.retain(|element, tags| {
            let here = removed.get(element);
            tags.retain(|t| !here.is_some_and(|r| r.contains(t)) && !everywhere.is_some_and(|r| r.contains(t)));
            !tags.is_empty()
        });
    }

    /// The set as protocols 1 and 2 carry it: every cancelled tag listed once, without its
    /// element, so cancelled for every element. Safe for the elements present (a tag live on
    /// an element was never removed from it, and stays live), coarser for late adds: an add
    /// under a tag removed from another element is refused, as those protocols always did.
    pub fn cancel_everywhere(&mut self) {
        let all: BTreeSet<Tag> = std::mem::take(&mut self.removed).into_values().flatten().collect();
        if !all.is_empty() {
            self.removed.insert(EVERY_ELEMENT.to_owned(), all);
        }
    }

    fn is_removed(&self, element: &str, tag: &str) -> bool {
        [element, EVERY_ELEMENT].iter().any(|e| self.removed.get(*e).is_some_and(|tags| tags.contains(tag)))
    }
}

/// `removed` on the wire: an object from element to tags (protocol 3), or, when every tag
/// is cancelled for every element, the plain array of protocols 1 and 2.
mod wire {
    use super::{Tag, EVERY_ELEMENT};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::{BTreeMap, BTreeSet};

    /// What a writer sends.
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Out<'a> {
        Everywhere(&'a BTreeSet<Tag>),
        PerElement(&'a BTreeMap<String, BTreeSet<Tag>>),
    }

    /// What a reader accepts.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        Everywhere(BTreeSet<Tag>),
        PerElement(BTreeMap<String, BTreeSet<Tag>>),
    }

    pub(super) fn serialize<S: Serializer>(removed: &BTreeMap<String, BTreeSet<Tag>>, s: S) -> Result<S::Ok, S::Error> {
        match removed.get(EVERY_ELEMENT) {
            Some(tags) if removed.len() == 1 => Out::Everywhere(tags).serialize(s),
            _ => Out::PerElement(removed).serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, BTreeSet<Tag>>, D::Error> {
        Ok(match In::deserialize(d)? {
            In::Everywhere(tags) if tags.is_empty() => BTreeMap::new(),
            In::Everywhere(tags) => BTreeMap::from([(EVERY_ELEMENT.to_owned(), tags)]),
            In::PerElement(map) => map.into_iter().filter(|(_, tags)| !tags.is_empty()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// One mutation adds `work` and `urgent` under its key; a remove of `work` cancels that
    /// key for `work` alone: merging the state with itself, or a late copy of the add,
    /// keeps `urgent`.
    #[test]
    fn a_remove_of_one_element_leaves_the_others_the_same_mutation_added() {
        let mut set = OrSet::default();
        set.add("work", "k");
        set.add("urgent", "k");
        set.remove("work", &set.tags("work"));
        let copy = set.clone();
        set.merge(&copy);
        assert_eq!(set.elements(), ["urgent"]);
        let mut late = OrSet::default();
        late.remove("work", &BTreeSet::from(["k".to_owned()]));
        late.add("urgent", "k");
        late.add("work", "k");
        assert_eq!(late.elements(), ["urgent"], "the late add stays removed from work only");
    }

    #[test]
    fn removed_tags_travel_per_element_and_a_plain_array_cancels_them_everywhere() {
        let mut set = OrSet::default();
        set.add("work", "k");
        set.add("urgent", "k");
        set.remove("work", &set.tags("work"));
        let wire = serde_json::to_value(&set).unwrap();
        assert_eq!(wire, json!({"adds": {"urgent": ["k"]}, "removed": {"work": ["k"]}}));
        assert_eq!(serde_json::from_value::<OrSet>(wire).unwrap(), set);

        let mut old = set.clone();
        old.cancel_everywhere();
        let wire = serde_json::to_value(&old).unwrap();
        assert_eq!(wire, json!({"adds": {"urgent": ["k"]}, "removed": ["k"]}), "what protocol 2 carries");
        let mut read: OrSet = serde_json::from_value(wire).unwrap();
        assert_eq!(read, old);
        assert_eq!(read.elements(), ["urgent"], "a live tag stays live");
        read.add("label", "k");
        assert!(!read.contains("label"), "protocol 2's rule: a removed tag is refused for every element");
        assert_eq!(serde_json::from_value::<OrSet>(json!({"removed": []})).unwrap(), OrSet::default());
    }
}
