//! What an implementation reports: a device's state, a server's state, a sync round.

use crate::operation::{Fields, RecordKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a device app shows and holds, as reported by [`crate::App::state`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// The sync protocol version the app speaks: it shows and writes only the fields of
    /// that version (see [`protocol::FieldDef::since`]).
    pub protocol: u32,
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

impl Default for DeviceState {
    /// Nothing shown, nothing pending, speaking the latest protocol.
    fn default() -> Self {
        Self {
            protocol: protocol::PROTOCOL_VERSION,
            records: BTreeMap::new(),
            pending: 0,
            failed: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}

impl DeviceState {
    /// Whether a write to `key` was surfaced to the user, as a failure or a conflict.
    pub fn surfaced(&self, key: &RecordKey) -> bool {
        self.failed.contains(key) || self.conflicts.contains(key)
    }

    /// Whether this app knows `field` of `key`'s entity (a field of a later protocol version
    /// than the app's is neither shown nor written by it).
    pub fn knows(&self, key: &RecordKey, field: &str) -> bool {
        knows(self.protocol, key, field)
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

/// Whether an app speaking protocol `version` knows `field` of `key`'s entity. Fields the
/// protocol does not declare at all are known to every version (so they are compared).
pub(crate) fn knows(version: u32, key: &RecordKey, field: &str) -> bool {
    key.entity.field(field).is_none_or(|def| def.since <= version)
}
