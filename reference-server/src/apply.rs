//! Applying one pushed mutation to the store: idempotency, base versions, the entity's
//! strategy, CRDT fields and parent references.

use crate::bug::Bug;
use crate::config::ServerConfig;
use crate::error::Result;
use crate::store::Tx;
use protocol::{
    resolve, Action, Entity, FieldKind, FieldStamp, Hlc, Mutation, MutationOutcome, MutationResult, Record, RejectCode,
    Resolution, Write,
};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Who is pushing, and the server's time and policy for this request.
pub(crate) struct Context<'a> {
    pub(crate) user: &'a str,
    pub(crate) device: &'a str,
    pub(crate) now_ms: i64,
    /// The server's configuration: the declared strategies (and a planted bug, if any).
    pub(crate) config: &'a ServerConfig,
    /// The [`Bug::IdempotencyRecordedAfterCommit`] mutant's results of this push, held
    /// back from the store until its effects have committed: what it stores afterwards.
    pub(crate) held_back: RefCell<Vec<(MutationResult, Option<u64>)>>,
    /// The [`Bug::IdempotencyCheckedApart`] mutant's lookup, made before this transaction:
    /// the keys of the push the store had a record of then.
    pub(crate) checked_apart: Option<BTreeSet<String>>,
}

impl Context<'_> {
    /// The stored result of the mutation `key`, and the version it left, if the server has
    /// applied it: from the store, or held back by this push.
    fn known(&self, tx: &Tx<'_>, key: &str) -> Result<Option<(MutationResult, Option<u64>)>> {
        let held = self.held_back.borrow().iter().find(|(result, _)| result.key == key).cloned();
        match held {
            Some(known) => Ok(Some(known)),
            None => tx.idempotent(self.user, key),
        }
    }
}

/// Applies `m` (already validated, of `entity`) and returns its result. A replayed key is
/// answered from the idempotency table; every other outcome except a retryable rejection
/// is stored there in the same transaction as its effects.
pub(crate) fn apply(tx: &mut Tx<'_>, cx: &Context<'_>, entity: Entity, m: &Mutation) -> Result<MutationResult> {
    let stored = match &cx.checked_apart {
        Some(known) if !known.contains(&m.key) => None,
        _ => cx.known(tx, &m.key)?,
    };
    let replayed = match stored {
        Some((stored, _)) if !cx.config.bugged(Bug::IdempotencyIgnored) => {
            tracing::debug!(key = %m.key, "replayed mutation answered from the idempotency table");
            return Ok(stored);
        }
        stored => stored.is_some(),
    };
    let base = match &m.after {
        None => m.base_version,
        Some(prev) => match cx.known(tx, prev)? {
            // The predecessor's result is this device's view of the record only when the
            // predecessor applied in full over nothing unseen; otherwise a concurrent change
            // is in that result, and the write keeps the base its device saw.
            Some((
                MutationResult { outcome: MutationOutcome::Accepted { concurrent: false, .. }, .. },
                Some(version),
            )) => version,
            Some(_) => m.base_version,
            None => {
                let message = format!("waits for mutation {prev}, which the server has not applied");
                return Ok(reject(m, RejectCode::WaitingForPredecessor, message, true, None));
            }
        },
    };
    let current = tx.record(cx.user, entity, &m.id)?;
    let outcome = match m.action {
        Action::Create => create(tx, cx, entity, m, current)?,
        Action::Update => update(tx, cx, entity, m, base, current)?,
        Action::Delete => delete(tx, cx, m, current)?,
    };
    let result = MutationResult { key: m.key.clone(), outcome };
    let retryable = matches!(result.outcome, MutationOutcome::Rejected { retryable: true, .. });
    if !retryable && !replayed {
        let version_after = result.outcome.record().map(|r| r.version);
        if cx.config.bugged(Bug::IdempotencyRecordedAfterCommit) {
            cx.held_back.borrow_mut().push((result.clone(), version_after));
        } else if cx.checked_apart.is_some() {
            tx.remember_unless_recorded(cx.user, &result, version_after)?;
        } else {
            tx.remember(cx.user, &result, version_after)?;
        }
    }
    Ok(result)
}

fn reject(m: &Mutation, code: RejectCode, message: String, retryable: bool, record: Option<Record>) -> MutationResult {
    MutationResult { key: m.key.clone(), outcome: MutationOutcome::Rejected { code, message, retryable, record } }
}

fn rejected(code: RejectCode, message: String, retryable: bool, record: Option<Record>) -> MutationOutcome {
    MutationOutcome::Rejected { code, message, retryable, record }
}

fn create(
    tx: &mut Tx<'_>,
    cx: &Context<'_>,
    entity: Entity,
    m: &Mutation,
    current: Option<Record>,
) -> Result<MutationOutcome> {
    if let Some(record) = current {
        if record.deleted {
            let fields_kept = m.changes.fields.keys().cloned().collect();
            return Ok(MutationOutcome::Conflict { resolution: Resolution::Deleted, fields_kept, record });
        }
        let message = format!("{entity} {} already exists (a create is never applied twice)", m.id);
        return Ok(rejected(RejectCode::AlreadyExists, message, false, Some(record)));
    }
    let fields: BTreeSet<String> = m.changes.fields.keys().cloned().collect();
    if let Some(refused) = check_parents(tx, cx, entity, m, &fields)? {
        return Ok(refused);
    }
    let mut record = Record::empty(entity, m.id.clone());
    record.created_at_ms = cx.now_ms;
    write_changes(tx, cx, m, &mut record, &fields)?;
    Ok(MutationOutcome::Accepted { record, concurrent: false })
}

fn update(
    tx: &mut Tx<'_>,
    cx: &Context<'_>,
    entity: Entity,
    m: &Mutation,
    base: u64,
    current: Option<Record>,
) -> Result<MutationOutcome> {
    let Some(mut record) = current else {
        let message = format!("{entity} {} does not exist (never created, or deleted and purged)", m.id);
        return Ok(rejected(RejectCode::NotFound, message, false, None));
    };
    if record.deleted {
        let fields_kept = m.changes.fields.keys().cloned().collect();
        return Ok(MutationOutcome::Conflict { resolution: Resolution::Deleted, fields_kept, record });
    }
    let base = if cx.config.bugged(Bug::NoBaseVersionCheck) { record.version } else { base };
    let device_clock = cx.config.bugged(Bug::LastWriteWinsByDeviceClock).then(|| Hlc {
        wall_ms: m.client_time_ms,
        counter: 0,
        node: m.hlc.node.clone(),
    });
    let write = Write { base_version: base, hlc: device_clock.as_ref().unwrap_or(&m.hlc), fields: &m.changes.fields };
    let decision = resolve(cx.config.strategies.of(entity), record.version, &record.stamps, write);
    if let Some(refused) = check_parents(tx, cx, entity, m, &decision.apply)? {
        return Ok(refused);
    }
    let stale = base < record.version;
    if !decision.apply.is_empty() || m.changes.has_crdt_ops() {
        write_changes(tx, cx, m, &mut record, &decision.apply)?;
    }
    let fields_kept: Vec<String> = decision.keep.into_iter().collect();
    Ok(match (decision.needs_user, fields_kept.is_empty()) {
        (true, _) => MutationOutcome::Conflict { resolution: Resolution::NeedsUser, fields_kept, record },
        (false, true) => MutationOutcome::Accepted { record, concurrent: stale },
        (false, false) => MutationOutcome::Conflict { resolution: Resolution::KeptServer, fields_kept, record },
    })
}

fn delete(tx: &mut Tx<'_>, cx: &Context<'_>, m: &Mutation, current: Option<Record>) -> Result<MutationOutcome> {
    let Some(mut record) = current else {
        let message = format!("{} {} does not exist (never created, or deleted and purged)", m.entity, m.id);
        return Ok(rejected(RejectCode::NotFound, message, false, None));
    };
    if record.deleted {
        return Ok(MutationOutcome::Accepted { record, concurrent: true });
    }
    record.version = next_version(tx, cx)?;
    record.deleted = true;
    record.updated_at_ms = cx.now_ms;
    if cx.config.bugged(Bug::HardDeletes) {
        tx.remove_record(cx.user, record.entity, &record.id)?;
    } else {
        tx.put_record(cx.user, &record)?;
    }
    Ok(MutationOutcome::Accepted { record, concurrent: false })
}

/// Refuses a write whose applied reference fields name a parent that is missing (retryable:
/// it may still be on its way) or deleted (permanent).
fn check_parents(
    tx: &Tx<'_>,
    cx: &Context<'_>,
    entity: Entity,
    m: &Mutation,
    applied: &BTreeSet<String>,
) -> Result<Option<MutationOutcome>> {
    for name in applied {
        let (Some(def), Some(parent_id)) = (entity.field(name), m.changes.fields.get(name).and_then(|v| v.as_str()))
        else {
            continue;
        };
        let FieldKind::Reference(parent) = def.kind else { continue };
        match tx.record(cx.user, parent, parent_id)? {
            None => {
                let message = format!("{name} names {parent} {parent_id}, which does not exist yet");
                return Ok(Some(rejected(RejectCode::MissingParent, message, true, None)));
            }
            Some(p) if p.deleted => {
                let message = format!("{name} names {parent} {parent_id}, which is deleted");
                return Ok(Some(rejected(RejectCode::ParentDeleted, message, false, None)));
            }
            Some(_) => {}
        }
    }
    Ok(None)
}

/// Writes the applied register fields and every CRDT operation of `m` as one new change.
fn write_changes(
    tx: &mut Tx<'_>,
    cx: &Context<'_>,
    m: &Mutation,
    record: &mut Record,
    apply: &BTreeSet<String>,
) -> Result<()> {
    let seq = next_version(tx, cx)?;
    for name in apply {
        m.changes.apply_field(record, name);
        record.stamps.insert(name.clone(), FieldStamp { version: seq, hlc: m.hlc.clone() });
    }
    if cx.config.bugged(Bug::CounterOverwrite) {
        overwrite_counters(m, record, cx.device);
    }
    m.changes.apply_crdt_ops(record, cx.device, &m.key);
    record.version = seq;
    record.updated_at_ms = cx.now_ms;
    tx.put_record(cx.user, record)
}

/// The version of the change being written: the store's next sequence number.
fn next_version(tx: &mut Tx<'_>, cx: &Context<'_>) -> Result<u64> {
    if cx.config.bugged(Bug::VersionsFromServerClock) {
        return tx.next_seq_from_clock(cx.now_ms);
    }
    tx.next_seq()
}

/// The counter-overwrite mutant: the device's share of each incremented counter is cleared
/// before the increment is added, so the share ends equal to the last increment alone.
fn overwrite_counters(m: &Mutation, record: &mut Record, device: &str) {
    for name in m.changes.increments.keys() {
        if let Some(counter) = record.counters.get_mut(name) {
            counter.p.remove(device);
            counter.n.remove(device);
        }
    }
}
