//! The server's SQLite store: records, the change sequence, the idempotency table and the
//! tombstone horizon.

use crate::bug::Bug;
use crate::error::{Error, Result};
use protocol::{Entity, MutationResult, Record};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS sequence (id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER NOT NULL);
INSERT OR IGNORE INTO sequence (id, last) VALUES (0, 0);
CREATE TABLE IF NOT EXISTS records (
    user TEXT NOT NULL,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    deleted_at_ms INTEGER,
    body TEXT NOT NULL,
    PRIMARY KEY (user, entity, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records (user, entity, seq);
CREATE INDEX IF NOT EXISTS tombstones ON records (deleted_at_ms) WHERE deleted_at_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    version_after INTEGER,
    result TEXT NOT NULL,
    PRIMARY KEY (user, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watermelon_created (
    user TEXT NOT NULL,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user, entity, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replicache_clients (
    client_id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    client_group_id TEXT NOT NULL,
    last_mutation_id INTEGER NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replicache_clients_by_group ON replicache_clients (client_group_id, seq);
CREATE TABLE IF NOT EXISTS horizon (
    user TEXT NOT NULL,
    entity TEXT NOT NULL,
    purged_through INTEGER NOT NULL,
    PRIMARY KEY (user, entity)
) WITHOUT ROWID;
";

/// A Replicache client as the dialect keeps it: whose it is, and the last of its mutations
/// the server has processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReplicacheClient {
    pub(crate) user: String,
    pub(crate) group: String,
    pub(crate) last_mutation_id: u64,
}

/// One page of a pull, before it is put on the wire.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) changes: Vec<Record>,
    pub(crate) cursor: u64,
    pub(crate) has_more: bool,
    pub(crate) reset: bool,
    pub(crate) purged_through: u64,
}

/// The server's database. Every method runs inline on the caller's thread: in the
/// simulation there is no thread pool and no blocking task.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::init(Connection::open(path)?)
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// The last change sequence number issued.
    pub fn last_seq(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT last FROM sequence", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Every record of `user` (tombstones included), by entity then id: the server's state
    /// for that user, for checks and tests.
    pub fn records(&self, user: &str) -> Result<Vec<Record>> {
        let mut stmt = self.conn.prepare_cached("SELECT body FROM records WHERE user = ?1 ORDER BY entity, id")?;
        let bodies = stmt.query_map([user], |r| r.get::<_, String>(0))?;
        bodies.map(|b| decode_record(&b?)).collect()
    }

    /// Every user that has records, in order.
    pub fn users(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT user FROM records ORDER BY user")?;
        let users = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(users.collect::<rusqlite::Result<_>>()?)
    }

    /// The changes of `user`'s `entity` after cursor `since`, at most `limit`, in sequence
    /// order. `bug` plants a mutant's broken query (see [`Bug`]).
    pub(crate) fn pull(&self, user: &str, entity: Entity, since: u64, limit: u32, bug: Option<Bug>) -> Result<Page> {
        let purged_through = self.purged_through(user, entity)?;
        let by_timestamp = bug == Some(Bug::CursorByTimestamp);
        let sql = match bug {
            Some(Bug::CursorByTimestamp) => "SELECT body FROM records WHERE user = ?1 AND entity = ?2
                AND json_extract(body, '$.updated_at_ms') > ?3 ORDER BY json_extract(body, '$.updated_at_ms'), seq LIMIT ?4",
            Some(Bug::PullSkipsTombstones) => "SELECT body FROM records WHERE user = ?1 AND entity = ?2 AND seq > ?3
                AND deleted_at_ms IS NULL ORDER BY seq LIMIT ?4",
            Some(Bug::LeaksOtherUsers) => {
                "SELECT body FROM records WHERE ?1 IS NOT NULL AND entity = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
            }
            _ => "SELECT body FROM records WHERE user = ?1 AND entity = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![user, entity.name(), since as i64, i64::from(limit) + 1], |r| r.get::<_, String>(0))?;
        let mut changes = rows.map(|b| decode_record(&b?)).collect::<Result<Vec<_>>>()?;
        let has_more = changes.len() > limit as usize;
        changes.truncate(limit as usize);
        let cursor = match changes.last() {
            Some(last) if by_timestamp => last.updated_at_ms as u64,
            Some(last) => last.version,
            None => since,
        };
        // The last page ends past the purge: the purged changes are deletions a re-synced
        // client has already applied (it drops what the re-sync did not return). Ending
        // below it would answer the next pull with a reset again, for ever.
        let cursor = if has_more || by_timestamp { cursor } else { cursor.max(purged_through) };
        let reset = !by_timestamp && since > 0 && since < purged_through;
        Ok(Page { changes, cursor, has_more, reset, purged_through })
    }

    /// Every record of `user` changed after `since` (tombstones included), in change order,
    /// each with the change that created it when the WatermelonDB dialect created it.
    pub(crate) fn changed_since(&self, user: &str, since: u64) -> Result<Vec<(Record, Option<u64>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.body, c.seq FROM records r LEFT JOIN watermelon_created c USING (user, entity, id)
             WHERE r.user = ?1 AND r.seq > ?2 ORDER BY r.seq",
        )?;
        let rows =
            stmt.query_map(params![user, since as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)))?;
        rows.map(|row| {
            let (body, created) = row?;
            Ok((decode_record(&body)?, created.map(|c| c as u64)))
        })
        .collect()
    }

    /// The user whose Replicache clients make up `group`, if it has any.
    pub(crate) fn replicache_group_user(&self, group: &str) -> Result<Option<String>> {
        group_user(&self.conn, group)
    }

    /// The `lastMutationID` of each client of `user`'s Replicache `group` that changed after
    /// change `since`, by client id.
    pub(crate) fn replicache_last_mutation_ids(
        &self,
        user: &str,
        group: &str,
        since: u64,
    ) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT client_id, last_mutation_id FROM replicache_clients
             WHERE client_group_id = ?1 AND user = ?2 AND seq > ?3 ORDER BY client_id",
        )?;
        let rows =
            stmt.query_map(params![group, user, since as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The change of `user`'s newest live record (0 for none): the cookie of the Replicache
    /// mutant that takes it for the store's version.
    pub(crate) fn newest_live_record(&self, user: &str) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM records WHERE user = ?1 AND deleted_at_ms IS NULL")?;
        Ok(stmt.query_row([user], |r| r.get::<_, i64>(0))? as u64)
    }

    fn purged_through(&self, user: &str, entity: Entity) -> Result<u64> {
        let mut stmt =
            self.conn.prepare_cached("SELECT purged_through FROM horizon WHERE user = ?1 AND entity = ?2")?;
        let value = stmt.query_row(params![user, entity.name()], |r| r.get::<_, i64>(0)).optional()?;
        Ok(value.unwrap_or(0) as u64)
    }

    /// Runs `f` in one write transaction: everything it writes commits together or not at
    /// all (a handler cancelled mid-request changes nothing).
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut wrapped = Tx { tx };
        let out = f(&mut wrapped)?;
        wrapped.tx.commit()?;
        Ok(out)
    }
}

/// A write transaction on the store.
pub(crate) struct Tx<'c> {
    tx: Transaction<'c>,
}

impl Tx<'_> {
    /// The next change sequence number. Assigned inside the write transaction, so commit
    /// order and sequence order agree.
    pub(crate) fn next_seq(&mut self) -> Result<u64> {
        let seq =
            self.tx.query_row("UPDATE sequence SET last = last + 1 RETURNING last", [], |r| r.get::<_, i64>(0))?;
        Ok(seq as u64)
    }

    /// The next change version of the [`Bug::VersionsFromServerClock`] mutant: the clock's
    /// millisecond `now_ms` times 1000, plus a counter while changes share the millisecond.
    pub(crate) fn next_seq_from_clock(&mut self, now_ms: i64) -> Result<u64> {
        let seq = self.tx.query_row(
            "UPDATE sequence SET last = CASE WHEN last / 1000 = ?1 THEN last + 1 ELSE ?1 * 1000 END RETURNING last",
            [now_ms],
            |r| r.get::<_, i64>(0),
        )?;
        Ok(seq as u64)
    }

    pub(crate) fn record(&self, user: &str, entity: Entity, id: &str) -> Result<Option<Record>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT body FROM records WHERE user = ?1 AND entity = ?2 AND id = ?3")?;
        let body = stmt.query_row(params![user, entity.name(), id], |r| r.get::<_, String>(0)).optional()?;
        body.map(|b| decode_record(&b)).transpose()
    }

    pub(crate) fn put_record(&mut self, user: &str, record: &Record) -> Result<()> {
        let body = serde_json::to_string(record).expect("records always serialize");
        let deleted_at = record.deleted.then_some(record.updated_at_ms);
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO records (user, entity, id, seq, deleted_at_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (user, entity, id) DO UPDATE SET seq = ?4, deleted_at_ms = ?5, body = ?6",
        )?;
        stmt.execute(params![user, record.entity.name(), record.id, record.version as i64, deleted_at, body])?;
        Ok(())
    }

    /// Notes that the WatermelonDB dialect created `entity` `id` at change `seq` (its
    /// literal created/updated split reads it).
    pub(crate) fn note_created(&mut self, user: &str, entity: Entity, id: &str, seq: u64) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO watermelon_created (user, entity, id, seq) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute(params![user, entity.name(), id, seq as i64])?;
        Ok(())
    }

    /// The stored state of Replicache client `id`, if the server has seen it.
    pub(crate) fn replicache_client(&self, id: &str) -> Result<Option<ReplicacheClient>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT user, client_group_id, last_mutation_id FROM replicache_clients WHERE client_id = ?1",
        )?;
        let row = stmt.query_row([id], |r| {
            Ok(ReplicacheClient { user: r.get(0)?, group: r.get(1)?, last_mutation_id: r.get::<_, i64>(2)? as u64 })
        });
        Ok(row.optional()?)
    }

    /// The user whose Replicache clients make up `group`, if it has any.
    pub(crate) fn replicache_group_user(&self, group: &str) -> Result<Option<String>> {
        group_user(&self.tx, group)
    }

    /// Stores Replicache client `id`'s state, changed at change `seq`.
    pub(crate) fn put_replicache_client(&mut self, id: &str, client: &ReplicacheClient, seq: u64) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO replicache_clients (client_id, user, client_group_id, last_mutation_id, seq)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (client_id) DO UPDATE SET last_mutation_id = ?4, seq = ?5",
        )?;
        stmt.execute(params![id, client.user, client.group, client.last_mutation_id as i64, seq as i64])?;
        Ok(())
    }

    /// Removes a record outright, leaving no tombstone (only the hard-deletes mutant does).
    pub(crate) fn remove_record(&mut self, user: &str, entity: Entity, id: &str) -> Result<()> {
        self.tx.execute(
            "DELETE FROM records WHERE user = ?1 AND entity = ?2 AND id = ?3",
            params![user, entity.name(), id],
        )?;
        Ok(())
    }

    /// The stored result of `key`, and the record version it left behind.
    pub(crate) fn idempotent(&self, user: &str, key: &str) -> Result<Option<(MutationResult, Option<u64>)>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT result, version_after FROM idempotency WHERE user = ?1 AND key = ?2")?;
        let row = stmt
            .query_row(params![user, key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)))
            .optional()?;
        row.map(|(result, version)| {
            let result = serde_json::from_str(&result).map_err(|source| Error::Corrupt { what: "result", source })?;
            Ok((result, version.map(|v| v as u64)))
        })
        .transpose()
    }

    pub(crate) fn remember(&mut self, user: &str, result: &MutationResult, version_after: Option<u64>) -> Result<()> {
        self.insert_result("INSERT", user, result, version_after)
    }

    /// [`Tx::remember`], leaving a record already there as it is (`INSERT OR IGNORE`): the
    /// [`Bug::IdempotencyCheckedApart`] mutant's write.
    pub(crate) fn remember_unless_recorded(
        &mut self,
        user: &str,
        result: &MutationResult,
        version_after: Option<u64>,
    ) -> Result<()> {
        self.insert_result("INSERT OR IGNORE", user, result, version_after)
    }

    /// Stores `result` in the idempotency table with `insert` (`INSERT` or a variant of it).
    fn insert_result(&mut self, insert: &str, user: &str, result: &MutationResult, version: Option<u64>) -> Result<()> {
        let body = serde_json::to_string(result).expect("results always serialize");
        let sql = format!("{insert} INTO idempotency (user, key, version_after, result) VALUES (?1, ?2, ?3, ?4)");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        stmt.execute(params![user, result.key, version.map(|v| v as i64), body])?;
        Ok(())
    }

    /// Hard-deletes tombstones deleted before `before_ms`, and raises each affected
    /// (user, entity) horizon so that clients with older cursors are told to re-sync.
    pub(crate) fn purge_tombstones(&mut self, before_ms: i64) -> Result<usize> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO horizon (user, entity, purged_through)
             SELECT user, entity, MAX(seq) FROM records WHERE deleted_at_ms < ?1 GROUP BY user, entity
             ON CONFLICT (user, entity) DO UPDATE SET purged_through = MAX(purged_through, excluded.purged_through)",
        )?;
        stmt.execute([before_ms])?;
        let purged = self.tx.execute("DELETE FROM records WHERE deleted_at_ms < ?1", [before_ms])?;
        Ok(purged)
    }
}

fn group_user(conn: &Connection, group: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT user FROM replicache_clients WHERE client_group_id = ?1 LIMIT 1")?;
    Ok(stmt.query_row([group], |r| r.get(0)).optional()?)
}

fn decode_record(body: &str) -> Result<Record> {
    serde_json::from_str(body).map_err(|source| Error::Corrupt { what: "record", source })
}
