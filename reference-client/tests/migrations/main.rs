//! Local schema upgrades: an app at any schema version, with records synced and writes still
//! queued, upgrades to any later version keeping both, and an upgrade killed at any change
//! leaves the last completed version for the next open to finish.

use protocol::{Entity, FixedClock, Mutation};
use reference_client::schema::{self, LATEST_VERSION, MIGRATIONS};
use reference_client::{
    Changes, ClientConfig, QueueEntry, QueueStatus, Replica, SyncHook, SyncStep, TcpConnector, DB_FILE,
};
use reference_server::{app_with_shared_store, serve, ServerConfig, Store};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use tempfile::TempDir;

const PROJECT: Entity = Entity::Project;
const TASK: Entity = Entity::Task;
const USER: &str = "alice";
const TOKEN: &str = "alice-phone";
const DEVICE: &str = "phone";

/// A reference server on loopback TCP, inside the test's runtime.
struct Server {
    addr: std::net::SocketAddr,
    store: Arc<Mutex<Store>>,
}

impl Server {
    async fn start() -> Self {
        let store = Arc::new(Mutex::new(Store::in_memory().unwrap()));
        let router = app_with_shared_store(store.clone(), ServerConfig::default().token(USER, TOKEN));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, router));
        Self { addr, store }
    }

    /// The phone's app at local schema `schema`, speaking the latest protocol its schema
    /// allows.
    fn app(&self, dir: &Path, schema: u32) -> ClientConfig {
        app_at(dir, schema, Rc::new(TcpConnector::new(self.addr)))
    }

    fn visible(&self) -> Visible {
        let records = self.store.lock().unwrap().records(USER).unwrap();
        records.into_iter().filter(|r| !r.deleted).map(|r| ((r.entity, r.id.clone()), r.visible())).collect()
    }
}

type Visible = BTreeMap<(Entity, String), BTreeMap<String, Value>>;

fn app_at(dir: &Path, schema: u32, connector: Rc<TcpConnector>) -> ClientConfig {
    let mut config = ClientConfig::new(dir.join(DEVICE), DEVICE, TOKEN, connector);
    config.clock = Arc::new(FixedClock(1_000_000));
    config.schema_version = schema;
    if schema < 3 {
        config.protocol_version = 1;
    }
    config
}

/// What an upgrade must keep: what the user sees and what is waiting to be pushed.
#[derive(Debug, PartialEq)]
struct Kept {
    visible: Visible,
    queue: Vec<QueueEntry>,
    mutations: Vec<Mutation>,
}

impl Kept {
    fn of(client: &Replica) -> Self {
        let queue = client.queue(None).unwrap();
        let mutations = queue.iter().map(QueueEntry::to_mutation).collect();
        Self { visible: client.visible_state().unwrap(), queue, mutations }
    }
}

async fn sync_until_idle(client: &Replica) {
    for _ in 0..5 {
        if client.sync().await.unwrap().idle() {
            return;
        }
    }
    panic!("no idle round in 5 rounds");
}

/// A project and two tasks, synced (so every entity has a cursor), then offline writes left
/// in the queue: a counter increment, a set remove, a delete, a create and an update chained
/// after it.
async fn use_the_app(client: &Replica) {
    let project =
        client.create(PROJECT, Changes::new().set("name", "Garden").add("tags", "home").add("tags", "work")).unwrap();
    let task = |title: &str| Changes::new().set("project_id", project.as_str()).set("title", title);
    let dig = client.create(TASK, task("Dig")).unwrap();
    let rake = client.create(TASK, task("Rake")).unwrap();
    sync_until_idle(client).await;
    client.update(TASK, &dig, Changes::new().increment("pomodoros", 2).set("done", true)).unwrap();
    client.update(PROJECT, &project, Changes::new().remove("tags", "home")).unwrap();
    client.delete(TASK, &rake).unwrap();
    let weed = client.create(TASK, task("Weed")).unwrap();
    client.update(TASK, &weed, Changes::new().set("title", "Weed the beds").increment("pomodoros", 1)).unwrap();
}

/// The app at schema `from`, used, then closed; returns what it showed and queued.
async fn used_at(server: &Server, dir: &Path, from: u32) -> Kept {
    let client = Replica::open(server.app(dir, from)).unwrap();
    use_the_app(&client).await;
    let kept = Kept::of(&client);
    assert_eq!(kept.queue.iter().filter(|e| e.status == QueueStatus::Pending).count(), 5, "five writes wait");
    kept
}

fn database(dir: &Path) -> PathBuf {
    dir.join(DEVICE).join(DB_FILE)
}

fn user_version(dir: &Path) -> u32 {
    schema::version(&rusqlite::Connection::open(database(dir)).unwrap()).unwrap()
}

fn copy_app_data(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join(DEVICE)).unwrap();
    for file in std::fs::read_dir(from.join(DEVICE)).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), to.join(DEVICE).join(file.file_name())).unwrap();
    }
}

/// Freezes opening forever at the `nth` migration change (the app is killed there).
struct KillAtChange {
    nth: usize,
    seen: Cell<usize>,
}

impl SyncHook for KillAtChange {
    fn reached(&self, step: &SyncStep) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        if let SyncStep::Migrating { .. } = step {
            self.seen.set(self.seen.get() + 1);
            if self.seen.get() == self.nth {
                return Box::pin(std::future::pending());
            }
        }
        Box::pin(std::future::ready(()))
    }
}

/// Starts the app with `config` and kills it at the `nth` change of its upgrade: the
/// `start` future is dropped while the migration's transaction is open.
fn kill_during_upgrade(mut config: ClientConfig, nth: usize) {
    config.hook = Some(Rc::new(KillAtChange { nth, seen: Cell::new(0) }));
    let mut start = pin!(Replica::start(config));
    let poll = start.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending(), "the upgrade finished before its change {nth}");
}

/// The version of the migration that the `nth` change of an upgrade from `from` belongs to.
fn migration_of_change(from: u32, nth: usize) -> u32 {
    let mut changes = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        changes += m.changes.len();
        if nth <= changes {
            return m.version;
        }
    }
    panic!("an upgrade from {from} has fewer than {nth} changes");
}

#[tokio::test]
async fn every_schema_upgrades_to_every_later_one_keeping_records_and_queued_writes() {
    for from in 1..LATEST_VERSION {
        for to in from + 1..=LATEST_VERSION {
            let server = Server::start().await;
            let dir = TempDir::new().unwrap();
            let before = used_at(&server, dir.path(), from).await;
            let upgraded = Replica::open(server.app(dir.path(), to)).unwrap();
            assert_eq!(user_version(dir.path()), to);
            assert_eq!(Kept::of(&upgraded), before, "upgrading {from} -> {to} changed what the app shows or queued");
            // Entries queued by the older app are pushed as they were written.
            sync_until_idle(&upgraded).await;
            let open = upgraded.queue(None).unwrap().into_iter().filter(|e| e.status != QueueStatus::Completed);
            assert_eq!(open.count(), 0, "{from} -> {to}: every queued write is answered and accepted");
            assert_eq!(upgraded.visible_state().unwrap(), server.visible(), "{from} -> {to}: the app diverged");
        }
    }
}

#[tokio::test]
async fn an_upgrade_killed_at_any_change_keeps_the_last_version_and_the_next_open_completes_it() {
    let server = Server::start().await;
    for from in 1..LATEST_VERSION {
        let used = TempDir::new().unwrap();
        let before = used_at(&server, used.path(), from).await;
        let changes: usize = MIGRATIONS[from as usize..].iter().map(|m| m.changes.len()).sum();
        for nth in 1..=changes {
            let dir = TempDir::new().unwrap();
            copy_app_data(used.path(), dir.path());
            kill_during_upgrade(server.app(dir.path(), LATEST_VERSION), nth);
            let interrupted = migration_of_change(from, nth);
            assert_eq!(
                user_version(dir.path()),
                interrupted - 1,
                "{from} -> {LATEST_VERSION} killed in migration {interrupted} (change {nth})"
            );
            let reopened = Replica::open(server.app(dir.path(), LATEST_VERSION)).unwrap();
            assert_eq!(user_version(dir.path()), LATEST_VERSION);
            assert_eq!(Kept::of(&reopened), before, "{from} -> {LATEST_VERSION} killed at change {nth}, then reopened");
        }
    }
}

#[tokio::test]
async fn every_sync_round_is_logged_from_schema_3() {
    let server = Server::start().await;
    let dir = TempDir::new().unwrap();
    let client = Replica::open(server.app(dir.path(), 2)).unwrap();
    client.sync().await.unwrap();
    drop(client);
    let client = Replica::open(server.app(dir.path(), 3)).unwrap();
    client.create(PROJECT, Changes::new().set("name", "Garden")).unwrap();
    client.sync().await.unwrap();
    client.sync().await.unwrap();
    let conn = rusqlite::Connection::open(database(dir.path())).unwrap();
    let rounds: Vec<(i64, i64)> = conn
        .prepare("SELECT pulled, pushed FROM sync_log WHERE error IS NULL ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rounds, [(0, 1), (1, 0)], "the app at schema 2 logs nothing; the push, then its pull back");
}

#[test]
#[should_panic(expected = "speaks only protocol 1")]
fn an_app_below_schema_3_cannot_speak_a_later_protocol() {
    let dir = TempDir::new().unwrap();
    let mut config = app_at(dir.path(), 2, Rc::new(TcpConnector::new(([127, 0, 0, 1], 9).into())));
    config.protocol_version = 2;
    let _ = Replica::open(config);
}

#[cfg(feature = "mutants")]
mod mutants {
    use super::*;
    use reference_client::Bug;

    fn bugged(mut config: ClientConfig, bug: Bug) -> ClientConfig {
        config.bug = Some(bug);
        config
    }

    #[tokio::test]
    async fn an_upgrade_without_transaction_or_guards_killed_midway_cannot_open_again() {
        let server = Server::start().await;
        let dir = TempDir::new().unwrap();
        let before = used_at(&server, dir.path(), 2).await;
        let app = || bugged(server.app(dir.path(), LATEST_VERSION), Bug::MigrationNotIdempotent);
        kill_during_upgrade(app(), 1);
        assert_eq!(user_version(dir.path()), 2, "the version is bumped only at the end");
        let error = Replica::open(app()).err().expect("the half-made migration runs again, unguarded");
        assert!(error.to_string().contains("already exists"), "{error}");
        let repaired = Replica::open(server.app(dir.path(), LATEST_VERSION)).unwrap();
        assert_eq!(Kept::of(&repaired), before, "guarded migrations complete what the mutant left");
    }

    #[tokio::test]
    async fn a_not_null_column_without_default_fails_the_upgrade_of_a_device_that_has_pulled() {
        let server = Server::start().await;
        let dir = TempDir::new().unwrap();
        let before = used_at(&server, dir.path(), 2).await;
        let app = bugged(server.app(dir.path(), LATEST_VERSION), Bug::NotNullWithoutDefault);
        let error = Replica::open(app).err().expect("SQLite refuses a NOT NULL column without default");
        assert!(error.to_string().contains("NOT NULL"), "{error}");
        assert_eq!(user_version(dir.path()), 2, "the failed migration rolled back");
        let repaired = Replica::open(server.app(dir.path(), LATEST_VERSION)).unwrap();
        assert_eq!(Kept::of(&repaired), before);
    }
}
