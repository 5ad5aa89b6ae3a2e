//! A local write: validated, stamped, queued and applied to the local view in one
//! transaction.

use crate::error::{Error, Result};
use crate::queue::{QueueEntry, QueueStatus};
use crate::schema::queue_format;
use crate::store::Tx;
use protocol::Changes;
use protocol::{validate_mutation_in, Action, Entity, FieldKind};

/// A write as the app asks for it.
pub(crate) struct LocalWrite<'a> {
    pub(crate) entity: Entity,
    pub(crate) id: &'a str,
    pub(crate) action: Action,
    pub(crate) changes: Changes,
    pub(crate) key: String,
    pub(crate) now_ms: i64,
}

/// Queues `w` and applies it locally. Refuses (changing nothing) a write the server would
/// refuse as malformed, a write to a record this device does not have, and a reference to
/// a parent this device does not have.
pub(crate) fn enqueue(tx: &Tx<'_>, mut w: LocalWrite<'_>) -> Result<QueueEntry> {
    let row = tx.row(w.entity, w.id)?;
    let exists = row.as_ref().is_some_and(|r| !r.state.deleted);
    match w.action {
        Action::Create if row.is_some() => {
            let message = format!("{} {} already exists on this device", w.entity, w.id);
            return Err(Error::Invalid(protocol::ErrorBody::new(protocol::ErrorCode::InvalidValue, message)));
        }
        Action::Update | Action::Delete if !exists => {
            return Err(Error::NotFound { entity: w.entity, id: w.id.to_owned() });
        }
        _ => {}
    }
    if let Some(row) = &row {
        fill_observed_tags(&mut w.changes, &row.state);
    }
    check_parents(tx, w.entity, &w.changes)?;
    let previous = tx.last_open(w.entity, w.id)?;
    let server_version = row.as_ref().and_then(|r| r.server.as_ref()).map_or(0, |s| s.version);
    let (base_version, after) = match previous {
        Some(p) => (p.base_version, Some(p.key)),
        None => (server_version, None),
    };
    let mut clock = tx.hlc()?;
    let entry = QueueEntry {
        seq: 0,
        key: w.key,
        entity: w.entity,
        record_id: w.id.to_owned(),
        action: w.action,
        base_version: if w.action == Action::Create { 0 } else { base_version },
        after: if w.action == Action::Create { None } else { after },
        changes: w.changes,
        hlc: clock.send(w.now_ms),
        client_time_ms: w.now_ms,
        status: QueueStatus::Pending,
        retries: 0,
        last_error: None,
        format_version: queue_format(tx.schema()),
    };
    validate_mutation_in(&entry.to_mutation(), tx.protocol()).map_err(Error::Invalid)?;
    tx.save_hlc(&clock)?;
    tx.insert_entry(&entry, w.now_ms)?;
    let server = row.and_then(|r| r.server);
    tx.recompute(entry.entity, &entry.record_id, server, w.now_ms)?;
    Ok(entry)
}

/// A remove cancels the tags under which this device currently sees the element.
fn fill_observed_tags(changes: &mut Changes, state: &protocol::Record) {
    for (field, removals) in &mut changes.set_remove {
        let set = state.sets.get(field);
        for (element, tags) in removals.iter_mut() {
            *tags = set.map(|s| s.tags(element)).unwrap_or_default();
        }
    }
}

fn check_parents(tx: &Tx<'_>, entity: Entity, changes: &Changes) -> Result<()> {
    for (name, value) in &changes.fields {
        let (Some(def), Some(parent_id)) = (entity.field(name), value.as_str()) else { continue };
        let FieldKind::Reference(parent) = def.kind else { continue };
        let present = tx.row(parent, parent_id)?.is_some_and(|r| !r.state.deleted);
        if !present {
            return Err(Error::MissingParent { field: name.clone(), parent, id: parent_id.to_owned() });
        }
    }
    Ok(())
}
