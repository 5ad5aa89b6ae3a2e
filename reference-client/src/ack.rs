//! Applying what the server sent: pull pages (with their cursor) and push results (with the
//! records' new versions), each in one transaction.

use crate::bug::Bug;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::queue::{QueueEntry, QueueStatus};
use crate::report::PushTally;
use crate::store::{NewConflict, Tx};
use protocol::{Action, Entity, MutationOutcome, MutationResult, PullResponse, Record, RejectCode, Resolution};

/// Applies one pull page and advances the entity's cursor, together.
pub(crate) fn apply_page(
    tx: &Tx<'_>,
    entity: Entity,
    page: &PullResponse,
    physical_ms: i64,
    config: &ClientConfig,
) -> Result<()> {
    // A pull from the start is a full re-sync whatever the server says: records this device
    // pushed but never pulled may have been deleted and purged since.
    let (cursor, resyncing) = tx.cursor(entity)?;
    let resyncing = resyncing || cursor == 0;
    if cursor == 0 {
        note_purge_mark(tx, entity, page.purged_through)?;
    }
    observe(tx, &page.changes, physical_ms, config)?;
    for record in &page.changes {
        if config.bugged(Bug::PullOverwritesPendingEdits) {
            tx.store_as_is(record)?;
        } else if config.bugged(Bug::RoundsOverlap) {
            // The rounds-overlap mutant takes a pulled row as the truth, whatever it holds.
            tx.recompute(record.entity, &record.id, Some(record.clone()), record.updated_at_ms)?;
        } else {
            store_server_record(tx, record, config)?;
        }
        if record.deleted && config.bugged(Bug::TombstoneDropsPendingEdits) {
            for entry in tx.open_entries(record.entity, &record.id)? {
                tx.set_status(&entry.key, QueueStatus::Completed, None)?;
            }
        }
        if resyncing {
            tx.note_seen(entity, &record.id)?;
        }
    }
    if resyncing && !page.has_more {
        finish_resync(tx, entity, page.cursor, physical_ms)?;
    }
    tx.set_cursor(entity, page.cursor, resyncing && page.has_more)
}

/// Whether `page`, which the server answered with `reset`, is a later page of a re-sync under
/// way that no purge has overtaken: the server purged nothing since the re-sync's first page,
/// so every record this device holds and the re-sync has not returned yet was deleted and
/// purged before it began, and is dropped when it ends. Starting over instead would meet the
/// same reset on the same page for as long as the purge lies past it.
pub(crate) fn continues_resync(tx: &Tx<'_>, entity: Entity, page: &PullResponse) -> Result<bool> {
    let (cursor, resyncing) = tx.cursor(entity)?;
    if !resyncing || cursor == 0 {
        return Ok(false);
    }
    let Some(purged_through) = page.purged_through else {
        return Ok(false);
    };
    Ok(tx.meta(&purge_mark_key(entity))? == Some(purged_through.to_string()))
}

/// Notes what the server had purged when a re-sync of `entity` began (its first page), or
/// forgets it when the server does not say.
fn note_purge_mark(tx: &Tx<'_>, entity: Entity, purged_through: Option<u64>) -> Result<()> {
    let key = purge_mark_key(entity);
    match purged_through {
        Some(seq) => tx.set_meta(&key, &seq.to_string()),
        None => tx.delete_meta(&key),
    }
}

fn purge_mark_key(entity: Entity) -> String {
    format!("resync_purged_through:{entity}")
}

/// Where the last full re-sync of an entity ended: it returned every record the server had
/// with a version up to there.
fn resynced_through_key(entity: Entity) -> String {
    format!("resynced_through:{entity}")
}

/// Starts a full re-sync of `entity`: the server purged tombstones this device never saw.
pub(crate) fn begin_resync(tx: &Tx<'_>, entity: Entity) -> Result<()> {
    tx.tx.execute("DELETE FROM resync_seen WHERE entity = ?1", [entity.name()])?;
    tx.set_cursor(entity, 0, true)
}

/// Records the full pull did not return were deleted and purged: drop them, unless a local
/// write is still open on them (its push will be answered as a conflict or rejection, or
/// replay an answer the device lost), and note where the pull ended (`cursor`) for the
/// answers to those writes. A record kept for its open writes keeps no server copy: the
/// server has none, whatever this device saw of it before, so that a replayed answer is
/// judged gone however recent the version this device last pulled.
fn finish_resync(tx: &Tx<'_>, entity: Entity, cursor: u64, now_ms: i64) -> Result<()> {
    for id in tx.unseen_with_open_writes(entity)? {
        tx.recompute(entity, &id, None, now_ms)?;
    }
    let dropped = tx.drop_unseen(entity)?;
    tx.set_meta(&resynced_through_key(entity), &cursor.to_string())?;
    tracing::info!(%entity, dropped, "re-sync finished: purged records dropped");
    Ok(())
}

/// Advances this device's hybrid logical clock past the stamps of records the server sent
/// (a pull page, or the answers to a push): the device now shows what they stamp, so its
/// next write must order after them.
fn observe<'r>(
    tx: &Tx<'_>,
    records: impl IntoIterator<Item = &'r Record>,
    physical_ms: i64,
    config: &ClientConfig,
) -> Result<()> {
    if config.bugged(Bug::HlcIgnoresRemote) {
        return Ok(());
    }
    let mut clock = tx.hlc()?;
    for stamp in records.into_iter().filter_map(Record::max_stamp) {
        match protocol::implausible(stamp, physical_ms) {
            // Adopting it would drag every later write of this device past it.
            Some(why) => tracing::warn!(%stamp, why, "a stamp from the server not adopted"),
            None => clock.observe(stamp, physical_ms),
        }
    }
    tx.save_hlc(&clock)
}

/// Stores a record the server sent, unless this device already knows a newer version (a
/// replayed push result carries the record as it was then).
fn store_server_record(tx: &Tx<'_>, record: &Record, config: &ClientConfig) -> Result<()> {
    let known = tx.row(record.entity, &record.id)?.and_then(|r| r.server);
    let newer = |k: &Record| match config.bugged(Bug::SecondResolutionTieBreak) {
        true => record.updated_at_ms / 1000 > k.updated_at_ms / 1000,
        // An equal version is the same server state, perhaps carrying more fields: the
        // full re-sync after a protocol upgrade brings the fields the old protocol left out.
        false => record.version >= k.version,
    };
    let server = match known {
        Some(k) if !newer(&k) => k,
        _ => record.clone(),
    };
    tx.recompute(record.entity, &record.id, Some(server.clone()), server.updated_at_ms)
}

/// Applies the results of a pushed batch.
pub(crate) fn apply_results(
    tx: &Tx<'_>,
    sent: &[QueueEntry],
    results: &[MutationResult],
    config: &ClientConfig,
) -> Result<PushTally> {
    let now_ms = config.clock.now_ms();
    observe(tx, results.iter().filter_map(|r| r.outcome.record()), now_ms, config)?;
    let mut tally = PushTally::default();
    for result in results {
        let Some(entry) = sent.iter().find(|e| e.key == result.key) else {
            tracing::warn!(key = %result.key, "push result for a mutation that was not sent; ignored");
            continue;
        };
        apply_result(tx, entry, &result.outcome, now_ms, config, &mut tally)?;
    }
    Ok(tally)
}

fn apply_result(
    tx: &Tx<'_>,
    entry: &QueueEntry,
    outcome: &MutationOutcome,
    now_ms: i64,
    config: &ClientConfig,
    tally: &mut PushTally,
) -> Result<()> {
    let max_retries = config.max_retries;
    match outcome {
        MutationOutcome::Accepted { .. } => {
            tally.accepted += 1;
            tx.set_status(&entry.key, QueueStatus::Completed, None)?;
        }
        MutationOutcome::Conflict { resolution, fields_kept, record } => {
            tally.conflicts += 1;
            let needs_user = *resolution == Resolution::NeedsUser;
            let status = if needs_user { QueueStatus::Conflict } else { QueueStatus::Completed };
            tx.set_status(&entry.key, status, None)?;
            let conflict = NewConflict {
                key: &entry.key,
                entity: entry.entity,
                record_id: &entry.record_id,
                resolution: resolution_name(*resolution),
                fields_kept,
                mine: &entry.changes,
                server: record,
                needs_user,
            };
            tx.log_conflict(&conflict, now_ms)?;
            tracing::info!(key = %entry.key, ?resolution, ?fields_kept, "conflict");
        }
        MutationOutcome::Rejected { retryable: true, message, .. } => {
            if !tx.count_retry(&entry.key, message, max_retries)? {
                tally.retried += 1;
                return Ok(());
            }
            // Failed for good: no longer shown, like a write refused outright (below).
            tally.failed += 1;
            tracing::warn!(key = %entry.key, %message, "mutation failed after the retry limit");
        }
        MutationOutcome::Rejected { code: RejectCode::NotFound, .. } if entry.action == Action::Delete => {
            tally.accepted += 1;
            tx.set_status(&entry.key, QueueStatus::Completed, None)?;
        }
        MutationOutcome::Rejected { message, .. } if config.bugged(Bug::FailedMutationDropped) => {
            tally.rejected += 1;
            tx.unchain_failed(&entry.key)?;
            tx.delete_entry(&entry.key)?;
            tracing::warn!(key = %entry.key, %message, "mutation rejected");
        }
        MutationOutcome::Rejected { message, .. } => {
            tally.rejected += 1;
            tx.set_status(&entry.key, QueueStatus::Failed, Some(message))?;
            tracing::warn!(key = %entry.key, %message, "mutation rejected");
        }
    }
    let record = outcome.record();
    let clean_version = match outcome {
        MutationOutcome::Accepted { record, concurrent: false } => Some(record.version),
        _ => None,
    };
    match outcome {
        // Applied (a delete of a record already gone too): what was chained after it is free.
        MutationOutcome::Accepted { .. } | MutationOutcome::Conflict { .. } => {
            tx.rebase_after(&entry.key, clean_version)?
        }
        MutationOutcome::Rejected { code: RejectCode::NotFound, .. } if entry.action == Action::Delete => {
            tx.rebase_after(&entry.key, None)?
        }
        // Never applied: what was chained after it waits for what it waited for.
        MutationOutcome::Rejected { .. } => tx.unchain_failed(&entry.key)?,
    }
    match record {
        Some(r) if !config.bugged(Bug::ReplayedAnswerTrusted) && gone_since(tx, r)? => {
            tx.recompute(entry.entity, &entry.record_id, None, now_ms)
        }
        Some(r) => store_server_record(tx, r, config),
        None => {
            let server = tx.row(entry.entity, &entry.record_id)?.and_then(|r| r.server);
            let gone = matches!(outcome, MutationOutcome::Rejected { code: RejectCode::NotFound, .. });
            tx.recompute(entry.entity, &entry.record_id, if gone { None } else { server }, now_ms)
        }
    }
}

/// Whether `record`, the server's answer to a push, is a record the server no longer has:
/// the answer is a replay (a retry of a write whose first answer was lost) carrying the
/// record as that write left it, and the last full re-sync, which returned every record the
/// server had up to a version past this one, returned neither it nor anything newer. Only a
/// delete whose tombstone was purged does that; storing the answer would bring the record
/// back.
fn gone_since(tx: &Tx<'_>, record: &Record) -> Result<bool> {
    let resynced = tx.meta(&resynced_through_key(record.entity))?.and_then(|v| v.parse::<u64>().ok());
    if resynced.is_none_or(|through| record.version > through) {
        return Ok(false);
    }
    let known = tx.row(record.entity, &record.id)?.and_then(|r| r.server).map_or(0, |s| s.version);
    Ok(known < record.version)
}

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::KeptServer => "kept_server",
        Resolution::Deleted => "deleted",
        Resolution::NeedsUser => "needs_user",
    }
}
