//! The sync status an app shows its user.

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
