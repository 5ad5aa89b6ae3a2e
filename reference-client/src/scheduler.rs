//! When to sync: after local writes (debounced), periodically, on reconnect and on
//! foreground; within the OS background budget; not on low battery; deferring large
//! uploads on metered networks; backing off after failures.

use crate::error::Error;
use crate::replica::Replica;
use crate::transport::TransportError;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// What the device's OS says about it right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conditions {
    /// A network is available.
    pub online: bool,
    /// The app is in the foreground.
    pub foreground: bool,
    /// The battery is low: background syncs are skipped.
    pub battery_low: bool,
    /// The network is metered: uploads are capped per round.
    pub metered: bool,
}

impl Default for Conditions {
    fn default() -> Self {
        Self { online: true, foreground: true, battery_low: false, metered: false }
    }
}

/// The scheduler's policy.
///
/// Defaults: 2 s debounce, a round every 60 s, a 30 s background budget, 64 KiB per round
/// on metered networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Quiet time after a local write before syncing.
    pub debounce: Duration,
    /// Time between periodic rounds.
    pub period: Duration,
    /// Longest a background round may run before the OS would suspend the app; the round is
    /// cancelled then and resumes from its last committed step next time.
    pub background_budget: Duration,
    /// Bytes pushed per round on a metered network.
    pub metered_upload_limit: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            debounce: Duration::from_secs(2),
            period: Duration::from_secs(60),
            background_budget: Duration::from_secs(30),
            metered_upload_limit: 64 * 1024,
        }
    }
}

/// Why a round started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Local writes, after the debounce.
    LocalWrite,
    /// The periodic timer.
    Periodic,
    /// The network came back.
    Reconnect,
    /// The app came to the foreground.
    Foreground,
    /// A backoff delay after a failed round ran out.
    Retry,
}

/// tokio's clock: virtual inside the simulation, never the wall clock.
fn tokio_now() -> Instant {
    Instant::now() // tokio time, allowed: paused and virtual in the simulation, not the wall clock
}

/// Runs the scheduler until `conditions`' sender is dropped.
pub async fn run(client: Replica, mut conditions: watch::Receiver<Conditions>, policy: Policy) {
    let mut failures = 0u32;
    let mut retry_at: Option<Instant> = None;
    let mut next_periodic = tokio_now() + policy.period;
    loop {
        let before = *conditions.borrow();
        let trigger = tokio::select! {
            biased;
            changed = conditions.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *conditions.borrow();
                match (now.online && !before.online, now.foreground && !before.foreground) {
                    (true, _) => Trigger::Reconnect,
                    (false, true) => Trigger::Foreground,
                    (false, false) => continue,
                }
            }
            () = async { sleep_until(retry_at.expect("guarded")).await }, if retry_at.is_some() => Trigger::Retry,
            () = client.written() => {
                tokio::time::sleep(policy.debounce).await;
                Trigger::LocalWrite
            }
            () = sleep_until(next_periodic) => {
                next_periodic = tokio_now() + policy.period;
                Trigger::Periodic
            }
        };
        let now = *conditions.borrow();
        if !now.online || (now.battery_low && !now.foreground && trigger != Trigger::Foreground) {
            tracing::debug!(?trigger, ?now, "sync skipped");
            continue;
        }
        client.set_upload_limit(now.metered.then_some(policy.metered_upload_limit));
        let round = if now.foreground {
            client.sync().await
        } else {
            match tokio::time::timeout(policy.background_budget, client.sync()).await {
                Ok(result) => result,
                Err(_) => Err(Error::Sync(TransportError::Timeout(policy.background_budget))),
            }
        };
        retry_at = match round {
            Ok(report) => {
                failures = 0;
                tracing::info!(?trigger, pulled = report.pulled, pushed = report.pushed, "sync round done");
                report.deferred.then(|| tokio_now() + policy.period)
            }
            Err(e) => {
                failures += 1;
                // A refused round set the client's own backoff; other failures back off here.
                let at = client.retry_at().unwrap_or_else(|| tokio_now() + client.backoff(failures, None));
                tracing::info!(?trigger, error = %e, failures, ?at, "sync round failed; backing off");
                Some(at)
            }
        };
    }
}
