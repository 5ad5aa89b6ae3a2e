//! Deliberate bugs, for syncsim's mutant catalog.
//!
//! Each variant turns one correct decision of the server into a bug seen in real sync
//! servers, so that the certification suite can show that its checks catch it. They exist
//! only with the `mutants` feature, which the suite enables; a deployment never compiles
//! them in.

/// One deliberate bug of the server. With the `mutants` feature, set
/// [`ServerConfig::bug`](crate::ServerConfig::bug) to plant it; without, no bug exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(not(feature = "mutants"), allow(unreachable_pub, dead_code))]
pub enum Bug {
    /// Pushed mutations are applied without looking up their idempotency key.
    IdempotencyIgnored,
    /// A push's idempotency records are written in a transaction of their own, after its
    /// effects have committed and the answer is on its way: a crash in between leaves
    /// effects with no record of them, and the device's retry applies them again.
    IdempotencyRecordedAfterCommit,
    /// A push looks its idempotency keys up in a read of its own, then applies its
    /// mutations in a second transaction after an await (as with an async database driver),
    /// writing their records with `INSERT OR IGNORE`: a copy of the push that arrives while
    /// the first is between the two finds no record either, and applies every mutation
    /// again.
    IdempotencyCheckedApart,
    /// A pull reads its page, then the store's newest change as its cursor, in a second
    /// read after an await: a push committed in between lies behind a cursor already
    /// served, and the device never pulls it.
    PullCursorReadApart,
    /// The pull cursor is the last change's timestamp, and a pull returns changes with a
    /// later timestamp.
    CursorByTimestamp,
    /// A change's version is the server's clock in microseconds (its millisecond, and a
    /// counter within it), as an `updated_at` column's would be: in order while the clock
    /// only moves forward, behind the cursors already served once it steps back.
    VersionsFromServerClock,
    /// A delete removes the row: there is no tombstone for other devices to pull.
    HardDeletes,
    /// Last-write-wins compares the devices' wall clocks instead of hybrid logical clocks.
    LastWriteWinsByDeviceClock,
    /// A write is applied whatever version it was based on: stale writes overwrite.
    NoBaseVersionCheck,
    /// Pulls leave out deleted records.
    PullSkipsTombstones,
    /// A counter increment overwrites the device's share of the counter instead of adding
    /// to it.
    CounterOverwrite,
    /// Pulls are not filtered by the authenticated user.
    LeaksOtherUsers,
    /// An update from a client of an older protocol version is brought to the current
    /// version by filling in the fields it does not know with their defaults (null): an old
    /// app's edit erases what newer apps wrote to those fields.
    OldWritesResetUnknownFields,
    /// The Replicache dialect applies every pushed mutation without comparing its id with
    /// the client's `lastMutationID`: a mutation re-sent before a pull acknowledged it runs
    /// again.
    ReplicacheLastMutationIdUnchecked,
    /// The Replicache dialect's pull cookie is the version of the user's newest live record:
    /// it goes back when that record is deleted, and stays put when only a
    /// `lastMutationID` changed.
    ReplicacheCookieFromLiveRows,
}
