//! The reference server's update of one live record, reduced to the protocol's pure
//! functions.
//!
//! This is what `update` and `write_changes` in `reference-server/src/apply.rs` do with a
//! mutation of a live record: `resolve` with the entity's strategy, then, if a register
//! field applies or the write carries counter or set changes, one new version in which the
//! applied fields are written and stamped and every CRDT operation applies. Storage, parent
//! references, `after` chains and deletes are left out: they decide whether this step runs,
//! not what it does.

use protocol::{resolve, Changes, Decision, Entity, FieldStamp, Hlc, Record, Strategy};
use std::collections::BTreeSet;
use std::fmt;

/// One update of the record as the server receives it.
#[derive(Clone)]
pub(crate) struct Write {
    /// Idempotency key; also the tag of the write's set adds.
    pub(crate) key: String,
    /// The pushing device, whose counter share the increments go to.
    pub(crate) device: String,
    /// The record version the write was based on.
    pub(crate) base_version: u64,
    /// The write's hybrid logical timestamp.
    pub(crate) hlc: Hlc,
    /// What it changes.
    pub(crate) changes: Changes,
}

/// Compact, for counterexamples: key, device, base, stamp, then the changes (register
/// values are `<key>:<field>`, so only field names are shown).
impl fmt::Debug for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {} on v{} at {}", self.key, self.device, self.base_version, self.hlc)?;
        let changes = &self.changes;
        if !changes.fields.is_empty() {
            write!(f, " set {:?}", changes.fields.keys().collect::<Vec<_>>())?;
        }
        for (name, delta) in &changes.increments {
            write!(f, " {name} {delta:+}")?;
        }
        for (name, elements) in &changes.set_add {
            write!(f, " {name} add {elements:?}")?;
        }
        for (name, removals) in &changes.set_remove {
            write!(f, " {name} remove {removals:?}")?;
        }
        Ok(())
    }
}

/// A server's copy of one task, and the keys it has applied (its idempotency table).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Replica {
    /// The record as the server holds it.
    pub(crate) record: Record,
    applied: BTreeSet<String>,
}

impl Replica {
    /// A live task with nothing written yet, at version 0.
    pub(crate) fn new() -> Self {
        Self { record: Record::empty(Entity::Task, "5b3f6a3e-0000-4000-8000-000000000001"), applied: BTreeSet::new() }
    }

    /// Applies `write` under `strategy` and returns the decision, or `None` for a key already
    /// applied: a replay changes nothing (PROTOCOL.md, Processing, step 3.1).
    pub(crate) fn deliver(&mut self, strategy: Strategy, write: &Write) -> Option<Decision> {
        if !self.applied.insert(write.key.clone()) {
            return None;
        }
        let register_write =
            protocol::Write { base_version: write.base_version, hlc: &write.hlc, fields: &write.changes.fields };
        let decision = resolve(strategy, self.record.version, &self.record.stamps, register_write);
        if !decision.apply.is_empty() || write.changes.has_crdt_ops() {
            let seq = self.record.version + 1;
            for name in &decision.apply {
                write.changes.apply_field(&mut self.record, name);
                self.record.stamps.insert(name.clone(), FieldStamp { version: seq, hlc: write.hlc.clone() });
            }
            write.changes.apply_crdt_ops(&mut self.record, &write.device, &write.key);
            self.record.version = seq;
        }
        Some(decision)
    }

    /// Delivers each of `writes` in order.
    pub(crate) fn deliver_all<'a>(&mut self, strategy: Strategy, writes: impl IntoIterator<Item = &'a Write>) {
        for write in writes {
            self.deliver(strategy, write);
        }
    }
}
