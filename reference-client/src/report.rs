//! What a sync round did: the round's report and the tally of its push results.

use std::time::Duration;

/// What applying a push response did, for the sync report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushTally {
    /// Mutations the server accepted.
    pub accepted: usize,
    /// Mutations that met a conflict (resolved by the strategy or held for the user).
    pub conflicts: usize,
    /// Mutations rejected for good.
    pub rejected: usize,
    /// Mutations that will be retried in a later round.
    pub retried: usize,
    /// Mutations that reached the retry limit and are now failed.
    pub failed: usize,
}

/// What one sync round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records received from pulls.
    pub pulled: usize,
    /// Pull pages applied.
    pub pages: usize,
    /// Entities re-synced from scratch after the tombstone horizon.
    pub resets: usize,
    /// Mutations sent.
    pub pushed: usize,
    /// What became of them.
    pub tally: PushTally,
    /// Whether pushing stopped early at the metered upload limit.
    pub deferred: bool,
    /// Bytes written to the server in this round.
    pub bytes_sent: u64,
    /// Bytes read from the server in this round.
    pub bytes_received: u64,
    /// Virtual (or real) time the round took.
    pub elapsed: Duration,
}

impl SyncReport {
    /// Whether the round found nothing to do: the device is in sync.
    pub fn idle(&self) -> bool {
        self.pulled == 0 && self.pushed == 0 && !self.deferred
    }
}
