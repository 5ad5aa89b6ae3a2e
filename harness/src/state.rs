//! What an implementation reports: a device's state, a server's state, a sync round.

use crate::operation::{Fields, RecordKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a device app shows and holds, as reported by [`crate::App::state`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// Every record the user can see (deleted records excluded), with its visible fields.
    pub records: BTreeMap<RecordKey, Fields>,
    /// Mutations still waiting to reach the server (in flight included).
    pub pending: usize,
    /// Records with a write that failed for good and is surfaced to the user.
    pub failed: Vec<RecordKey>,
    /// Records with a conflict surfaced to the user (resolved by a strategy and shown, or
    /// waiting for the user's choice).
    pub conflicts: Vec<RecordKey>,
}

impl DeviceState {
    /// Whether a write to `key` was surfaced to the user, as a failure or a conflict.
    pub fn surfaced(&self, key: &RecordKey) -> bool {
        self.failed.contains(key) || self.conflicts.contains(key)
    }
}

/// The server's records of one user: what every device of that user must converge to.
pub type UserRecords = BTreeMap<RecordKey, Fields>;

/// The server's state, as reported by [`crate::Server::state`]: each user's visible
/// (not deleted) records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerState {
    /// Records per user name.
    pub users: BTreeMap<String, UserRecords>,
}

/// What one sync round did, as reported by [`crate::App::sync`]. Counts an implementation
/// does not track stay 0; `idle` is what the final phase relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOutcome {
    /// Changes received from the server.
    pub pulled: u64,
    /// Mutations sent to the server.
    pub pushed: u64,
    /// Mutations the server applied.
    pub accepted: u64,
    /// Mutations that met a conflict.
    pub conflicts: u64,
    /// Mutations the server refused.
    pub rejected: u64,
    /// Bytes written to the server.
    pub bytes_sent: u64,
    /// Bytes read from the server.
    pub bytes_received: u64,
}

impl SyncOutcome {
    /// Whether the round found nothing to do (nothing pulled, nothing pushed): the device
    /// was in sync when it ran.
    pub fn idle(&self) -> bool {
        self.pulled == 0 && self.pushed == 0
    }
}
