//! The app's handle: local reads and writes, sync, status and conflicts.

use crate::bug::Bug;
use crate::engine::{sync_round, SyncHook, SyncReport, SyncStep};
use crate::error::{corrupt, Error, Result};
use crate::local_write::{enqueue, LocalWrite};
use crate::queue::{QueueEntry, QueueStatus};
use crate::store::{LocalRecord, Store};
use crate::transport::{Connector, Timeouts, Transport, TransportError};
use protocol::Changes;
use protocol::{Action, Clock, Entity, Record, SystemClock};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "syncsim-client.db";

/// How a client is opened.
///
/// Defaults: the system clock, RNG seed derived from the device name, default
/// [`Timeouts`], pull pages of 200, push batches of 100, 10 retries, no hook, the latest
/// local schema and protocol version.
#[derive(Clone)]
pub struct ClientConfig {
    /// Directory holding the local database; it survives app kills.
    pub data_dir: PathBuf,
    /// This device's name: the HLC node and the counter replica.
    pub device: String,
    /// Bearer token of this device.
    pub token: String,
    /// Opens connections to the server.
    pub connector: Rc<dyn Connector>,
    /// The device's wall clock.
    pub clock: Arc<dyn Clock>,
    /// Seed of the device's RNG (ids, keys, jitter). Mixed with a per-open counter, so a
    /// restarted app never repeats an id.
    pub seed: u64,
    /// Network timeouts.
    pub timeouts: Timeouts,
    /// Records per pull page.
    pub page_size: u32,
    /// Mutations per push batch.
    pub batch_size: usize,
    /// Retryable server errors a mutation may meet before it is failed.
    pub max_retries: u32,
    /// Whether to compress large request bodies and accept compressed responses.
    /// Default: `true`; `false` measures what gzip saves.
    pub gzip: bool,
    /// Sees every sync step.
    pub hook: Option<Rc<dyn SyncHook>>,
    /// The local schema version this app runs (an older app's, in upgrade tests); the
    /// database is migrated up to it on open. Default: the latest.
    pub schema_version: u32,
    /// The sync protocol version this app speaks. Default: [`protocol::PROTOCOL_VERSION`].
    /// An app whose local schema is older than version 3 can speak only protocol 1: its
    /// cursors do not record the protocol they were pulled with.
    pub protocol_version: u32,
    /// A deliberate bug to plant, for the mutant catalog. Default: none.
    #[cfg(feature = "mutants")]
    pub bug: Option<crate::Bug>,
}

impl ClientConfig {
    /// A configuration with the defaults above.
    pub fn new(data_dir: impl Into<PathBuf>, device: &str, token: &str, connector: Rc<dyn Connector>) -> Self {
        let seed =
            device.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Self {
            data_dir: data_dir.into(),
            device: device.to_owned(),
            token: token.to_owned(),
            connector,
            clock: Arc::new(SystemClock),
            seed,
            timeouts: Timeouts::default(),
            page_size: 200,
            batch_size: 100,
            max_retries: 10,
            gzip: true,
            hook: None,
            schema_version: crate::schema::LATEST_VERSION,
            protocol_version: protocol::PROTOCOL_VERSION,
            #[cfg(feature = "mutants")]
            bug: None,
        }
    }

    /// Whether `bug` is planted (never, without the `mutants` feature).
    pub(crate) fn bugged(&self, bug: crate::bug::Bug) -> bool {
        #[cfg(feature = "mutants")]
        return self.bug == Some(bug);
        #[cfg(not(feature = "mutants"))]
        {
            let _ = bug;
            false
        }
    }
}

/// A conflict recorded on this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// Its id, for [`Client::resolve_conflict`].
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

pub(crate) struct Inner {
    pub(crate) store: RefCell<Store>,
    pub(crate) transport: tokio::sync::Mutex<Transport>,
    pub(crate) config: ClientConfig,
    pub(crate) upload_limit: Cell<Option<usize>>,
    rng: RefCell<SmallRng>,
    pub(crate) wrote: Notify,
    run: RefCell<Status>,
    /// Rounds the server refused in a row (5xx, 429), and when the next may start.
    backoff: Cell<(u32, Option<Instant>)>,
}

impl Inner {
    /// A fresh UUID from the device's seeded RNG.
    pub(crate) fn new_id(&self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.borrow_mut().fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    pub(crate) async fn reached(&self, step: SyncStep) {
        if let Some(hook) = &self.config.hook {
            hook.reached(&step).await;
        }
    }
}

/// The reference offline-first client of one device. Cheap to clone; every clone is the
/// same app. It is single-threaded by design (`!Send`): run it on a current-thread runtime
/// or a `LocalSet`, as the simulation does.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Rc<Inner>,
}

impl Client {
    /// Opens (creating or upgrading) the local database and resets writes that were in
    /// flight when the app last stopped to pending. [`Client::start`] does the same and
    /// shows the upgrade's progress to the hook.
    ///
    /// # Panics
    /// If `config` asks for a protocol version above 1 at a local schema older than version
    /// 3, or for a schema version this build does not know.
    pub fn open(config: ClientConfig) -> Result<Client> {
        crate::schema::complete_now(Self::opening(config, None))
    }

    /// Opens the app like [`Client::open`], reporting [`SyncStep::Migrating`] to the
    /// config's hook after each change of a schema migration, inside the migration's
    /// transaction: dropping this future there (the app killed mid-upgrade) rolls the
    /// migration back, and the database stays at the last completed version.
    ///
    /// # Panics
    /// Like [`Client::open`].
    pub async fn start(config: ClientConfig) -> Result<Client> {
        let hook = config.hook.clone();
        Self::opening(config, hook).await
    }

    async fn opening(config: ClientConfig, hook: Option<Rc<dyn SyncHook>>) -> Result<Client> {
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
        tx.commit()?;
        tracing::debug!(device = %config.device, boots, schema = store.schema(), "app opened");
        let rng = SmallRng::seed_from_u64(config.seed ^ boots.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let transport = Transport::new(
            config.connector.clone(),
            config.token.clone(),
            config.protocol_version,
            config.timeouts,
            config.gzip,
        );
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
        Ok(Client { inner: Rc::new(inner) })
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

    /// Creates a record with the given id (the caller made it with [`Client::new_id`]).
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
    /// After the server refused a round (a 5xx, or a 429 with its `Retry-After`), the next
    /// round first waits out the backoff ([`Client::retry_at`]), whoever asks for it.
    pub async fn sync(&self) -> Result<SyncReport> {
        if let Some(at) = self.retry_at().filter(|_| !self.inner.config.bugged(Bug::RetryWithoutBackoff)) {
            tokio::time::sleep_until(at).await;
        }
        self.inner.run.borrow_mut().syncing = true;
        let started_at_ms = self.inner.config.clock.now_ms();
        let result = sync_round(&self.inner).await;
        let finished_at_ms = self.inner.config.clock.now_ms();
        if let Err(e) = self.inner.store.borrow_mut().log_round(started_at_ms, finished_at_ms, &result) {
            tracing::warn!(error = %e, "sync round not logged");
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
        let n = store.conn().execute("UPDATE queue SET status = 'pending', retries = 0 WHERE status = 'failed'", [])?;
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
