//! Conflict strategies as pure functions.
//!
//! A register write conflicts when another writer changed the record after the version the
//! write was based on. Each entity declares one [`Strategy`]; the server runs it, so every
//! replica gets the same answer. Counter and set fields never conflict: they merge as CRDTs
//! whatever the strategy.

use crate::hlc::Hlc;
use crate::record::FieldStamp;
use crate::schema::Entity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How concurrent writes to register fields are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The write that reaches the server last wins, field by field.
    LastWriteWinsArrival,
    /// The write with the greater hybrid logical timestamp wins, field by field. A write
    /// made after its device saw another write always wins over it, whatever the clocks say.
    LastWriteWinsHlc,
    /// A write based on a stale version changes no register field.
    ServerWins,
    /// Every write applies in full, even over changes it had not seen.
    ClientWins,
    /// Fields the writer did not see change are applied; fields changed concurrently keep
    /// the server's value and are reported.
    FieldMerge,
    /// A write that overlaps a concurrent change applies nothing and is kept for the user,
    /// who resolves it with a new write. Disjoint writes apply.
    UserPrompted,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Strategy; 6] = [
        Strategy::LastWriteWinsArrival,
        Strategy::LastWriteWinsHlc,
        Strategy::ServerWins,
        Strategy::ClientWins,
        Strategy::FieldMerge,
        Strategy::UserPrompted,
    ];

    /// The stable name used in configuration and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::LastWriteWinsArrival => "lww-arrival",
            Strategy::LastWriteWinsHlc => "lww-hlc",
            Strategy::ServerWins => "server-wins",
            Strategy::ClientWins => "client-wins",
            Strategy::FieldMerge => "field-merge",
            Strategy::UserPrompted => "user-prompted",
        }
    }

    /// Parses a stable name.
    pub fn parse(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The strategy each entity declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategies {
    /// Strategy for projects. Default: field merge (names and descriptions are edited
    /// independently).
    pub project: Strategy,
    /// Strategy for tasks. Default: last-write-wins by hybrid logical clock.
    pub task: Strategy,
}

impl Default for Strategies {
    fn default() -> Self {
        Self { project: Strategy::FieldMerge, task: Strategy::LastWriteWinsHlc }
    }
}

impl Strategies {
    /// The same strategy for every entity.
    pub fn uniform(strategy: Strategy) -> Self {
        Self { project: strategy, task: strategy }
    }

    /// The strategy `entity` declares.
    pub fn of(&self, entity: Entity) -> Strategy {
        match entity {
            Entity::Project => self.project,
            Entity::Task => self.task,
        }
    }
}

/// A register write as the strategy sees it.
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The version the write was based on.
    pub base_version: u64,
    /// The writer's timestamp.
    pub hlc: &'a Hlc,
    /// The register fields it sets.
    pub fields: &'a BTreeMap<String, Value>,
}

/// What to do with each field of a write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Fields to take from the write.
    pub apply: BTreeSet<String>,
    /// Fields whose server value is kept.
    pub keep: BTreeSet<String>,
    /// Nothing applies: the conflict goes to the user.
    pub needs_user: bool,
}

/// Decides which fields of `write` take effect on a record at `current_version` whose
/// register fields were last written as `stamps` say.
pub fn resolve(
    strategy: Strategy,
    current_version: u64,
    stamps: &BTreeMap<String, FieldStamp>,
    write: Write<'_>,
) -> Decision {
    let stale = write.base_version < current_version;
    let changed_since_base = |f: &str| stamps.get(f).is_some_and(|s| s.version > write.base_version);
    let (apply, keep): (BTreeSet<String>, BTreeSet<String>) = match strategy {
        Strategy::LastWriteWinsArrival | Strategy::ClientWins => {
            (write.fields.keys().cloned().collect(), BTreeSet::new())
        }
        Strategy::LastWriteWinsHlc => {
            let newer = |f: &String| stamps.get(f.as_str()).is_none_or(|s| write.hlc > &s.hlc);
            write.fields.keys().cloned().partition(newer)
        }
        Strategy::ServerWins if stale => (BTreeSet::new(), write.fields.keys().cloned().collect()),
        Strategy::ServerWins => (write.fields.keys().cloned().collect(), BTreeSet::new()),
        Strategy::FieldMerge | Strategy::UserPrompted => {
            write.fields.keys().cloned().partition(|f| !changed_since_base(f))
        }
    };
    if strategy == Strategy::UserPrompted && !keep.is_empty() {
        return Decision { apply: BTreeSet::new(), keep: write.fields.keys().cloned().collect(), needs_user: true };
    }
    Decision { apply, keep, needs_user: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(version: u64, wall_ms: i64, node: &str) -> FieldStamp {
        FieldStamp { version, hlc: Hlc { wall_ms, counter: 0, node: node.into() } }
    }

    fn fields(names: &[&str]) -> BTreeMap<String, Value> {
        names.iter().map(|n| (n.to_string(), Value::from("v"))).collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Server at version 7: `title` written at 7 by b; `notes` written at 3 by a.
    fn stamps() -> BTreeMap<String, FieldStamp> {
        [("title".to_owned(), stamp(7, 2_000, "b")), ("notes".to_owned(), stamp(3, 1_000, "a"))].into()
    }

    fn decide(strategy: Strategy, base: u64, wall_ms: i64, names: &[&str]) -> Decision {
        let hlc = Hlc { wall_ms, counter: 0, node: "c".into() };
        let f = fields(names);
        resolve(strategy, 7, &stamps(), Write { base_version: base, hlc: &hlc, fields: &f })
    }

    #[test]
    fn field_merge_keeps_disjoint_edits_and_the_server_value_of_overlapping_ones() {
        let d = decide(Strategy::FieldMerge, 3, 0, &["title", "notes"]);
        assert_eq!((d.apply, d.keep), (set(&["notes"]), set(&["title"])));
    }

    #[test]
    fn server_wins_applies_nothing_from_a_stale_base() {
        let d = decide(Strategy::ServerWins, 3, 9_999, &["notes"]);
        assert!(d.apply.is_empty(), "a stale client must never overwrite under server-wins");
        assert_eq!(decide(Strategy::ServerWins, 7, 0, &["title"]).apply, set(&["title"]));
    }

    #[test]
    fn lww_hlc_takes_each_field_whose_stamp_is_older_than_the_write() {
        let d = decide(Strategy::LastWriteWinsHlc, 3, 1_500, &["title", "notes"]);
        assert_eq!((d.apply, d.keep), (set(&["notes"]), set(&["title"])));
    }

    #[test]
    fn user_prompted_applies_nothing_when_any_field_overlaps() {
        let d = decide(Strategy::UserPrompted, 3, 0, &["title", "notes"]);
        assert!(d.needs_user && d.apply.is_empty());
        assert!(!decide(Strategy::UserPrompted, 3, 0, &["notes"]).needs_user, "disjoint edits are no conflict");
    }

    #[test]
    fn client_wins_and_arrival_order_apply_everything() {
        for s in [Strategy::ClientWins, Strategy::LastWriteWinsArrival] {
            assert_eq!(decide(s, 0, 0, &["title"]).apply, set(&["title"]));
        }
    }
}
