//! One sync round: pull every entity (all pages), then push the queue in batches.

use crate::ack::{apply_page, apply_results, begin_resync, continues_resync};
use crate::app::Inner;
use crate::bug::Bug;
use crate::error::Result;
use crate::hook::SyncStep;
use crate::queue::{QueueEntry, QueueStatus};
use crate::report::{PushTally, SyncReport};
use crate::transport::{Transport, TransportError};
use http::Method;
use protocol::{Entity, PullResponse, PushRequest, PushResponse, PULL_PATH, PUSH_PATH};
use std::collections::BTreeSet;

/// One round over `transport`, which the caller holds for the whole round.
pub(crate) async fn sync_round(inner: &Inner, transport: &mut Transport) -> Result<SyncReport> {
    let started = tokio::time::Instant::now(); // tokio time, allowed: virtual in the simulation, not the wall clock
    let (sent0, received0) = (transport.counters.sent(), transport.counters.received());
    let mut report = SyncReport::default();
    if inner.config.bugged(Bug::ViewRestoredAtOpen) {
        reapply_queue(inner)?;
    }
    let outcome = async {
        for entity in Entity::ALL {
            pull_entity(inner, transport, entity, &mut report).await?;
        }
        push_queue(inner, transport, &mut report).await
    }
    .await;
    report.bytes_sent = transport.counters.sent() - sent0;
    report.bytes_received = transport.counters.received() - received0;
    report.elapsed = started.elapsed();
    outcome.map(|()| report)
}

/// Re-applies every open queue entry to the view (the view-restored-at-open mutant, which
/// shows the server's copies from start-up until a round starts).
fn reapply_queue(inner: &Inner) -> Result<()> {
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    for (entity, id) in tx.records_with_open_entries()? {
        let server = tx.row(entity, &id)?.and_then(|row| row.server);
        tx.recompute(entity, &id, server, inner.config.clock.now_ms())?;
    }
    tx.commit()
}

async fn pull_entity(
    inner: &Inner,
    transport: &mut crate::transport::Transport,
    entity: Entity,
    report: &mut SyncReport,
) -> Result<()> {
    loop {
        let (since, _) = inner.store.borrow().cursor(entity)?;
        inner.reached(SyncStep::PullStarting { entity }).await;
        let path = format!("{PULL_PATH}?entity={entity}&since={since}&limit={}", inner.config.page_size);
        let body = transport.request(Method::GET, &path, None).await?;
        let page: PullResponse =
            serde_json::from_slice(&body).map_err(|e| TransportError::Unreadable(e.to_string()))?;
        if inner.config.bugged(Bug::CursorSavedBeforePage) {
            let mut store = inner.store.borrow_mut();
            let tx = store.transaction()?;
            tx.set_cursor(entity, page.cursor, false)?;
            tx.commit()?;
        }
        inner.reached(SyncStep::PullPageReceived { entity, changes: page.changes.len() }).await;
        if commit_page(inner, entity, &page)? {
            tracing::info!(%entity, since, "cursor is older than the tombstone horizon: re-syncing");
            report.resets += 1;
            continue;
        }
        report.pulled += page.changes.len();
        report.pages += 1;
        tracing::debug!(%entity, since, changes = page.changes.len(), cursor = page.cursor, "pull page applied");
        inner.reached(SyncStep::PullPageApplied { entity, cursor: page.cursor }).await;
        if !page.has_more {
            return Ok(());
        }
    }
}

/// Commits a pull page with its cursor, or starts a re-sync when the server says the cursor
/// is past the tombstone horizon (returns `true` then).
pub(crate) fn commit_page(inner: &Inner, entity: Entity, page: &PullResponse) -> Result<bool> {
    let now = inner.config.clock.now_ms();
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    let reset = page.reset && !inner.config.bugged(Bug::ResyncIgnored) && !continues_resync(&tx, entity, page)?;
    if reset {
        begin_resync(&tx, entity)?;
    } else {
        apply_page(&tx, entity, page, now, &inner.config)?;
    }
    tx.commit()?;
    Ok(reset)
}

async fn push_queue(inner: &Inner, transport: &mut crate::transport::Transport, report: &mut SyncReport) -> Result<()> {
    prune_completed(inner)?;
    let mut attempted = BTreeSet::new();
    let mut limit = inner.config.batch_size;
    let mut uploaded = 0usize;
    loop {
        let mut batch = inner.store.borrow().next_batch(limit, &attempted)?;
        if batch.is_empty() {
            return Ok(());
        }
        batch.sort_by_key(QueueEntry::push_rank);
        if inner.config.bugged(Bug::FreshKeyPerRetry) {
            rekey(inner, &mut batch)?;
        }
        let request = PushRequest {
            device: inner.store.borrow().device().to_owned(),
            mutations: batch.iter().map(QueueEntry::to_mutation).collect(),
        };
        let json = serde_json::to_vec(&request).expect("requests serialize");
        if let Some(budget) = inner.upload_limit.get() {
            if uploaded > 0 && uploaded + json.len() > budget {
                report.deferred = true;
                tracing::info!(uploaded, budget, "metered network: deferring the rest of the queue");
                return Ok(());
            }
        }
        uploaded += json.len();
        let keys: Vec<String> = batch.iter().map(|e| e.key.clone()).collect();
        mark(inner, &batch, QueueStatus::InFlight)?;
        inner.reached(SyncStep::PushStarting { keys: keys.clone() }).await;
        let body = match transport.request(Method::POST, PUSH_PATH, Some(json)).await {
            Ok(body) => body,
            Err(e @ TransportError::Refused { .. }) if inner.config.bugged(Bug::RefusedPushRetried) => {
                return Err(e.into());
            }
            Err(TransportError::Refused { status, body }) => {
                tracing::warn!(%status, %body, batch = batch.len(), "push refused");
                if batch.len() > 1 {
                    limit = (batch.len() / 2).max(1);
                } else {
                    fail(inner, &batch[0], &body.message)?;
                    attempted.insert(batch[0].key.clone());
                }
                continue;
            }
            Err(e @ TransportError::Unavailable { .. }) => {
                count_retries(inner, &batch, &e.to_string())?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let response: PushResponse =
            serde_json::from_slice(&body).map_err(|e| TransportError::Unreadable(e.to_string()))?;
        inner.reached(SyncStep::PushResponseReceived { keys: keys.clone() }).await;
        let tally = {
            let mut store = inner.store.borrow_mut();
            let tx = store.transaction()?;
            let tally = apply_results(&tx, &batch, &response.results, &inner.config)?;
            tx.commit()?;
            tally
        };
        tracing::info!(sent = batch.len(), ?tally, "push acknowledged");
        add_tally(&mut report.tally, &tally);
        report.pushed += batch.len();
        attempted.extend(keys.iter().cloned());
        inner.reached(SyncStep::PushAcknowledged { keys }).await;
    }
}

/// Drops entries completed in earlier rounds: nothing refers to them any more (the entries
/// chained after them were unchained when they completed).
fn prune_completed(inner: &Inner) -> Result<()> {
    let store = inner.store.borrow();
    let pruned = store.prune_completed()?;
    tracing::debug!(pruned, "completed queue entries pruned");
    Ok(())
}

/// The fresh-key-per-retry mutant: every send gets new keys (and the entries chained after
/// them follow), so the server cannot tell a retry from a new write.
fn rekey(inner: &Inner, batch: &mut [QueueEntry]) -> Result<()> {
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    for entry in batch.iter_mut() {
        let key = inner.new_id();
        tx.rekey(&entry.key, &key)?;
        entry.key = key;
    }
    tx.commit()
}

fn mark(inner: &Inner, batch: &[QueueEntry], status: QueueStatus) -> Result<()> {
    let dequeue = status == QueueStatus::InFlight && inner.config.bugged(Bug::DequeueBeforeAck);
    let status = if dequeue { QueueStatus::Completed } else { status };
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    for entry in batch {
        tx.set_status(&entry.key, status, None)?;
    }
    tx.commit()
}

fn fail(inner: &Inner, entry: &QueueEntry, message: &str) -> Result<()> {
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    // The server will never apply it: what was chained after it waits for what it waited for.
    tx.unchain_failed(&entry.key)?;
    if inner.config.bugged(Bug::FailedMutationDropped) {
        tx.delete_entry(&entry.key)?;
    } else {
        tx.set_status(&entry.key, QueueStatus::Failed, Some(message))?;
    }
    let server = tx.row(entry.entity, &entry.record_id)?.and_then(|r| r.server);
    tx.recompute(entry.entity, &entry.record_id, server, inner.config.clock.now_ms())?;
    tx.commit()
}

fn count_retries(inner: &Inner, batch: &[QueueEntry], message: &str) -> Result<()> {
    let mut store = inner.store.borrow_mut();
    let tx = store.transaction()?;
    for entry in batch {
        if tx.count_retry(&entry.key, message, inner.config.max_retries)? {
            tx.unchain_failed(&entry.key)?;
            let server = tx.row(entry.entity, &entry.record_id)?.and_then(|r| r.server);
            tx.recompute(entry.entity, &entry.record_id, server, inner.config.clock.now_ms())?;
        }
    }
    tx.commit()
}

fn add_tally(total: &mut PushTally, more: &PushTally) {
    total.accepted += more.accepted;
    total.conflicts += more.conflicts;
    total.rejected += more.rejected;
    total.retried += more.retried;
    total.failed += more.failed;
}
