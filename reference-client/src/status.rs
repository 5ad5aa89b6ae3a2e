//! The sync status an app shows its user, and each record's.

/// What the app shows about sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Whether the last attempt to reach the server succeeded.
    pub online: bool,
    /// Whether a sync round is under way.
    pub syncing: bool,
    /// Mutations waiting to be pushed.
    pub pending: usize,
    /// Mutations failed for good, surfaced for the user.
    pub failed: usize,
    /// Conflicts waiting for the user.
    pub conflicts: usize,
    /// Device time of the last complete round.
    pub last_sync_ms: Option<i64>,
    /// The last sync error, for people.
    pub last_error: Option<String>,
}

/// How a record stands with the server, as shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    /// Equal to the server's last known state.
    Synced,
    /// Has local writes not yet acknowledged.
    Pending,
    /// Has a conflict waiting for the user.
    Conflict,
    /// Has a write that failed for good.
    Error,
}

impl SyncStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SyncStatus::Synced => "synced",
            SyncStatus::Pending => "pending",
            SyncStatus::Conflict => "conflict",
            SyncStatus::Error => "error",
        }
    }

    /// Its code on disk from schema 7 (fixed for good).
    pub(crate) fn code(self) -> i64 {
        match self {
            SyncStatus::Synced => 0,
            SyncStatus::Pending => 1,
            SyncStatus::Conflict => 2,
            SyncStatus::Error => 3,
        }
    }

    pub(crate) fn from_code(code: i64) -> SyncStatus {
        match code {
            1 => SyncStatus::Pending,
            2 => SyncStatus::Conflict,
            3 => SyncStatus::Error,
            _ => SyncStatus::Synced,
        }
    }

    pub(crate) fn parse(s: &str) -> SyncStatus {
        match s {
            "pending" => SyncStatus::Pending,
            "conflict" => SyncStatus::Conflict,
            "error" => SyncStatus::Error,
            _ => SyncStatus::Synced,
        }
    }
}
