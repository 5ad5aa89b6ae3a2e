//! `GET /api/sync/pull`: every change after a cursor, in commit order.

use crate::record::Record;
use crate::schema::Entity;
use serde::{Deserialize, Serialize};

/// A pull cursor: the server change sequence of the last change the client applied.
///
/// Cursors are sequence numbers assigned inside the server's write transaction, never
/// timestamps, so commit order and cursor order agree and no page boundary can skip a change.
pub type Cursor = u64;

/// The query of a pull: `?entity=task&since=42&limit=100`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullQuery {
    /// Only changes of this entity. Each entity has its own cursor on the client.
    pub entity: Entity,
    /// Return changes with a sequence greater than this.
    pub since: Cursor,
    /// At most this many changes (1 to [`crate::MAX_PAGE`]).
    pub limit: u32,
}

/// One page of changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The records changed after `since`, each at its latest state, in sequence order.
    /// Tombstones are included.
    pub changes: Vec<Record>,
    /// The cursor to send next: the sequence of the last change in this page, or `since`
    /// when the page is empty.
    pub cursor: Cursor,
    /// Whether more changes follow this page.
    pub has_more: bool,
    /// Set when `since` is older than the tombstone horizon: deletions before it were
    /// purged, so the client must re-sync this entity from cursor 0 and drop every synced
    /// record the full pull does not return.
    #[serde(default)]
    pub reset: bool,
    /// The highest sequence number of this user's entity whose tombstone the server has
    /// purged (0 when none); absent when the server does not say. A client notes it on the
    /// first page of a re-sync (the pull from cursor 0): a later page of the same re-sync
    /// that comes with `reset` but the same number lost nothing, as no purge ran since the
    /// re-sync began, and the re-sync goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_through: Option<u64>,
}
