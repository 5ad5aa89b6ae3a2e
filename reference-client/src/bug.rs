//! Deliberate bugs, for syncsim's mutant catalog.
//!
//! Each variant turns one correct decision of the client into a bug seen in real sync
//! engines, so that the certification suite can show that its checks catch it. They exist
//! only with the `mutants` feature, which the suite enables; an app never compiles them in.

/// One deliberate bug of the client. With the `mutants` feature, set
/// [`ClientConfig::bug`](crate::ClientConfig::bug) to plant it; without, no bug exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(not(feature = "mutants"), allow(unreachable_pub, dead_code))]
pub enum Bug {
    /// The idempotency key is made when a request is built, not when the write is queued:
    /// each retry is a new mutation to the server.
    FreshKeyPerRetry,
    /// A queue entry is removed when its push starts, before the server answered.
    DequeueBeforeAck,
    /// A pull page's cursor is saved in its own transaction, before the page is applied.
    CursorSavedBeforePage,
    /// The hybrid logical clock never observes the stamps it pulls: a device with a slow
    /// clock stamps its writes before the writes it has already seen.
    HlcIgnoresRemote,
    /// A pulled record replaces the local row, hiding the device's own pending writes.
    PullOverwritesPendingEdits,
    /// The server's "re-sync, your cursor is past the tombstone horizon" is ignored.
    ResyncIgnored,
    /// A push's answer is stored as the record's server copy even when it is the replay of
    /// a write whose first answer was lost and the last full re-sync found the record gone:
    /// a record deleted elsewhere and purged meanwhile comes back on this device for good.
    ReplayedAnswerTrusted,
    /// A mutation the server refuses for good is dropped from the queue, and nobody is told.
    FailedMutationDropped,
    /// A pulled version replaces the stored one only when its timestamp, in whole seconds,
    /// is newer: versions within the same second tie, and the tie keeps whichever version
    /// the device happened to see first.
    SecondResolutionTieBreak,
    /// A failed round is retried at the next trigger, with no backoff and no respect for
    /// `Retry-After`.
    RetryWithoutBackoff,
    /// Opening the app after an upgrade recreates the local database instead of migrating
    /// it.
    MigrationRecreatesDatabase,
    /// An app upgraded to a newer protocol keeps pulling from its old cursors: records it
    /// pulled before the upgrade never get the fields the old protocol left out.
    UpgradeKeepsCursors,
    /// Migrations run statement by statement, each committing on its own, without checking
    /// what already exists; the schema version is bumped at the end. An app killed during
    /// an upgrade leaves a half-migrated database that its next open fails to migrate
    /// ("duplicate column name", "table already exists").
    MigrationNotIdempotent,
    /// Schema version 3 adds `cursors.protocol` as `NOT NULL` without a default. SQLite
    /// refuses that on a table with rows: a device that has ever pulled cannot upgrade, and
    /// the app does not open.
    NotNullWithoutDefault,
    /// At start-up the app shows each record as the server last sent it, and re-applies its
    /// queue of pending writes only when the next sync round starts: until then, what the
    /// user wrote before the app was killed is gone from the screen (reads go backwards).
    ViewRestoredAtOpen,
    /// A push the server refuses (a 4xx: a write it will never accept) fails the round and
    /// is sent again as it is at the next one, like a network error: the refused write, and
    /// every write queued behind it, never reach the server.
    RefusedPushRetried,
    /// A sync round does not wait for one under way: a second round (a background task
    /// started during a foreground sync) runs beside it on a connection of its own. And, as
    /// many clients do, a pulled row is stored as the truth, whatever version the device
    /// holds: harmless while rounds take turns (a page never carries an older version than
    /// the pages before it), wrong when an overlapping round's older page lands after a
    /// newer one.
    RoundsOverlap,
    /// A pulled tombstone of a record this device still has edits queued for completes
    /// them: the delete wins on the device and nobody is told that the edits are lost (what
    /// WatermelonDB does by design; this client declares that it shows such edits).
    TombstoneDropsPendingEdits,
    /// The app keeps one local database whoever logs in (planted by the app around the
    /// replica, `scenarios`' reference adapter): the next user sees the previous one's
    /// records, pulls from their cursors, and pushes their queued writes as their own.
    StoreSharedAcrossUsers,
    /// Logging out deletes the local database of the user who leaves (planted by the app
    /// around the replica, as [`Bug::StoreSharedAcrossUsers`]): the writes they had not
    /// synced yet are gone, and nobody is told.
    LogoutWipesTheStore,
}
