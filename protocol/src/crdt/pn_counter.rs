use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A positive-negative counter: each replica's increments and decrements are kept apart, so
/// merging any two states (in any order, any number of times) gives the same value.
///
/// The server applies each acknowledged increment once to the pushing device's entry; a
/// mutation applied twice shows as a doubled contribution, which is what makes duplicate
/// application visible to the exactly-once check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnCounter {
    /// Total increments per replica.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub p: BTreeMap<String, u64>,
    /// Total decrements per replica.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub n: BTreeMap<String, u64>,
    /// Per replica, the key of the last mutation whose increment is counted. A client
    /// rebasing its unacknowledged writes on a pulled record skips the increments the
    /// record already holds (the answer to a push may be lost after the server applied it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub last: BTreeMap<String, String>,
}

impl PnCounter {
    /// Adds `delta` (which may be negative) to `replica`'s contribution.
    pub fn increment(&mut self, replica: &str, delta: i64) {
        let side = if delta >= 0 { &mut self.p } else { &mut self.n };
        *side.entry(replica.to_owned()).or_default() += delta.unsigned_abs();
    }

    /// Adds `delta` for `replica` on behalf of mutation `key`, and notes `key` as the
    /// replica's last counted mutation.
    pub fn apply(&mut self, replica: &str, delta: i64, key: &str) {
        self.increment(replica, delta);
        self.last.insert(replica.to_owned(), key.to_owned());
    }

    /// The counter's value: all increments minus all decrements.
    pub fn value(&self) -> i64 {
        let sum = |m: &BTreeMap<String, u64>| m.values().map(|v| *v as i128).sum::<i128>();
        (sum(&self.p) - sum(&self.n)) as i64
    }

    /// Least upper bound of two states: the entry-wise maximum. `last` is kept as it is:
    /// it describes what one server counted, not a state to merge.
    pub fn merge(&mut self, other: &Self) {
        for (side, theirs) in [(&mut self.p, &other.p), (&mut self.n, &other.n)] {
            for (replica, count) in theirs {
                let mine = side.entry(replica.clone()).or_default();
                *mine = (*mine).max(*count);
            }
        }
    }

    /// The net contribution of one replica.
    pub fn contribution(&self, replica: &str) -> i64 {
        let get = |m: &BTreeMap<String, u64>| m.get(replica).copied().unwrap_or(0) as i64;
        get(&self.p) - get(&self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_the_sum_of_every_replicas_operations() {
        let mut c = PnCounter::default();
        c.increment("a", 5);
        c.increment("b", -2);
        c.increment("a", 1);
        assert_eq!(c.value(), 4);
        assert_eq!(c.contribution("a"), 6);
    }

    #[test]
    fn merge_keeps_the_larger_count_of_each_replica() {
        let mut left = PnCounter::default();
        left.increment("a", 3);
        let mut right = left.clone();
        right.increment("a", 2);
        right.increment("b", -1);
        left.merge(&right);
        assert_eq!(left.value(), 4);
    }
}
