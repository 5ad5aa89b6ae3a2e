//! The local SQLite store. Every method is one transaction: a local write commits with its
//! queue entry, a pull page with its cursor, an acknowledgement with the record's new
//! version. A kill between any two of them loses nothing and duplicates nothing.

use crate::bug::Bug;
use crate::config::ClientConfig;
use crate::error::{corrupt, Error, Result};
use crate::hook::SyncHook;
use crate::packed::{self, PACKED_SINCE};
use crate::queue::{Payload, QueueEntry, QueueStatus};
use crate::report::SyncReport;
use crate::schema::{self, queue_format, Mode};
use crate::status::SyncStatus;
use crate::stored;
use protocol::Changes;
use protocol::{Action, Entity, HlcClock, Record};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A record as the user sees it on this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalRecord {
    /// Its entity.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Visible fields: registers as they are, counters as numbers, sets as sorted arrays.
    pub fields: BTreeMap<String, Value>,
    /// The last server version this device knows (0 if never synced).
    pub version: u64,
    /// How it stands with the server.
    pub sync_status: SyncStatus,
    /// Last change, ms since the Unix epoch.
    pub updated_at_ms: i64,
}

/// Sync rounds kept in `sync_log`.
pub(crate) const SYNC_LOG_ROUNDS: u32 = 100;

/// The local database of one device.
#[derive(Debug)]
pub(crate) struct Store {
    conn: Connection,
    device: String,
    /// The schema version the database was opened at: the app's, not necessarily the latest.
    schema: u32,
    /// The sync protocol version the app speaks.
    protocol: u32,
    /// A cursor pulled with an older protocol than this starts a full re-sync: the app's
    /// protocol (1, so that none does, with the upgrade-keeps-cursors mutant).
    resync_below: u32,
}

/// The tables of a schema and how their rows read: JSON text in `records` and `queue` up to
/// schema 6, packed rows in `local_records` and `mutations` from schema 7 (see [`packed`]).
/// Every statement that touches them binds its values through here.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout(u32);

impl Layout {
    fn packed(self) -> bool {
        self.0 >= PACKED_SINCE
    }

    /// The records table.
    pub(crate) fn records(self) -> &'static str {
        if self.packed() {
            "local_records"
        } else {
            "records"
        }
    }

    /// The queue table.
    pub(crate) fn queue(self) -> &'static str {
        if self.packed() {
            "mutations"
        } else {
            "queue"
        }
    }

    pub(crate) fn entity(self, entity: Entity) -> SqlValue {
        if self.packed() {
            SqlValue::Integer(packed::entity_code(entity))
        } else {
            SqlValue::Text(entity.name().to_owned())
        }
    }

    /// A record id or a mutation key.
    pub(crate) fn id(self, id: &str) -> SqlValue {
        if self.packed() {
            packed::key(id)
        } else {
            SqlValue::Text(id.to_owned())
        }
    }

    pub(crate) fn status(self, status: QueueStatus) -> SqlValue {
        if self.packed() {
            SqlValue::Integer(status.code())
        } else {
            SqlValue::Text(status.name().to_owned())
        }
    }

    fn sync_status(self, status: SyncStatus) -> SqlValue {
        if self.packed() {
            SqlValue::Integer(status.code())
        } else {
            SqlValue::Text(status.name().to_owned())
        }
    }

    fn action(self, action: Action) -> SqlValue {
        if self.packed() {
            SqlValue::Integer(packed::action_code(action))
        } else {
            SqlValue::Text(action.name().to_owned())
        }
    }

    fn read_entity(self, stored: ValueRef<'_>) -> Result<Entity> {
        match stored {
            ValueRef::Integer(code) if self.packed() => packed::entity_of(code),
            other => parse_entity(other.as_str().map_err(rusqlite::Error::from)?),
        }
    }

    fn read_id(self, stored: ValueRef<'_>) -> Result<String> {
        if self.packed() {
            packed::key_text(stored)
        } else {
            Ok(stored.as_str().map_err(rusqlite::Error::from)?.to_owned())
        }
    }

    /// The columns [`Layout::local_record`] reads.
    fn record_columns(self) -> &'static str {
        if self.packed() {
            "entity, id, fields, version, sync_status, updated_at_ms"
        } else {
            "entity, id, visible, version, sync_status, updated_at_ms"
        }
    }

    fn local_record(self, r: &Row<'_>) -> Result<LocalRecord> {
        let entity = self.read_entity(r.get_ref(0)?)?;
        let (fields, sync_status) = if self.packed() {
            let fields = packed::decode_fields(entity, r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?)?;
            (fields, SyncStatus::from_code(r.get(4)?))
        } else {
            let visible = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
            let fields = serde_json::from_str(visible).map_err(corrupt("visible fields"))?;
            (fields, SyncStatus::parse(r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?))
        };
        Ok(LocalRecord {
            entity,
            id: self.read_id(r.get_ref(1)?)?,
            fields,
            version: r.get::<_, i64>(3)? as u64,
            sync_status,
            updated_at_ms: r.get(5)?,
        })
    }

    /// The queue columns [`Layout::queue_entry`] reads. The stored JSON is `payload` up to
    /// schema version 3 and `body` from version 5; at version 4 both are written, and
    /// `payload` is read only if a row somehow lacks its `body`.
    fn queue_columns(self) -> String {
        let json = match self.0 {
            ..=3 => "payload",
            4 => "COALESCE(body, payload)",
            _ => "body",
        };
        format!("seq, key, entity, record_id, action, base_version, after_key, {json}, status, retries, last_error, format_version")
    }

    fn queue_entry(self, r: &Row<'_>) -> Result<QueueEntry> {
        let entity = self.read_entity(r.get_ref(2)?)?;
        let format_version: u32 = r.get(11)?;
        let payload = match r.get_ref(7)? {
            ValueRef::Blob(bytes) if format_version >= 3 => packed::decode_payload(entity, bytes)?,
            json => Payload::decode(json.as_str().map_err(rusqlite::Error::from)?, format_version)
                .map_err(corrupt("queue payload"))?,
        };
        let (action, status) = if self.packed() {
            (packed::action_of(r.get(4)?)?, QueueStatus::from_code(r.get(8)?))
        } else {
            let action: String = r.get(4)?;
            let status: String = r.get(8)?;
            (Action::parse(&action).unwrap_or(Action::Update), QueueStatus::parse(&status))
        };
        Ok(QueueEntry {
            seq: r.get(0)?,
            key: self.read_id(r.get_ref(1)?)?,
            entity,
            record_id: self.read_id(r.get_ref(3)?)?,
            action,
            base_version: r.get::<_, i64>(5)? as u64,
            after: match r.get_ref(6)? {
                ValueRef::Null => None,
                stored => Some(self.read_id(stored)?),
            },
            changes: payload.changes,
            hlc: payload.hlc,
            client_time_ms: payload.client_time_ms,
            status,
            retries: r.get(9)?,
            last_error: r.get(10)?,
            format_version,
        })
    }
}

impl Store {
    /// Opens the database at `path`, migrated to the app's schema version (see
    /// [`ClientConfig::schema_version`]), showing each migration change to `hook`.
    pub(crate) async fn open(path: &Path, config: &ClientConfig, hook: Option<&dyn SyncHook>) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        if config.schema_version >= PACKED_SINCE {
            // Only a database with no page yet takes it here (an upgraded one takes it with
            // the VACUUM of its upgrade): before WAL mode writes the first page.
            conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
        }
        // An 8 MB page cache (SQLite's default is 2 MB) holds a device's 10,000 records
        // whole: listing them all reads no page from the file twice.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8000;",
        )?;
        let found = schema::version(&conn)?;
        let schema = config.schema_version;
        if config.bugged(Bug::MigrationRecreatesDatabase) && found > 0 && found < schema {
            schema::recreate(&mut conn)?;
        }
        schema::upgrade(&mut conn, schema, migration_mode(config), hook).await?;
        let layout = Layout(schema);
        conn.execute(
            &format!("UPDATE {} SET status = ?1 WHERE status = ?2", layout.queue()),
            [layout.status(QueueStatus::Pending), layout.status(QueueStatus::InFlight)],
        )?;
        let protocol = config.protocol_version;
        let resync_below = if config.bugged(Bug::UpgradeKeepsCursors) { 1 } else { protocol };
        Ok(Self { conn, device: config.device.clone(), schema, protocol, resync_below })
    }

    pub(crate) fn device(&self) -> &str {
        &self.device
    }

    /// The schema version the database was opened at.
    pub(crate) fn schema(&self) -> u32 {
        self.schema
    }

    pub(crate) fn layout(&self) -> Layout {
        Layout(self.schema)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn transaction(&mut self) -> Result<Tx<'_>> {
        let tx = self.conn.transaction()?;
        let (schema, protocol, resync_below) = (self.schema, self.protocol, self.resync_below);
        Ok(Tx { tx, device: &self.device, schema, protocol, resync_below })
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub(crate) fn get(&self, entity: Entity, id: &str) -> Result<Option<LocalRecord>> {
        let l = self.layout();
        let sql =
            format!("SELECT {} FROM {} WHERE entity = ?1 AND id = ?2 AND deleted = 0", l.record_columns(), l.records());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_row(params![l.entity(entity), l.id(id)], |r| Ok(l.local_record(r))).optional()?.transpose()
    }

    /// Visible records of `entity`, most recently changed first (the latest id first among
    /// those changed in the same millisecond).
    pub(crate) fn list(&self, entity: Entity, limit: Option<u32>) -> Result<Vec<LocalRecord>> {
        let l = self.layout();
        if !l.packed() {
            return self.list_json(entity, limit);
        }
        // Everything: the table in its own order, sorted here (SQLite's sorter would copy
        // every row). A screenful: the `local_records_recent` index from the newest down to
        // the `limit`th, with every record changed in the same millisecond as that one, so
        // that ties order by id as text (stored ids order UUIDs after other ids); only the
        // records kept are decoded.
        let newest_first =
            |a: &LocalRecord, b: &LocalRecord| b.updated_at_ms.cmp(&a.updated_at_ms).then_with(|| b.id.cmp(&a.id));
        let Some(limit) = limit else {
            let sql = format!(
                "SELECT {} FROM local_records NOT INDEXED WHERE entity = ?1 AND deleted = 0",
                l.record_columns()
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut records = Vec::new();
            let mut rows = stmt.query(params![l.entity(entity)])?;
            while let Some(r) = rows.next()? {
                records.push(l.local_record(r)?);
            }
            records.sort_unstable_by(newest_first);
            return Ok(records);
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, version, sync_status, updated_at_ms, fields FROM local_records
             WHERE entity = ?1 AND deleted = 0 AND updated_at_ms >= coalesce(
                (SELECT updated_at_ms FROM local_records WHERE entity = ?1 AND deleted = 0
                 ORDER BY updated_at_ms DESC LIMIT 1 OFFSET ?2), -9223372036854775808)",
        )?;
        let mut found = Vec::new();
        let mut rows = stmt.query(params![l.entity(entity), i64::from(limit) - 1])?;
        while let Some(r) = rows.next()? {
            let record = LocalRecord {
                entity,
                id: l.read_id(r.get_ref(0)?)?,
                fields: BTreeMap::new(),
                version: r.get::<_, i64>(1)? as u64,
                sync_status: SyncStatus::from_code(r.get(2)?),
                updated_at_ms: r.get(3)?,
            };
            found.push((record, r.get::<_, Vec<u8>>(4)?));
        }
        found.sort_unstable_by(|(a, _), (b, _)| newest_first(a, b));
        found.truncate(limit as usize);
        found
            .into_iter()
            .map(|(record, fields)| Ok(LocalRecord { fields: packed::decode_fields(entity, &fields)?, ..record }))
            .collect()
    }

    /// [`Store::list`] up to schema 6.
    fn list_json(&self, entity: Entity, limit: Option<u32>) -> Result<Vec<LocalRecord>> {
        let l = self.layout();
        // A screenful walks the `records_visible` index, newest first, and stops. All of
        // them read the table in its own order and sort: through the index, every row is a
        // lookup of its own (10,000 tasks: 130 ms against 40 ms). `+deleted` hides the
        // partial index's condition from the planner, which would otherwise pick it.
        let deleted = if limit.is_some() { "deleted" } else { "+deleted" };
        let sql = format!(
            "SELECT {} FROM records WHERE entity = ?1 AND {deleted} = 0
             ORDER BY updated_at_ms DESC, id DESC LIMIT ?2",
            l.record_columns()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![entity.name(), limit.map_or(-1, i64::from)], |r| Ok(l.local_record(r)))?;
        rows.map(|r| r?).collect()
    }

    pub(crate) fn queue(&self, status: Option<QueueStatus>) -> Result<Vec<QueueEntry>> {
        let l = self.layout();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM {} WHERE ?1 IS NULL OR status = ?1 ORDER BY seq",
            l.queue_columns(),
            l.queue()
        ))?;
        let rows = stmt.query_map([status.map(|s| l.status(s))], |r| Ok(l.queue_entry(r)))?;
        rows.map(|r| r?).collect()
    }

    pub(crate) fn count(&self, status: QueueStatus) -> Result<usize> {
        let l = self.layout();
        let sql = format!("SELECT COUNT(*) FROM {} WHERE status = ?1", l.queue());
        let n: i64 = self.conn.query_row(&sql, [l.status(status)], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// The next open entries to push, in queue order, skipping `attempted` keys.
    pub(crate) fn next_batch(
        &self,
        limit: usize,
        attempted: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<QueueEntry>> {
        let l = self.layout();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM {} WHERE status IN (?1, ?2) ORDER BY seq",
            l.queue_columns(),
            l.queue()
        ))?;
        let mut out = Vec::new();
        let open = [l.status(QueueStatus::Pending), l.status(QueueStatus::InFlight)];
        for row in stmt.query_map(open, |r| Ok(l.queue_entry(r)))? {
            let entry = row??;
            if !attempted.contains(&entry.key) {
                out.push(entry);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Drops the entries completed in earlier rounds. Returns how many.
    pub(crate) fn prune_completed(&self) -> Result<usize> {
        let l = self.layout();
        let sql = format!("DELETE FROM {} WHERE status = ?1", l.queue());
        Ok(self.conn.execute(&sql, [l.status(QueueStatus::Completed)])?)
    }

    /// Puts every failed entry back in the queue, its retries forgotten. Returns how many.
    pub(crate) fn retry_failed(&self) -> Result<usize> {
        let l = self.layout();
        let sql = format!("UPDATE {} SET status = ?1, retries = 0 WHERE status = ?2", l.queue());
        Ok(self.conn.execute(&sql, [l.status(QueueStatus::Pending), l.status(QueueStatus::Failed)])?)
    }

    /// Where the next pull of `entity` starts, and whether a full re-sync of it is under way
    /// (see [`cursor_for`]).
    pub(crate) fn cursor(&self, entity: Entity) -> Result<(u64, bool)> {
        cursor_for(&self.conn, entity, self.schema, self.resync_below)
    }

    /// Gives the database's free pages back to the device (from schema 7, whose databases
    /// vacuum incrementally): a full re-sync's bookkeeping, pruned entries and moved rows
    /// leave them behind. Returns how many there were.
    pub(crate) fn release_free_pages(&self) -> Result<i64> {
        if !self.layout().packed() {
            return Ok(0);
        }
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        if free > 0 {
            // Each step of the pragma frees one page.
            let mut stmt = self.conn.prepare_cached("PRAGMA incremental_vacuum")?;
            let mut steps = stmt.raw_query();
            while steps.next()?.is_some() {}
        }
        Ok(free)
    }

    /// Records one sync round in `sync_log`, keeping the last [`SYNC_LOG_ROUNDS`] (from
    /// schema version 3; an older app keeps no log).
    pub(crate) fn log_round(
        &mut self,
        started_at_ms: i64,
        finished_at_ms: i64,
        outcome: &Result<SyncReport>,
    ) -> Result<()> {
        if self.schema < 3 {
            return Ok(());
        }
        let (pulled, pushed, error) = match outcome {
            Ok(report) => (report.pulled, report.pushed, None),
            Err(e) => (0, 0, Some(e.to_string())),
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO sync_log (started_at_ms, finished_at_ms, pulled, pushed, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![started_at_ms, finished_at_ms, pulled as i64, pushed as i64, error],
        )?;
        tx.execute(
            "DELETE FROM sync_log WHERE id NOT IN (SELECT id FROM sync_log ORDER BY id DESC LIMIT ?1)",
            [SYNC_LOG_ROUNDS],
        )?;
        Ok(tx.commit()?)
    }
}

/// How the app's migrations run: correctly, unless a migration mutant is planted.
fn migration_mode(config: &ClientConfig) -> Mode {
    if config.bugged(Bug::MigrationNotIdempotent) {
        Mode::Autocommit
    } else if config.bugged(Bug::NotNullWithoutDefault) {
        Mode::NoDefaults
    } else {
        Mode::Correct
    }
}

/// An entity's pull cursor as stored, whatever protocol version pulled it, and whether a
/// full re-sync of it is under way.
pub(crate) fn read_cursor(conn: &Connection, entity: Entity) -> Result<(u64, bool)> {
    let row = conn
        .query_row("SELECT seq, resync FROM cursors WHERE entity = ?1", [entity.name()], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, bool>(1)?))
        })
        .optional()?;
    Ok(row.unwrap_or((0, false)))
}

/// Where the next pull of `entity` starts for an app at `schema` speaking `protocol`: the
/// stored cursor, or 0 (a full re-sync) when it was pulled with an older protocol than
/// `protocol`, whose records lack the fields this one carries. Below schema version 3 cursors do not say their
/// protocol, and such an app speaks only protocol 1.
pub(crate) fn cursor_for(conn: &Connection, entity: Entity, schema: u32, protocol: u32) -> Result<(u64, bool)> {
    if schema < 3 {
        return read_cursor(conn, entity);
    }
    let pulled_with: Option<u32> =
        conn.query_row("SELECT protocol FROM cursors WHERE entity = ?1", [entity.name()], |r| r.get(0)).optional()?;
    match pulled_with {
        Some(p) if p < protocol => Ok((0, true)),
        _ => read_cursor(conn, entity),
    }
}

fn parse_entity(name: &str) -> Result<Entity> {
    Entity::parse(name).ok_or_else(|| Error::Corrupt {
        what: "entity name",
        source: serde::de::Error::custom(format!("unknown entity {name:?}")),
    })
}

/// One local transaction.
pub(crate) struct Tx<'c> {
    pub(crate) tx: Transaction<'c>,
    pub(crate) device: &'c str,
    schema: u32,
    protocol: u32,
    resync_below: u32,
}

/// A record row's sync state, as stored.
pub(crate) struct RecordRow {
    pub(crate) state: Record,
    pub(crate) server: Option<Record>,
}

impl Tx<'_> {
    pub(crate) fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// The schema version the database was opened at: new queue entries are written in
    /// its [`queue_format`].
    pub(crate) fn schema(&self) -> u32 {
        self.schema
    }

    fn layout(&self) -> Layout {
        Layout(self.schema)
    }

    /// The sync protocol version the app speaks: local writes may set only its fields.
    pub(crate) fn protocol(&self) -> u32 {
        self.protocol
    }

    /// Where the next pull of `entity` starts, like [`Store::cursor`].
    pub(crate) fn cursor(&self, entity: Entity) -> Result<(u64, bool)> {
        cursor_for(&self.tx, entity, self.schema, self.resync_below)
    }

    pub(crate) fn hlc(&self) -> Result<HlcClock> {
        match self.meta("hlc")? {
            Some(s) => serde_json::from_str(&s).map_err(corrupt("hybrid logical clock")),
            None => Ok(HlcClock::new(self.device)),
        }
    }

    pub(crate) fn save_hlc(&self, clock: &HlcClock) -> Result<()> {
        self.set_meta("hlc", &serde_json::to_string(clock).expect("clocks serialize"))
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub(crate) fn delete_meta(&self, key: &str) -> Result<()> {
        self.tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            [key, value],
        )?;
        Ok(())
    }

    pub(crate) fn row(&self, entity: Entity, id: &str) -> Result<Option<RecordRow>> {
        let l = self.layout();
        let columns = if l.packed() { "fields, crdt" } else { "visible, state" };
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {columns}, server, version, deleted FROM {} WHERE entity = ?1 AND id = ?2",
            l.records()
        ))?;
        let read = |r: &Row<'_>| -> Result<RecordRow> {
            let (version, deleted): (i64, bool) = (r.get(3)?, r.get(4)?);
            let text = |i| -> Result<&str> { Ok(r.get_ref(i)?.as_str().map_err(rusqlite::Error::from)?) };
            let blob = |i| -> Result<&[u8]> { Ok(r.get_ref(i)?.as_blob().map_err(rusqlite::Error::from)?) };
            let (state, server) = if l.packed() {
                let state = packed::decode_state(entity, id, deleted, blob(0)?, blob(1)?)?;
                let server: Option<&[u8]> = r.get_ref(2)?.as_blob_or_null().map_err(rusqlite::Error::from)?;
                let server = packed::decode_server(server, version as u64, &state)?;
                (state, server)
            } else {
                let state = stored::decode_state(entity, id, deleted, text(0)?, text(1)?)?;
                let server: Option<&str> = r.get_ref(2)?.as_str_or_null().map_err(rusqlite::Error::from)?;
                let server = stored::decode_server(server, version as u64, &state)?;
                (state, server)
            };
            Ok(RecordRow { state, server })
        };
        stmt.query_row(params![l.entity(entity), l.id(id)], |r| Ok(read(r))).optional()?.transpose()
    }

    /// The last open (pending or in-flight) entry of a record: a new write chains after it.
    pub(crate) fn last_open(&self, entity: Entity, id: &str) -> Result<Option<QueueEntry>> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {} FROM {} WHERE entity = ?1 AND record_id = ?2
             AND status IN (?3, ?4) ORDER BY seq DESC LIMIT 1",
            l.queue_columns(),
            l.queue()
        ))?;
        let [pending, in_flight] = [QueueStatus::Pending, QueueStatus::InFlight].map(|s| l.status(s));
        let params = params![l.entity(entity), l.id(id), pending, in_flight];
        stmt.query_row(params, |r| Ok(l.queue_entry(r))).optional()?.transpose()
    }

    pub(crate) fn open_entries(&self, entity: Entity, id: &str) -> Result<Vec<QueueEntry>> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {} FROM {} WHERE entity = ?1 AND record_id = ?2
             AND status IN (?3, ?4) ORDER BY seq",
            l.queue_columns(),
            l.queue()
        ))?;
        let [pending, in_flight] = [QueueStatus::Pending, QueueStatus::InFlight].map(|s| l.status(s));
        let rows = stmt.query_map(params![l.entity(entity), l.id(id), pending, in_flight], |r| Ok(l.queue_entry(r)))?;
        rows.map(|r| r?).collect()
    }

    /// Queues `e` as a pending entry in the queue format of the open schema (whatever
    /// `e.format_version` says): an old app writes what an old app reads.
    pub(crate) fn insert_entry(&self, e: &QueueEntry, now_ms: i64) -> Result<()> {
        let l = self.layout();
        let format = queue_format(self.schema);
        let payload = Payload { changes: e.changes.clone(), hlc: e.hlc.clone(), client_time_ms: e.client_time_ms };
        let body = match format {
            1 | 2 => SqlValue::Text(payload.encode(format)),
            _ => SqlValue::Blob(packed::encode_payload(e.entity, &payload)),
        };
        let (columns, values) = match self.schema {
            ..=3 => ("payload", "?7"),
            4 => ("payload, body", "?7, ?7"),
            _ => ("body", "?7"),
        };
        let mut stmt = self.tx.prepare_cached(&format!(
            "INSERT INTO {} (key, entity, record_id, action, base_version, after_key, {columns}, status, created_at_ms, format_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, {values}, ?10, ?8, ?9)",
            l.queue()
        ))?;
        stmt.execute(params![
            l.id(&e.key),
            l.entity(e.entity),
            l.id(&e.record_id),
            l.action(e.action),
            e.base_version as i64,
            e.after.as_deref().map(|k| l.id(k)),
            body,
            now_ms,
            format,
            l.status(QueueStatus::Pending),
        ])?;
        Ok(())
    }

    pub(crate) fn set_status(&self, key: &str, status: QueueStatus, error: Option<&str>) -> Result<()> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "UPDATE {} SET status = ?2, last_error = COALESCE(?3, last_error) WHERE key = ?1",
            l.queue()
        ))?;
        stmt.execute(params![l.id(key), l.status(status), error])?;
        Ok(())
    }

    /// Counts one retryable failure of `key`; past `max_retries` the entry is failed.
    pub(crate) fn count_retry(&self, key: &str, error: &str, max_retries: u32) -> Result<bool> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "UPDATE {} SET retries = retries + 1, last_error = ?2,
             status = CASE WHEN retries + 1 >= ?3 THEN ?4 ELSE status END
             WHERE key = ?1 AND status IN (?5, ?6) RETURNING status",
            l.queue()
        ))?;
        let failed = l.status(QueueStatus::Failed);
        let [pending, in_flight] = [QueueStatus::Pending, QueueStatus::InFlight].map(|s| l.status(s));
        let params = params![l.id(key), error, max_retries, failed, pending, in_flight];
        let status: Option<SqlValue> = stmt.query_row(params, |r| r.get(0)).optional()?;
        Ok(status == Some(failed))
    }

    /// Unchains the entries chained after `key` once it has its answer. When `key` applied in
    /// full over nothing unseen, they are based on the `version` it produced; otherwise they
    /// keep the base their device saw (the chain's), so a change they never saw is treated
    /// as concurrent, not silently overwritten.
    pub(crate) fn rebase_after(&self, key: &str, clean_version: Option<u64>) -> Result<()> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "UPDATE {} SET after_key = NULL, base_version = COALESCE(?2, base_version) WHERE after_key = ?1",
            l.queue()
        ))?;
        stmt.execute(params![l.id(key), clean_version.map(|v| v as i64)])?;
        Ok(())
    }

    /// Takes entry `key` out of its chain once it failed for good (the server will never
    /// apply it): the entries chained after it wait for what it waited for, if anything,
    /// and keep their base.
    pub(crate) fn unchain_failed(&self, key: &str) -> Result<()> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "UPDATE {queue} SET after_key = (SELECT after_key FROM {queue} WHERE key = ?1) WHERE after_key = ?1",
            queue = l.queue()
        ))?;
        stmt.execute(params![l.id(key)])?;
        Ok(())
    }

    /// Drops entry `key` from the queue.
    pub(crate) fn delete_entry(&self, key: &str) -> Result<()> {
        let l = self.layout();
        self.tx.execute(&format!("DELETE FROM {} WHERE key = ?1", l.queue()), [l.id(key)])?;
        Ok(())
    }

    /// Gives entry `key` the key `new`, and the entries chained after it follow (only the
    /// fresh-key-per-retry mutant does).
    pub(crate) fn rekey(&self, key: &str, new: &str) -> Result<()> {
        let l = self.layout();
        let queue = l.queue();
        self.tx.execute(&format!("UPDATE {queue} SET key = ?2 WHERE key = ?1"), [l.id(key), l.id(new)])?;
        self.tx.execute(&format!("UPDATE {queue} SET after_key = ?2 WHERE after_key = ?1"), [l.id(key), l.id(new)])?;
        Ok(())
    }

    /// Notes that a re-sync of `entity` under way has pulled record `id`.
    pub(crate) fn note_seen(&self, entity: Entity, id: &str) -> Result<()> {
        let mut stmt = self.tx.prepare_cached("INSERT OR IGNORE INTO resync_seen (entity, id) VALUES (?1, ?2)")?;
        stmt.execute(params![entity.name(), self.layout().id(id)])?;
        Ok(())
    }

    /// Drops the records of `entity` the server has and the finished re-sync did not pull
    /// (they were deleted and purged), unless a local write is still open on them (its push
    /// will be answered as a conflict or rejection), and forgets what the re-sync saw.
    /// Returns how many records were dropped.
    /// The records of `entity` the server sent before (version above 0) that the re-sync
    /// under way has not returned, and that open (pending or in-flight) writes keep.
    pub(crate) fn unseen_with_open_writes(&self, entity: Entity) -> Result<Vec<String>> {
        let l = self.layout();
        let mut stmt = self.tx.prepare(&format!(
            "SELECT id FROM {} WHERE entity = ?1 AND version > 0
             AND id NOT IN (SELECT id FROM resync_seen WHERE entity = ?2)
             AND id IN (SELECT record_id FROM {} WHERE entity = ?1 AND status IN (?3, ?4))",
            l.records(),
            l.queue()
        ))?;
        let open = [l.status(QueueStatus::Pending), l.status(QueueStatus::InFlight)];
        let rows = stmt
            .query_map(params![l.entity(entity), entity.name(), open[0], open[1]], |r| Ok(l.read_id(r.get_ref(0)?)))?;
        let mut ids = Vec::new();
        for id in rows {
            ids.push(id??);
        }
        Ok(ids)
    }

    pub(crate) fn drop_unseen(&self, entity: Entity) -> Result<usize> {
        let l = self.layout();
        let dropped = self.tx.execute(
            &format!(
                "DELETE FROM {} WHERE entity = ?1 AND version > 0
                 AND id NOT IN (SELECT id FROM resync_seen WHERE entity = ?2)
                 AND id NOT IN (SELECT record_id FROM {} WHERE entity = ?1 AND status IN (?3, ?4))",
                l.records(),
                l.queue()
            ),
            params![l.entity(entity), entity.name(), l.status(QueueStatus::Pending), l.status(QueueStatus::InFlight)],
        )?;
        self.tx.execute("DELETE FROM resync_seen WHERE entity = ?1", [entity.name()])?;
        Ok(dropped)
    }

    /// Every record with open (pending or in-flight) queue entries, once each, in queue order.
    pub(crate) fn records_with_open_entries(&self) -> Result<Vec<(Entity, String)>> {
        let l = self.layout();
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT entity, record_id FROM {} WHERE status IN (?1, ?2)
             GROUP BY entity, record_id ORDER BY MIN(seq)",
            l.queue()
        ))?;
        let open = [l.status(QueueStatus::Pending), l.status(QueueStatus::InFlight)];
        let rows = stmt.query_map(open, |r| Ok((l.read_entity(r.get_ref(0)?), l.read_id(r.get_ref(1)?))))?;
        let mut records = Vec::new();
        for row in rows {
            let (entity, id) = row?;
            records.push((entity?, id?));
        }
        Ok(records)
    }

    /// Removes record `id`'s row.
    fn delete_row(&self, entity: Entity, id: &str) -> Result<()> {
        let l = self.layout();
        let sql = format!("DELETE FROM {} WHERE entity = ?1 AND id = ?2", l.records());
        self.tx.execute(&sql, params![l.entity(entity), l.id(id)])?;
        Ok(())
    }

    /// Shows a record as the server last sent it (nothing, when the server never had it),
    /// whatever its open entries: only the view-restored-at-open mutant does.
    pub(crate) fn show_server_copy(&self, entity: Entity, id: &str) -> Result<()> {
        match self.row(entity, id)?.and_then(|row| row.server) {
            Some(server) => self.put_row(&server, Some(&server), SyncStatus::Pending, server.updated_at_ms),
            None => self.delete_row(entity, id),
        }
    }

    /// Recomputes a record's local view from its server state and its open entries, and
    /// stores it. A record that the server does not have (or never had) and no open entry
    /// creates is removed.
    pub(crate) fn recompute(&self, entity: Entity, id: &str, server: Option<Record>, updated_at_ms: i64) -> Result<()> {
        let open = self.open_entries(entity, id)?;
        // Without the server's copy, only a create of this device's makes a record: updates
        // and deletes of one the server does not have (any more) show nothing.
        let created = open.iter().any(|entry| entry.action == Action::Create);
        let Some(mut state) = server.clone().or_else(|| created.then(|| Record::empty(entity, id))) else {
            return self.delete_row(entity, id);
        };
        for (i, entry) in open.iter().enumerate() {
            let held =
                server.as_ref().map(|s| QueueEntry::held_counters(s, self.device, &open[i..])).unwrap_or_default();
            entry.apply_to(&mut state, self.device, &held);
        }
        let status = self.record_status(entity, id, !open.is_empty())?;
        self.put_row(&state, server.as_ref(), status, updated_at_ms)
    }

    /// Stores a pulled record as the row, over any pending local writes (only the
    /// pull-overwrites-pending-edits mutant does).
    pub(crate) fn store_as_is(&self, record: &Record) -> Result<()> {
        self.put_row(record, Some(record), SyncStatus::Synced, record.updated_at_ms)
    }

    fn record_status(&self, entity: Entity, id: &str, open: bool) -> Result<SyncStatus> {
        let conflicts: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM conflicts WHERE entity = ?1 AND record_id = ?2 AND open = 1 AND needs_user = 1",
            params![entity.name(), id],
            |r| r.get(0),
        )?;
        let l = self.layout();
        let failed: i64 = self.tx.query_row(
            &format!("SELECT COUNT(*) FROM {} WHERE entity = ?1 AND record_id = ?2 AND status = ?3", l.queue()),
            params![l.entity(entity), l.id(id), l.status(QueueStatus::Failed)],
            |r| r.get(0),
        )?;
        Ok(match (conflicts > 0, open, failed > 0) {
            (true, _, _) => SyncStatus::Conflict,
            (false, true, _) => SyncStatus::Pending,
            (false, false, true) => SyncStatus::Error,
            (false, false, false) => SyncStatus::Synced,
        })
    }

    fn put_row(&self, state: &Record, server: Option<&Record>, status: SyncStatus, updated_at_ms: i64) -> Result<()> {
        let l = self.layout();
        let (visible, state_column, server_column) = if l.packed() {
            let (fields, crdt) = packed::encode_state(state);
            (SqlValue::Blob(fields), SqlValue::Blob(crdt), packed::encode_server(server, state).map(SqlValue::Blob))
        } else {
            let visible = serde_json::to_string(&state.visible()).expect("visible fields serialize");
            let server = stored::encode_server(server, state, self.schema).map(SqlValue::Text);
            (SqlValue::Text(visible), SqlValue::Text(stored::encode_state(state, self.schema)), server)
        };
        let sql = if l.packed() {
            "INSERT INTO local_records (entity, id, fields, crdt, server, version, deleted, sync_status, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (entity, id) DO UPDATE SET fields = ?3, crdt = ?4, server = ?5, version = ?6,
             deleted = ?7, sync_status = ?8, updated_at_ms = ?9"
        } else {
            "INSERT INTO records (entity, id, visible, state, server, version, deleted, sync_status, created_at_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (entity, id) DO UPDATE SET visible = ?3, state = ?4, server = ?5, version = ?6,
             deleted = ?7, sync_status = ?8, updated_at_ms = ?9"
        };
        let mut stmt = self.tx.prepare_cached(sql)?;
        stmt.execute(params![
            l.entity(state.entity),
            l.id(&state.id),
            visible,
            state_column,
            server_column,
            server.map_or(0, |s| s.version as i64),
            state.deleted,
            l.sync_status(status),
            updated_at_ms,
        ])?;
        Ok(())
    }

    /// Saves `entity`'s cursor, from schema version 3 with the protocol it is pulled with.
    pub(crate) fn set_cursor(&self, entity: Entity, seq: u64, resync: bool) -> Result<()> {
        if self.schema < 3 {
            self.tx.execute(
                "INSERT INTO cursors (entity, seq, resync) VALUES (?1, ?2, ?3)
                 ON CONFLICT (entity) DO UPDATE SET seq = ?2, resync = ?3",
                params![entity.name(), seq as i64, resync],
            )?;
        } else {
            self.tx.execute(
                "INSERT INTO cursors (entity, seq, resync, protocol) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity) DO UPDATE SET seq = ?2, resync = ?3, protocol = ?4",
                params![entity.name(), seq as i64, resync, self.protocol],
            )?;
        }
        Ok(())
    }

    pub(crate) fn log_conflict(&self, c: &NewConflict<'_>, now_ms: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO conflicts (mutation_key, entity, record_id, resolution, fields_kept, mine, server, needs_user, open, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
            params![
                c.key,
                c.entity.name(),
                c.record_id,
                c.resolution,
                serde_json::to_string(c.fields_kept).expect("names serialize"),
                serde_json::to_string(c.mine).expect("changes serialize"),
                serde_json::to_string(c.server).expect("records serialize"),
                c.needs_user,
                now_ms,
            ],
        )?;
        Ok(())
    }
}

/// A conflict to record.
pub(crate) struct NewConflict<'a> {
    pub(crate) key: &'a str,
    pub(crate) entity: Entity,
    pub(crate) record_id: &'a str,
    pub(crate) resolution: &'a str,
    pub(crate) fields_kept: &'a [String],
    pub(crate) mine: &'a Changes,
    pub(crate) server: &'a Record,
    pub(crate) needs_user: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::complete_now;
    use crate::TcpConnector;
    use protocol::Hlc;
    use std::rc::Rc;
    use tempfile::TempDir;

    fn open(dir: &TempDir, schema: u32, protocol: u32) -> Store {
        let connector = Rc::new(TcpConnector::new(([127, 0, 0, 1], 9).into()));
        let mut config = ClientConfig::new(dir.path(), "phone", "token", connector);
        config.schema_version = schema;
        config.protocol_version = protocol;
        complete_now(Store::open(&dir.path().join("local.db"), &config, None)).unwrap()
    }

    fn save_cursor(store: &mut Store, seq: u64) {
        let tx = store.transaction().unwrap();
        tx.set_cursor(Entity::Task, seq, false).unwrap();
        tx.commit().unwrap();
    }

    fn entry(key: &str) -> QueueEntry {
        QueueEntry {
            seq: 0,
            key: key.to_owned(),
            entity: Entity::Task,
            record_id: "t1".to_owned(),
            action: Action::Update,
            base_version: 3,
            after: None,
            changes: Changes::new().set("title", "Dig").increment("pomodoros", 2).add("tags", "home"),
            hlc: Hlc::zero("phone"),
            client_time_ms: 1_000,
            status: QueueStatus::Pending,
            retries: 0,
            last_error: None,
            format_version: 0,
        }
    }

    #[test]
    fn a_cursor_pulled_with_an_older_protocol_starts_a_full_resync() {
        let dir = TempDir::new().unwrap();
        save_cursor(&mut open(&dir, 2, 1), 42);
        assert_eq!(
            open(&dir, 3, 1).cursor(Entity::Task).unwrap(),
            (42, false),
            "cursors from before v3 are protocol 1"
        );
        let mut store = open(&dir, 3, 2);
        assert_eq!(store.cursor(Entity::Task).unwrap(), (0, true), "protocol 1 records lack protocol 2's fields");
        save_cursor(&mut store, 7);
        assert_eq!(store.cursor(Entity::Task).unwrap(), (7, false));
        assert_eq!(open(&dir, 5, 1).cursor(Entity::Task).unwrap(), (7, false), "a newer protocol's cursor serves");
    }

    #[test]
    fn the_sync_log_keeps_the_last_rounds_from_schema_3() {
        let dir = TempDir::new().unwrap();
        open(&dir, 2, 1).log_round(0, 1, &Ok(SyncReport::default())).unwrap();
        let mut store = open(&dir, 3, 1);
        for round in 0..SYNC_LOG_ROUNDS + 5 {
            let report = SyncReport { pulled: round as usize, ..SyncReport::default() };
            store.log_round(i64::from(round), i64::from(round) + 1, &Ok(report)).unwrap();
        }
        store.log_round(200, 201, &Err(Error::NoSuchConflict(1))).unwrap();
        let (rounds, oldest, errors): (u32, i64, u32) = store
            .conn()
            .query_row("SELECT COUNT(*), MIN(started_at_ms), COUNT(error) FROM sync_log", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((rounds, oldest, errors), (SYNC_LOG_ROUNDS, 6, 1), "the oldest six rounds are trimmed");
    }

    #[test]
    fn queue_entries_are_written_and_read_in_the_open_schemas_format() {
        for schema in 1..=schema::LATEST_VERSION {
            let dir = TempDir::new().unwrap();
            let mut store = open(&dir, schema, 1);
            let tx = store.transaction().unwrap();
            tx.insert_entry(&entry("k1"), 5).unwrap();
            tx.commit().unwrap();
            let read = store.queue(None).unwrap();
            let expected = QueueEntry { seq: 1, format_version: queue_format(schema), ..entry("k1") };
            assert_eq!(read, [expected], "at schema {schema}");
            if schema == 4 {
                let same: bool = store.conn().query_row("SELECT body = payload FROM queue", [], |r| r.get(0)).unwrap();
                assert!(same, "at schema 4 both columns are written");
            }
        }
    }

    #[test]
    fn entries_queued_by_an_older_app_read_the_same_after_the_upgrade() {
        let dir = TempDir::new().unwrap();
        let mut store = open(&dir, 3, 1);
        let tx = store.transaction().unwrap();
        tx.insert_entry(&entry("old"), 5).unwrap();
        tx.commit().unwrap();
        let before = store.queue(None).unwrap();
        drop(store);
        for schema in 4..=schema::LATEST_VERSION {
            let mut store = open(&dir, schema, 1);
            assert_eq!(store.queue(None).unwrap()[..1], before, "at schema {schema}");
            let tx = store.transaction().unwrap();
            tx.insert_entry(&entry(&format!("new at {schema}")), 5).unwrap();
            tx.commit().unwrap();
        }
        let formats: Vec<u32> = store_formats(&open(&dir, schema::LATEST_VERSION, 1));
        let expected: Vec<u32> = [1].into_iter().chain((4..=schema::LATEST_VERSION).map(queue_format)).collect();
        assert_eq!(formats, expected);
    }

    /// The `state` and `server` columns of record `t1`, as stored.
    fn stored_columns(store: &Store) -> (String, Option<String>) {
        let sql = "SELECT state, server FROM records WHERE id = 't1'";
        store.conn().query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
    }

    #[test]
    fn records_stored_by_an_older_app_read_the_same_after_the_upgrade_and_turn_compact_when_written() {
        let dir = TempDir::new().unwrap();
        let mut server = Record::empty(Entity::Task, "t1");
        server.version = 3;
        server.fields.insert("title".into(), Value::from("Dig"));
        let mut store = open(&dir, 5, 1);
        let tx = store.transaction().unwrap();
        tx.recompute(Entity::Task, "t1", Some(server.clone()), 5).unwrap();
        tx.commit().unwrap();
        let (state, copy) = stored_columns(&store);
        assert!(state.starts_with('{') && copy.as_deref() == Some(state.as_str()), "schema 5 keeps two whole copies");
        drop(store);

        let mut store = open(&dir, 6, 1);
        assert_eq!(stored_columns(&store), (state, None), "the upgrade drops the copy equal to the state");
        let tx = store.transaction().unwrap();
        let row = tx.row(Entity::Task, "t1").unwrap().unwrap();
        assert_eq!((&row.state, row.server.as_ref()), (&server, Some(&server)));
        tx.recompute(Entity::Task, "t1", Some(server.clone()), 6).unwrap();
        let row = tx.row(Entity::Task, "t1").unwrap().unwrap();
        assert_eq!((&row.state, row.server.as_ref()), (&server, Some(&server)));
        tx.commit().unwrap();
        let (state, copy) = stored_columns(&store);
        assert!(state.starts_with('[') && !state.contains("Dig") && copy.is_none(), "rewritten compact: {state}");
        let mut mine = server.clone();
        mine.fields.insert("title".into(), Value::from("Rake"));
        let tx = store.transaction().unwrap();
        tx.put_row(&mine, Some(&server), SyncStatus::Pending, 7).unwrap();
        tx.commit().unwrap();
        drop(store);

        let mut store = open(&dir, 7, 1);
        let packed: (i64, String, Vec<u8>, i64) = store
            .conn()
            .query_row("SELECT entity, id, fields, sync_status FROM local_records", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!((packed.0, packed.1.as_str(), packed.3), (1, "t1", 1), "codes, and an id that is no UUID as text");
        assert!(!String::from_utf8_lossy(&packed.2).contains("title"), "fields named by their position");
        let tx = store.transaction().unwrap();
        let row = tx.row(Entity::Task, "t1").unwrap().unwrap();
        assert_eq!((&row.state, row.server.as_ref()), (&mine, Some(&server)), "both copies read back at schema 7");
        drop(tx);
        let listed = store.list(Entity::Task, None).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].fields.get("title"), listed[0].sync_status),
            (Some(&Value::from("Rake")), SyncStatus::Pending)
        );
    }

    #[test]
    fn the_upgrade_to_packed_rows_keeps_a_resync_under_way_and_never_hands_out_a_queue_position_twice() {
        let dir = TempDir::new().unwrap();
        let seen = "0b3a9b52-6a47-4a7e-9a59-58d1ec9b5c7e";
        let mut store = open(&dir, 6, 1);
        let tx = store.transaction().unwrap();
        tx.note_seen(Entity::Task, seen).unwrap();
        for key in ["k1", "k2", "k3"] {
            tx.insert_entry(&entry(key), 5).unwrap();
        }
        tx.delete_entry("k3").unwrap();
        tx.commit().unwrap();
        drop(store);

        let mut store = open(&dir, 7, 1);
        let stored: Vec<u8> = store.conn().query_row("SELECT id FROM resync_seen", [], |r| r.get(0)).unwrap();
        assert_eq!(stored.len(), 16, "compared with the records' packed ids");
        let tx = store.transaction().unwrap();
        tx.insert_entry(&entry("k4"), 5).unwrap();
        tx.commit().unwrap();
        let queue = store.queue(None).unwrap();
        let seqs: Vec<(i64, u32)> = queue.iter().map(|e| (e.seq, e.format_version)).collect();
        assert_eq!(seqs, [(1, 2), (2, 2), (4, 3)], "k3's position 3 is not reused; old entries keep format 2");
    }

    fn store_formats(store: &Store) -> Vec<u32> {
        store.queue(None).unwrap().iter().map(|e| e.format_version).collect()
    }
}
