//! The local schema and its migrations.
//!
//! Migrations are a const list, applied in order and recorded in SQLite's `user_version`.
//! Each one is a list of [`Change`]s that check what exists before they act, run in one
//! transaction together with the version bump: a kill during an upgrade leaves the database
//! at the last completed version, and re-running a migration over a database where it (or
//! part of it) already applied changes nothing. A database at any version upgrades to any
//! later one.

use crate::error::{Error, Result};
use crate::hook::{SyncHook, SyncStep};
use crate::packed;
use rusqlite::{Connection, OptionalExtension};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// One step of the local schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this migration brings the database to.
    pub version: u32,
    /// What it changes, for people.
    pub description: &'static str,
    /// What it does, in order; each change is skipped when it is already there.
    pub changes: &'static [Change],
}

/// One statement of a migration, of a kind that knows how to tell whether it already
/// applied (from `sqlite_master` and `pragma_table_info`).
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Creates table `name` with `sql` (a `CREATE TABLE`), unless it exists.
    CreateTable {
        /// The table's name.
        name: &'static str,
        /// The `CREATE TABLE` statement.
        sql: &'static str,
    },
    /// Adds `column` to `table`, unless it is there. A `NOT NULL` column needs a default:
    /// SQLite refuses it on a table that has rows.
    AddColumn {
        /// The table.
        table: &'static str,
        /// The new column's name.
        column: &'static str,
        /// Its type and constraints, as in `ALTER TABLE ... ADD COLUMN column definition`.
        definition: &'static str,
    },
    /// Runs `sql`, an `UPDATE` that fills only the rows still missing a value, so that
    /// running it again changes nothing.
    Backfill {
        /// The `UPDATE` statement.
        sql: &'static str,
    },
    /// Creates index `name` with `sql` (a `CREATE INDEX`), unless it exists.
    CreateIndex {
        /// The index's name.
        name: &'static str,
        /// The `CREATE INDEX` statement.
        sql: &'static str,
    },
    /// Creates trigger `name` with `sql` (a `CREATE TRIGGER`), unless it exists.
    CreateTrigger {
        /// The trigger's name.
        name: &'static str,
        /// The `CREATE TRIGGER` statement.
        sql: &'static str,
    },
    /// Drops `column` from `table`, if it is there (SQLite 3.35 or later; the column must
    /// not be indexed or constrained).
    DropColumn {
        /// The table.
        table: &'static str,
        /// The column dropped.
        column: &'static str,
    },
    /// Moves the rows of table `from` into the table that replaces it with `run`, which
    /// converts each row and skips the rows already moved; nothing to do once `from` is gone
    /// (a [`Change::DropTable`] of `from` follows it).
    Convert {
        /// The table whose rows move.
        from: &'static str,
        /// Moves them.
        run: fn(&Connection) -> Result<()>,
    },
    /// Rewrites rows in place with `run`, which leaves the rows already rewritten as they
    /// are, so that running it again changes nothing (a backfill in Rust).
    Rewrite {
        /// What it rewrites, for people.
        what: &'static str,
        /// Rewrites them.
        run: fn(&Connection) -> Result<()>,
    },
    /// Drops table `name` with its indexes and triggers, if it is there.
    DropTable {
        /// The table.
        name: &'static str,
    },
}

/// The derived sort key of a records row: its title, or its name, lower-cased. `$row` is
/// the row's prefix (`"NEW."` in a trigger, `""` in a backfill).
macro_rules! sort_key {
    ($row:literal) => {
        concat!(
            "lower(coalesce(json_extract(",
            $row,
            "visible, '$.title'), json_extract(",
            $row,
            "visible, '$.name'), ''))"
        )
    };
}

/// Every migration, oldest first. Versions are 1, 2, 3... without gaps.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "records, mutation queue, per-entity cursors, conflicts, metadata",
        changes: &[
            Change::CreateTable {
                name: "records",
                sql: "CREATE TABLE records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    visible TEXT NOT NULL,
    state TEXT NOT NULL,
    server TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    sync_status TEXT NOT NULL CHECK (sync_status IN ('synced', 'pending', 'conflict', 'error')),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID",
            },
            Change::CreateIndex {
                name: "records_visible",
                sql: "CREATE INDEX records_visible ON records (entity, updated_at_ms) WHERE deleted = 0",
            },
            Change::CreateTable {
                name: "queue",
                sql: "CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    base_version INTEGER NOT NULL,
    after_key TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'failed', 'conflict', 'completed')),
    retries INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL,
    format_version INTEGER NOT NULL
)",
            },
            Change::CreateIndex {
                name: "queue_by_record",
                sql: "CREATE INDEX queue_by_record ON queue (entity, record_id, status)",
            },
            Change::CreateIndex {
                name: "queue_open",
                sql: "CREATE INDEX queue_open ON queue (status, seq) WHERE status IN ('pending', 'in_flight')",
            },
            Change::CreateTable {
                name: "cursors",
                sql: "CREATE TABLE cursors (entity TEXT PRIMARY KEY, seq INTEGER NOT NULL, resync INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
            },
            Change::CreateTable {
                name: "resync_seen",
                sql: "CREATE TABLE resync_seen (entity TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID",
            },
            Change::CreateTable {
                name: "conflicts",
                sql: "CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_key TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    resolution TEXT NOT NULL,
    fields_kept TEXT NOT NULL,
    mine TEXT NOT NULL,
    server TEXT NOT NULL,
    needs_user INTEGER NOT NULL,
    open INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
)",
            },
            Change::CreateTable {
                name: "meta",
                sql: "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
            },
        ],
    },
    Migration {
        version: 2,
        description: "index open conflicts by record: a record's status looks them up on every write",
        changes: &[Change::CreateIndex {
            name: "conflicts_open",
            sql: "CREATE INDEX conflicts_open ON conflicts (entity, record_id) WHERE open = 1",
        }],
    },
    Migration {
        version: 3,
        description: "a log of sync rounds; the protocol version each entity's cursor was pulled with",
        changes: &[
            Change::CreateTable {
                name: "sync_log",
                sql: "CREATE TABLE sync_log (
    id INTEGER PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL,
    pulled INTEGER NOT NULL,
    pushed INTEGER NOT NULL,
    error TEXT
)",
            },
            // Cursors saved before this version were all pulled with protocol 1.
            Change::AddColumn { table: "cursors", column: "protocol", definition: "INTEGER NOT NULL DEFAULT 1" },
        ],
    },
    Migration {
        version: 4,
        description: "records sort by title or name; the queue's JSON moves to `body` (expand)",
        changes: &[
            Change::AddColumn { table: "records", column: "sort_key", definition: "TEXT" },
            Change::Backfill {
                sql: concat!("UPDATE records SET sort_key = ", sort_key!(""), " WHERE sort_key IS NULL"),
            },
            Change::CreateTrigger {
                name: "records_sort_key_insert",
                sql: concat!(
                    "CREATE TRIGGER records_sort_key_insert AFTER INSERT ON records BEGIN ",
                    "UPDATE records SET sort_key = ",
                    sort_key!("NEW."),
                    " WHERE entity = NEW.entity AND id = NEW.id; END"
                ),
            },
            Change::CreateTrigger {
                name: "records_sort_key_update",
                sql: concat!(
                    "CREATE TRIGGER records_sort_key_update AFTER UPDATE OF visible ON records BEGIN ",
                    "UPDATE records SET sort_key = ",
                    sort_key!("NEW."),
                    " WHERE entity = NEW.entity AND id = NEW.id; END"
                ),
            },
            Change::CreateIndex {
                name: "records_sorted",
                sql: "CREATE INDEX records_sorted ON records (entity, sort_key) WHERE deleted = 0",
            },
            Change::AddColumn { table: "queue", column: "body", definition: "TEXT" },
            // Copied verbatim: an entry keeps the format version it was written in.
            Change::Backfill { sql: "UPDATE queue SET body = payload WHERE body IS NULL" },
        ],
    },
    Migration {
        version: 5,
        description: "the queue's JSON lives in `body` only (contract)",
        changes: &[Change::DropColumn { table: "queue", column: "payload" }],
    },
    Migration {
        version: 6,
        description: "records are stored compact: register values once, the server's copy only while it differs",
        // Rows written from here on are compact (see `stored`); older rows stay as they are
        // until their next write, but lose the server copies equal to their state now.
        changes: &[Change::Backfill { sql: "UPDATE records SET server = NULL WHERE server = state" }],
    },
    Migration {
        version: 7,
        description: "records and the queue stored packed: binary ids and values, tables filled in insertion order",
        // The tables are rebuilt under new names (`packed` says how their rows read): the
        // unused `sort_key`, its triggers and its index go with `records`.
        changes: &[
            Change::CreateTable {
                name: "local_records",
                sql: "CREATE TABLE local_records (
    entity INTEGER NOT NULL,
    id BLOB NOT NULL,
    fields BLOB NOT NULL,
    crdt BLOB NOT NULL,
    server BLOB,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    sync_status INTEGER NOT NULL CHECK (sync_status BETWEEN 0 AND 3),
    updated_at_ms INTEGER NOT NULL
)",
            },
            Change::CreateIndex {
                name: "local_records_by_id",
                sql: "CREATE UNIQUE INDEX local_records_by_id ON local_records (entity, id)",
            },
            Change::CreateIndex {
                name: "local_records_recent",
                sql: "CREATE INDEX local_records_recent ON local_records (entity, updated_at_ms) WHERE deleted = 0",
            },
            Change::Convert { from: "records", run: packed::move_records },
            Change::DropTable { name: "records" },
            Change::CreateTable {
                name: "mutations",
                sql: "CREATE TABLE mutations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key BLOB NOT NULL,
    entity INTEGER NOT NULL,
    record_id BLOB NOT NULL,
    action INTEGER NOT NULL CHECK (action BETWEEN 0 AND 2),
    base_version INTEGER NOT NULL,
    after_key BLOB,
    body BLOB NOT NULL,
    status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
    retries INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL,
    format_version INTEGER NOT NULL
)",
            },
            Change::CreateIndex {
                name: "mutations_by_key",
                sql: "CREATE UNIQUE INDEX mutations_by_key ON mutations (key)",
            },
            Change::CreateIndex {
                name: "mutations_by_record",
                sql: "CREATE INDEX mutations_by_record ON mutations (entity, record_id, status)",
            },
            Change::Convert { from: "queue", run: packed::move_queue },
            Change::DropTable { name: "queue" },
            Change::Rewrite { what: "the ids a re-sync has seen, as keys", run: packed::rewrite_resync_seen },
        ],
    },
    Migration {
        version: 8,
        description: "the app speaks protocol 3: a set's removed tags are kept per element",
        // Nothing to rebuild: a stored set without removals per element reads its removed
        // tags as removed from every element (`packed::Set`), which is what they meant, and
        // the new protocol starts a full re-sync that brings every set per element.
        changes: &[],
    },
];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// The format version of queue entries an app at the latest schema writes.
pub const QUEUE_FORMAT: u32 = queue_format(LATEST_VERSION);

/// The format version of the queue entries an app at local schema `schema` writes: 1 (JSON,
/// the changes flattened beside `hlc` and `client_time_ms`) below version 4, 2 (JSON, the
/// changes nested under `changes`) from version 4, 3 (packed, see `packed`) from version 7.
/// Entries keep the format they were written in.
pub const fn queue_format(schema: u32) -> u32 {
    match schema {
        ..=3 => 1,
        4..=6 => 2,
        _ => 3,
    }
}

/// How migrations run: correctly, or the way one of the migration mutants runs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One transaction per migration, every change guarded. The only mode of an app.
    #[default]
    Correct,
    /// Each change commits on its own and is not guarded; the version is bumped at the end
    /// (the migration-not-idempotent mutant).
    Autocommit,
    /// Added `NOT NULL` columns lose their default (the not-null-without-default mutant).
    NoDefaults,
}

impl Change {
    /// Whether the change is already in the database. A backfill never is: it is written to
    /// be re-run.
    fn applied(&self, conn: &Connection) -> Result<bool> {
        let exists = |kind: &str, name: &str| -> Result<bool> {
            let sql = "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2";
            Ok(conn.query_row(sql, [kind, name], |_| Ok(())).optional()?.is_some())
        };
        let has_column = |table: &str, column: &str| -> Result<bool> {
            let sql = "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2";
            Ok(conn.query_row(sql, [table, column], |_| Ok(())).optional()?.is_some())
        };
        match *self {
            Change::CreateTable { name, .. } => exists("table", name),
            Change::CreateIndex { name, .. } => exists("index", name),
            Change::CreateTrigger { name, .. } => exists("trigger", name),
            Change::AddColumn { table, column, .. } => has_column(table, column),
            Change::DropColumn { table, column } => Ok(!has_column(table, column)?),
            Change::Convert { from, .. } | Change::DropTable { name: from } => Ok(!exists("table", from)?),
            Change::Backfill { .. } | Change::Rewrite { .. } => Ok(false),
        }
    }

    /// Makes the change.
    fn run(&self, conn: &Connection, mode: Mode) -> Result<()> {
        let sql = match *self {
            Change::CreateTable { sql, .. }
            | Change::CreateIndex { sql, .. }
            | Change::CreateTrigger { sql, .. }
            | Change::Backfill { sql } => sql.to_owned(),
            Change::AddColumn { table, column, definition } => {
                let definition = match mode {
                    Mode::NoDefaults => definition.split(" DEFAULT ").next().unwrap_or(definition),
                    Mode::Correct | Mode::Autocommit => definition,
                };
                format!("ALTER TABLE {table} ADD COLUMN {column} {definition}")
            }
            Change::DropColumn { table, column } => format!("ALTER TABLE {table} DROP COLUMN {column}"),
            Change::DropTable { name } => format!("DROP TABLE {name}"),
            Change::Convert { run, .. } | Change::Rewrite { run, .. } => return run(conn),
        };
        Ok(conn.execute_batch(&sql)?)
    }
}

impl Migration {
    /// Applies this migration and sets `user_version` to its version, in one transaction.
    /// `hook` sees [`SyncStep::Migrating`] after each change, before the commit: a kill there
    /// rolls the whole migration back.
    async fn apply(&self, conn: &mut Connection, mode: Mode, hook: Option<&dyn SyncHook>) -> Result<()> {
        if mode == Mode::Autocommit {
            return self.apply_unguarded(conn, hook).await;
        }
        let tx = conn.transaction()?;
        for change in self.changes {
            if !change.applied(&tx)? {
                change.run(&tx, mode)?;
            }
            migrating(hook, self.version).await;
        }
        tx.pragma_update(None, "user_version", self.version)?;
        Ok(tx.commit()?)
    }

    /// The migration-not-idempotent mutant: every change commits on its own, unguarded, and
    /// the version is bumped only at the end.
    async fn apply_unguarded(&self, conn: &mut Connection, hook: Option<&dyn SyncHook>) -> Result<()> {
        for change in self.changes {
            change.run(conn, Mode::Autocommit)?;
            migrating(hook, self.version).await;
        }
        Ok(conn.pragma_update(None, "user_version", self.version)?)
    }
}

async fn migrating(hook: Option<&dyn SyncHook>, version: u32) {
    if let Some(hook) = hook {
        hook.reached(&SyncStep::Migrating { version }).await;
    }
}

/// The schema version of an open database (0 when empty).
pub fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))?)
}

/// Brings `conn` to [`LATEST_VERSION`], one transaction per migration, so a kill during an
/// upgrade leaves the database at the last completed version. Returns the version found.
pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, LATEST_VERSION)
}

/// Brings `conn` to version `target` (an older app's schema), like [`migrate`].
///
/// # Panics
/// If `target` is not a version of [`MIGRATIONS`]: the app asked for a schema this build
/// does not know.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    complete_now(upgrade(conn, target, Mode::Correct, None))
}

/// Brings `conn` to version `target` the way `mode` says, showing each change to `hook`
/// ([`migrate_to`] with progress). Returns the version found.
pub(crate) async fn upgrade(
    conn: &mut Connection,
    target: u32,
    mode: Mode,
    hook: Option<&dyn SyncHook>,
) -> Result<u32> {
    assert!(
        (1..=LATEST_VERSION).contains(&target),
        "schema version {target} does not exist: this build knows versions 1 to {LATEST_VERSION}"
    );
    let found = version(conn)?;
    if found > target {
        return Err(Error::SchemaTooNew { found, supported: target });
    }
    let packs = found < packed::PACKED_SINCE && target >= packed::PACKED_SINCE;
    if packs {
        // Pages left free (rows moved or deleted) go back to the device at the end of each
        // sync round (`Store::release_free_pages`). The mode takes effect on a database with
        // no page yet, or with the VACUUM below.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found && m.version <= target) {
        m.apply(conn, mode, hook).await?;
        tracing::info!(version = m.version, description = m.description, "migrated local schema");
    }
    if packs && found > 0 {
        // The rebuilt tables leave the old ones' pages free: give them back to the device,
        // and turn the incremental mode on. VACUUM is atomic, and runs outside transactions.
        conn.execute_batch("VACUUM")?;
    }
    Ok(found)
}

/// Runs a future that never waits (opening without a hook to report to) to completion,
/// without a runtime.
///
/// # Panics
/// If the future waits: something that should report nowhere awaited a hook.
pub(crate) fn complete_now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a future that reports to no hook waited: it cannot be run without a runtime"),
    }
}

/// Drops every table, so that the next migration starts from an empty database (only the
/// migration-recreates-database mutant does this, on upgrade).
pub(crate) fn recreate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS queue; DROP TABLE IF EXISTS cursors;
         DROP TABLE IF EXISTS resync_seen; DROP TABLE IF EXISTS conflicts; DROP TABLE IF EXISTS meta;
         DROP TABLE IF EXISTS sync_log; DROP TABLE IF EXISTS local_records; DROP TABLE IF EXISTS mutations;
         PRAGMA user_version = 0;",
    )?;
    Ok(())
}

/// Checks the migration list itself: versions 1, 2, 3... in order; from an empty database
/// every migration applies cleanly, and applying it a second time changes nothing.
///
/// # Panics
/// If the list is out of order, or a migration is not idempotent, saying which.
pub fn validate() -> Result<()> {
    for (i, m) in MIGRATIONS.iter().enumerate() {
        assert_eq!(
            m.version as usize,
            i + 1,
            "migration {} is out of order: versions must be 1, 2, 3...",
            m.description
        );
    }
    let mut conn = Connection::open_in_memory()?;
    for m in MIGRATIONS {
        complete_now(m.apply(&mut conn, Mode::Correct, None))?;
        let once = layout(&conn)?;
        complete_now(m.apply(&mut conn, Mode::Correct, None))?;
        assert_eq!(layout(&conn)?, once, "migration {} changes the schema when applied twice", m.version);
    }
    Ok(())
}

/// The schema of `conn` as text: every table, index and trigger, and the version.
fn layout(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")?;
    let mut rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.push(format!("user_version {}", version(conn)?));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: u32) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, version).unwrap();
        conn
    }

    fn query(conn: &Connection, sql: &str) -> Vec<Option<String>> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    const QUEUED: &str = "INSERT INTO queue (key, entity, record_id, action, base_version, payload, status, created_at_ms, format_version)
        VALUES ('k1', 'task', 't1', 'create', 0, '{\"fields\":{}}', 'pending', 1, 1)";

    #[test]
    fn migrations_validate() {
        validate().unwrap();
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), LATEST_VERSION);
        assert_eq!(version(&conn).unwrap(), LATEST_VERSION);
    }

    #[test]
    fn an_older_schema_upgrades_to_the_latest_keeping_its_rows() {
        let mut conn = at(1);
        conn.execute("INSERT INTO meta (key, value) VALUES ('boots', '3')", []).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 1);
        assert_eq!(version(&conn).unwrap(), LATEST_VERSION);
        let boots: String = conn.query_row("SELECT value FROM meta WHERE key = 'boots'", [], |r| r.get(0)).unwrap();
        assert_eq!(boots, "3");
    }

    #[test]
    fn every_version_upgrades_to_every_later_one_like_a_fresh_install() {
        for from in 1..LATEST_VERSION {
            for to in from + 1..=LATEST_VERSION {
                let mut conn = at(from);
                assert_eq!(migrate_to(&mut conn, to).unwrap(), from);
                assert_eq!(
                    layout(&conn).unwrap(),
                    layout(&at(to)).unwrap(),
                    "{from} -> {to} differs from a fresh {to}"
                );
            }
        }
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::SchemaTooNew { .. })));
    }

    #[test]
    fn cursors_saved_before_version_3_were_pulled_with_protocol_1() {
        let mut conn = at(2);
        conn.execute("INSERT INTO cursors (entity, seq) VALUES ('task', 7)", []).unwrap();
        migrate_to(&mut conn, 3).unwrap();
        assert_eq!(query(&conn, "SELECT CAST(protocol AS TEXT) FROM cursors"), [Some("1".to_owned())]);
    }

    #[test]
    fn sort_keys_are_backfilled_and_kept_current_by_triggers() {
        let mut conn = at(3);
        let insert = "INSERT INTO records (entity, id, visible, state, sync_status, created_at_ms, updated_at_ms)
            VALUES ('task', ?1, ?2, '{}', 'pending', 1, 1)";
        conn.execute(insert, ["t1", r#"{"title":"Dig"}"#]).unwrap();
        migrate_to(&mut conn, 4).unwrap();
        conn.execute(insert, ["p1", r#"{"name":"Garden"}"#]).unwrap();
        conn.execute(insert, ["t2", r#"{"done":true}"#]).unwrap();
        conn.execute("UPDATE records SET visible = '{\"title\":\"Rake\"}' WHERE id = 't1'", []).unwrap();
        let keys = query(&conn, "SELECT id || '=' || sort_key FROM records ORDER BY id");
        assert_eq!(keys, ["p1=garden", "t1=rake", "t2="].map(|k| Some(k.to_owned())));
    }

    #[test]
    fn queue_json_moves_to_body_verbatim_and_payload_is_dropped() {
        let mut conn = at(3);
        conn.execute(QUEUED, []).unwrap();
        migrate_to(&mut conn, 4).unwrap();
        let body = query(&conn, "SELECT body FROM queue WHERE body = payload AND format_version = 1");
        assert_eq!(body, [Some(r#"{"fields":{}}"#.to_owned())]);
        migrate_to(&mut conn, 5).unwrap();
        assert!(query(&conn, "SELECT name FROM pragma_table_info('queue') WHERE name = 'payload'").is_empty());
        assert_eq!(query(&conn, "SELECT body FROM queue"), body);
    }

    #[test]
    fn a_migration_half_applied_outside_its_transaction_completes_when_run_again() {
        let mut conn = at(3);
        conn.execute(QUEUED, []).unwrap();
        let v4 = &MIGRATIONS[3];
        for change in &v4.changes[..5] {
            change.run(&conn, Mode::Correct).unwrap();
        }
        migrate_to(&mut conn, 4).unwrap();
        assert_eq!(query(&conn, "SELECT body FROM queue"), [Some(r#"{"fields":{}}"#.to_owned())]);
        assert_eq!(layout(&conn).unwrap(), layout(&at(4)).unwrap());
    }

    #[test]
    fn a_not_null_column_without_default_is_refused_on_a_table_with_rows() {
        let mut conn = at(2);
        conn.execute("INSERT INTO cursors (entity, seq) VALUES ('task', 7)", []).unwrap();
        let failed = complete_now(upgrade(&mut conn, 3, Mode::NoDefaults, None));
        assert!(failed.unwrap_err().to_string().contains("NOT NULL"));
        assert_eq!(version(&conn).unwrap(), 2, "the failed migration rolled back");
    }

    #[test]
    fn queue_formats_2_and_3_start_at_schemas_4_and_7() {
        assert_eq!([1, 2, 3, 4, 5, 6, 7].map(queue_format), [1, 1, 1, 2, 2, 2, 3]);
        assert_eq!(QUEUE_FORMAT, 3);
    }
}
