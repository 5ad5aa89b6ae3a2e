//! The local schema and its migrations.
//!
//! Migrations are a const list, applied in order inside one transaction each, and recorded
//! in SQLite's `user_version`. A database at any older version upgrades to the latest.

use crate::error::{Error, Result};
use rusqlite::Connection;

/// One step of the local schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this migration brings the database to.
    pub version: u32,
    /// What it changes, for people.
    pub description: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// Every migration, oldest first. Versions are 1, 2, 3... without gaps.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "records, mutation queue, per-entity cursors, conflicts, metadata",
        sql: "
CREATE TABLE records (
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
) WITHOUT ROWID;
CREATE INDEX records_visible ON records (entity, updated_at_ms) WHERE deleted = 0;
CREATE TABLE queue (
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
);
CREATE INDEX queue_by_record ON queue (entity, record_id, status);
CREATE INDEX queue_open ON queue (status, seq) WHERE status IN ('pending', 'in_flight');
CREATE TABLE cursors (entity TEXT PRIMARY KEY, seq INTEGER NOT NULL, resync INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE resync_seen (entity TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID;
CREATE TABLE conflicts (
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
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
",
    },
    Migration {
        version: 2,
        description: "index open conflicts by record: a record's status looks them up on every write",
        sql: "CREATE INDEX conflicts_open ON conflicts (entity, record_id) WHERE open = 1;",
    },
];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// The format version of queue entries this build writes.
pub const QUEUE_FORMAT: u32 = 1;

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
    assert!(
        (1..=LATEST_VERSION).contains(&target),
        "schema version {target} does not exist: this build knows versions 1 to {LATEST_VERSION}"
    );
    let found = version(conn)?;
    if found > target {
        return Err(Error::SchemaTooNew { found, supported: target });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found && m.version <= target) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        tracing::info!(version = m.version, description = m.description, "migrated local schema");
    }
    Ok(found)
}

/// Drops every table, so that the next migration starts from an empty database (only the
/// migration-recreates-database mutant does this, on upgrade).
pub(crate) fn recreate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS queue; DROP TABLE IF EXISTS cursors;
         DROP TABLE IF EXISTS resync_seen; DROP TABLE IF EXISTS conflicts; DROP TABLE IF EXISTS meta;
         PRAGMA user_version = 0;",
    )?;
    Ok(())
}

/// Checks the migration list itself: versions 1, 2, 3... in order, and every migration
/// applies cleanly to a fresh database.
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
    migrate(&mut conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('boots', '3')", []).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 1);
        assert_eq!(version(&conn).unwrap(), LATEST_VERSION);
        let boots: String = conn.query_row("SELECT value FROM meta WHERE key = 'boots'", [], |r| r.get(0)).unwrap();
        assert_eq!(boots, "3");
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::SchemaTooNew { .. })));
    }
}
