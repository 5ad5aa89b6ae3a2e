//! The app's handle: local reads and writes, sync, status and conflicts.

use crate::app::Inner;
use crate::bug::Bug;
use crate::config::ClientConfig;
use crate::engine::sync_round;
use crate::error::{corrupt, Error, Result};
use crate::hook::SyncHook;
use crate::local_write::{enqueue, LocalWrite};
use crate::queue::{QueueEntry, QueueStatus};
use crate::report::SyncReport;
use crate::status::Status;
use crate::store::{LocalRecord, Store};
use crate::transport::{Transport, TransportError};
use protocol::Changes;
use protocol::{Action, Entity, Record};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "syncsim-client.db";

/// A conflict recorded on this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// Its id, for [`Replica::resolve_conflict`].
    pub id: i64,
    /// The mutation that met it.
    pub mutation_key: String,
    /// The record's entity.
    pub entity: Entity,
    /// The record's id.
    pub record_id: String,
    /// How the server resolved it: `kept_server`, `deleted` or `needs_user`.
    pub resolution: String,
    /// Fields of this device's write that did not take effect.
    pub fields_kept: Vec<String>,
    /// What this device wrote.
    pub mine: Changes,
    /// The server's record at the conflict.
    pub server: Record,
    /// Whether the user must choose.
    pub needs_user: bool,
}

/// How the user resolves a conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Keep the server's values.
    Theirs,
    /// Write this device's values again, over the server's.
    Mine,
}

/// The reference offline-first client on one device: its replica of the user's records and
/// its queue of writes, and the sync that exchanges them. Cheap to clone; every clone is the
/// same app. It is single-threaded by design (`!Send`): run it on a current-thread runtime
/// or a `LocalSet`, as the simulation does.
#[derive(Clone)]
pub struct Replica {
    pub(crate) inner: Rc<Inner>,
}

impl Replica {
    /// Opens (creating or upgrading) the local database and resets writes that were in
    /// flight when the app last stopped to pending. [`Replica::start`] does the same and
    /// shows the upgrade's progress to the hook.
    ///
    /// # Panics
    /// If `config` asks for a protocol version above 1 at a local schema older than version
    /// 3, or for a schema version this build does not know.
    pub fn open(config: ClientConfig) -> Result<Replica> {
        crate::schema::complete_now(Self::opening(config, None))
    }

    /// Opens the app like [`Replica::open`], reporting
    /// [`SyncStep::Migrating`](crate::SyncStep::Migrating) to the config's hook after each
    /// change of a schema migration, inside the migration's transaction: dropping this future
    /// there (the app killed mid-upgrade) rolls the migration back, and the database stays at
    /// the last completed version.
    ///
    /// # Panics
    /// Like [`Replica::open`].
    pub async fn start(config: ClientConfig) -> Result<Replica> {
        let hook = config.hook.clone();
        Self::opening(config, hook).await
    }

    async fn opening(config: ClientConfig, hook: Option<Rc<dyn SyncHook>>) -> Result<Replica> {
        assert!(
            config.protocol_version <= 1 || config.schema_version >= 3,
            "an app at local schema version {} speaks only protocol 1, not {}: set protocol_version to 1, \
             or schema_version to 3 or later",
            config.schema_version,
            config.protocol_version
        );
        std::fs::create_dir_all(&config.data_dir)?;
        let mut store = Store::open(&config.data_dir.join(DB_FILE), &config, hook.as_deref()).await?;
        let boots: u64 = store.meta("boots")?.and_then(|b| b.parse().ok()).unwrap_or(0) + 1;
        let tx = store.transaction()?;
        tx.set_meta("boots", &boots.to_string())?;
        if config.bugged(crate::bug::Bug::ViewRestoredAtOpen) {
            for (entity, id) in tx.records_with_open_entries()? {
                tx.show_server_copy(entity, &id)?;
            }
        }
        tx.commit()?;
        tracing::debug!(device = %config.device, boots, schema = store.schema(), "app opened");
        let rng = SmallRng::seed_from_u64(config.seed ^ boots.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let transport = config.transport();
        let inner = Inner {
            store: RefCell::new(store),
            transport: tokio::sync::Mutex::new(transport),
            config,
            upload_limit: Cell::new(None),
            rng: RefCell::new(rng),
            wrote: Notify::new(),
            run: RefCell::new(Status::default()),
            backoff: Cell::new((0, None)),
        };
        Ok(Replica { inner: Rc::new(inner) })
    }

    /// This device's name.
    pub fn device(&self) -> &str {
        &self.inner.config.device
    }

    /// A fresh UUID from the device's seeded RNG.
    pub fn new_id(&self) -> String {
        self.inner.new_id()
    }

    /// Creates a record with a new id and returns the id.
    pub fn create(&self, entity: Entity, changes: Changes) -> Result<String> {
        let id = self.new_id();
        self.write(entity, &id, Action::Create, changes)?;
        Ok(id)
    }

    /// Creates a record with the given id (the caller made it with [`Replica::new_id`]).
    pub fn create_with_id(&self, entity: Entity, id: &str, changes: Changes) -> Result<()> {
        self.write(entity, id, Action::Create, changes).map(drop)
    }

    /// Changes a record.
    pub fn update(&self, entity: Entity, id: &str, changes: Changes) -> Result<()> {
        self.write(entity, id, Action::Update, changes).map(drop)
    }

    /// Deletes a record (a tombstone is synced; the record never comes back).
    pub fn delete(&self, entity: Entity, id: &str) -> Result<()> {
        self.write(entity, id, Action::Delete, Changes::new()).map(drop)
    }

    /// Writes locally and queues the mutation, in one transaction; returns the queue entry.
    pub fn write(&self, entity: Entity, id: &str, action: Action, changes: Changes) -> Result<QueueEntry> {
        let key = self.new_id();
        let now_ms = self.inner.config.clock.now_ms();
        let mut store = self.inner.store.borrow_mut();
        let tx = store.transaction()?;
        let entry = enqueue(&tx, LocalWrite { entity, id, action, changes, key, now_ms })?;
        tx.commit()?;
        drop(store);
        tracing::debug!(key = %entry.key, %entity, id, action = action.name(), "local write queued");
        self.inner.wrote.notify_one();
        Ok(entry)
    }

    /// One visible record.
    pub fn get(&self, entity: Entity, id: &str) -> Result<Option<LocalRecord>> {
        self.inner.store.borrow().get(entity, id)
    }

    /// Every visible record of `entity`, most recently changed first.
    pub fn list(&self, entity: Entity) -> Result<Vec<LocalRecord>> {
        self.inner.store.borrow().list(entity, None)
    }

    /// The first `limit` visible records of `entity` (a screenful).
    pub fn first(&self, entity: Entity, limit: u32) -> Result<Vec<LocalRecord>> {
        self.inner.store.borrow().list(entity, Some(limit))
    }

    /// Visible fields of every record, by entity then id: what the user sees.
    pub fn visible_state(&self) -> Result<BTreeMap<(Entity, String), BTreeMap<String, Value>>> {
        let mut out = BTreeMap::new();
        for entity in Entity::ALL {
            for r in self.list(entity)? {
                out.insert((entity, r.id), r.fields);
            }
        }
        Ok(out)
    }

    /// The mutation queue, in order, optionally only entries with `status`.
    pub fn queue(&self, status: Option<QueueStatus>) -> Result<Vec<QueueEntry>> {
        self.inner.store.borrow().queue(status)
    }

    /// Applies one page of a pull of `entity` with its cursor, in one transaction, as a sync
    /// round does with each page it receives; returns whether the page started a re-sync
    /// instead (`page.reset`). For benchmarks and tests that time or drive this step
    /// without a network.
    pub fn apply_page(&self, entity: Entity, page: &protocol::PullResponse) -> Result<bool> {
        crate::engine::commit_page(&self.inner, entity, page)
    }

    /// Runs one sync round: pull every entity, then push the queue.
    ///
    /// One round at a time: a round asked for while another is under way (a background
    /// task during a foreground sync) waits for it. After the server refused a round (a
    /// 5xx, or a 429 with its `Retry-After`), the next round first waits out the backoff
    /// ([`Replica::retry_at`]), whoever asks for it, and a round that waited for another
    /// waits out the backoff that one left.
    pub async fn sync(&self) -> Result<SyncReport> {
        let (mut own, mut locked);
        let transport: &mut Transport = match self.inner.transport.try_lock() {
            Err(_) if self.inner.config.bugged(Bug::RoundsOverlap) => {
                own = self.inner.config.transport();
                &mut own
            }
            Ok(guard) => {
                locked = guard;
                &mut locked
            }
            Err(_) => {
                locked = self.inner.transport.lock().await;
                &mut locked
            }
        };
        if let Some(at) = self.retry_at().filter(|_| !self.inner.config.bugged(Bug::RetryWithoutBackoff)) {
            tokio::time::sleep_until(at).await;
        }
        self.inner.run.borrow_mut().syncing = true;
        let started_at_ms = self.inner.config.clock.now_ms();
        let result = sync_round(&self.inner, transport).await;
        let finished_at_ms = self.inner.config.clock.now_ms();
        if let Err(e) = self.inner.store.borrow_mut().log_round(started_at_ms, finished_at_ms, &result) {
            tracing::warn!(error = %e, "sync round not logged");
        }
        if let Err(e) = self.inner.store.borrow().release_free_pages() {
            tracing::warn!(error = %e, "free pages not released");
        }
        self.note_backoff(&result);
        let mut run = self.inner.run.borrow_mut();
        run.syncing = false;
        match &result {
            Ok(_) => {
                run.online = true;
                run.last_sync_ms = Some(self.inner.config.clock.now_ms());
                run.last_error = None;
            }
            Err(e) => {
                run.online =
                    !matches!(e, Error::Sync(crate::TransportError::Connect(_) | crate::TransportError::Timeout(_)));
                run.last_error = Some(e.to_string());
                tracing::info!(error = %e, "sync round failed");
            }
        }
        result
    }

    /// Limits the bytes pushed per round (a metered network); `None` lifts the limit.
    pub fn set_upload_limit(&self, bytes: Option<usize>) {
        self.inner.upload_limit.set(bytes);
    }

    /// Sync status for the app's UI.
    pub fn status(&self) -> Result<Status> {
        let store = self.inner.store.borrow();
        let mut status = self.inner.run.borrow().clone();
        status.pending = store.count(QueueStatus::Pending)? + store.count(QueueStatus::InFlight)?;
        status.failed = store.count(QueueStatus::Failed)?;
        status.conflicts = self.conflicts()?.iter().filter(|c| c.needs_user).count();
        Ok(status)
    }

    /// Conflicts not yet dismissed: those resolved by the server's strategy (shown as a
    /// notice) and those waiting for the user.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let store = self.inner.store.borrow();
        let mut stmt = store.conn().prepare_cached(
            "SELECT id, mutation_key, entity, record_id, resolution, fields_kept, mine, server, needs_user
             FROM conflicts WHERE open = 1 ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, bool>(8)?,
            ))
        })?;
        rows.map(|row| {
            let (id, key, entity, record_id, resolution, kept, mine, server, needs_user) = row?;
            Ok(Conflict {
                id,
                mutation_key: key,
                entity: Entity::parse(&entity).unwrap_or(Entity::Task),
                record_id,
                resolution,
                fields_kept: serde_json::from_str(&kept).map_err(corrupt("conflict fields"))?,
                mine: serde_json::from_str(&mine).map_err(corrupt("conflict change"))?,
                server: serde_json::from_str(&server).map_err(corrupt("conflict record"))?,
                needs_user,
            })
        })
        .collect()
    }

    /// Resolves (or dismisses) conflict `id`. `Choice::Mine` writes this device's register
    /// values again as a new mutation based on the server's version.
    pub fn resolve_conflict(&self, id: i64, choice: Choice) -> Result<()> {
        let conflict = self.conflicts()?.into_iter().find(|c| c.id == id).ok_or(Error::NoSuchConflict(id))?;
        if choice == Choice::Mine && !conflict.mine.fields.is_empty() && !conflict.server.deleted {
            let changes = Changes { fields: conflict.mine.fields.clone(), ..Changes::default() };
            self.update(conflict.entity, &conflict.record_id, changes)?;
        }
        let mut store = self.inner.store.borrow_mut();
        let tx = store.transaction()?;
        tx.tx.execute("UPDATE conflicts SET open = 0 WHERE id = ?1", [id])?;
        tx.set_status(&conflict.mutation_key, QueueStatus::Completed, None)?;
        let server = tx.row(conflict.entity, &conflict.record_id)?.and_then(|r| r.server);
        tx.recompute(conflict.entity, &conflict.record_id, server, self.inner.config.clock.now_ms())?;
        tx.commit()
    }

    /// Puts every failed mutation back in the queue with a fresh retry count (the user
    /// pressed "retry").
    pub fn retry_failed(&self) -> Result<usize> {
        let store = self.inner.store.borrow();
        let n = store.retry_failed()?;
        Ok(n)
    }

    /// Waits until the next local write (the scheduler's debounce trigger).
    pub async fn written(&self) {
        self.inner.wrote.notified().await;
    }

    /// When the next round may start, after the server refused the last ones; `None` when
    /// it did not.
    pub fn retry_at(&self) -> Option<Instant> {
        self.inner.backoff.get().1
    }

    fn note_backoff(&self, result: &Result<SyncReport>) {
        let (refused, _) = self.inner.backoff.get();
        self.inner.backoff.set(match result {
            Err(Error::Sync(TransportError::Unavailable { retry_after, .. })) => {
                let delay = self.backoff(refused + 1, *retry_after);
                (refused + 1, Some(Instant::now() + delay)) // tokio time, allowed: virtual in the simulation
            }
            Err(_) => (refused, self.retry_at()),
            Ok(_) => (0, None),
        });
    }

    /// Draws a jittered backoff delay for retry `attempt` from the device's RNG.
    pub fn backoff(&self, attempt: u32, retry_after: Option<std::time::Duration>) -> std::time::Duration {
        crate::backoff::delay(attempt, retry_after, &mut *self.inner.rng.borrow_mut())
    }
}
