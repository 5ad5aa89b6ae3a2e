//! Fixtures of the benchmarks: the reference server on loopback TCP holding one user's
//! records, devices that have pulled them, pull pages to apply, and database sizes.
//!
//! The records are the rigs' ([`syncsim::rig::creates`]): a project, then 50 tasks in it,
//! and again, each task with a title, notes, a due date, a pomodoro count and a label.

pub mod echo;

use protocol::{Entity, PullResponse};
use reference_client::{ClientConfig, Replica, TcpConnector};
use reference_server::{app_with_shared_store, serve, ServerConfig, Store};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use syncsim::Operation;
use tempfile::TempDir;

/// Tasks in the large fixture: the "10K records" of the targets.
pub const LARGE: usize = 10_000;

/// The seed of every fixture's record ids: each run benchmarks the same records.
pub const SEED: u64 = 1;

/// Records per pull page and mutations per push batch of fixture devices.
pub const PAGE: u32 = 500;

/// Creates of `tasks` tasks and the projects that hold them (one per 50 tasks).
pub fn creates(tasks: usize) -> Vec<Operation> {
    syncsim::rig::creates(SEED, tasks + tasks.div_ceil(50))
}

/// Performs one create of [`creates`] on `client`, under its id.
pub fn perform(client: &Replica, operation: &Operation) {
    match operation {
        Operation::Create { entity, id, changes } => {
            client.create_with_id(*entity, id, changes.clone()).expect("a fixture write is valid")
        }
        other => panic!("fixtures only create records, not {other:?}"),
    }
}

/// The reference server on loopback, with user alice (tokens `a1`, `a2`, `a3`), driven by
/// its own single-threaded runtime.
pub struct Loopback {
    runtime: tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    store: Arc<Mutex<Store>>,
    /// Devices' data directories.
    pub dir: TempDir,
}

impl Loopback {
    /// Starts the server.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let store = Arc::new(Mutex::new(Store::in_memory().expect("an in-memory server store")));
        let config = ServerConfig::default().token("alice", "a1").token("alice", "a2").token("alice", "a3");
        let router = app_with_shared_store(store.clone(), config);
        let addr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
            let addr = listener.local_addr().expect("a bound address");
            tokio::spawn(serve(listener, router));
            addr
        });
        Self { runtime, addr, store, dir: TempDir::new().expect("a temporary directory") }
    }

    /// The configuration of device `name` (token `token`), pages and batches of [`PAGE`].
    pub fn config(&self, name: &str, token: &str) -> ClientConfig {
        let connector = Rc::new(TcpConnector::new(self.addr));
        let mut config = ClientConfig::new(self.dir.path().join(name), name, token, connector);
        config.page_size = PAGE;
        config.batch_size = PAGE as usize;
        config
    }

    /// Runs `future` on the server's runtime (a device's sync must run there).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Syncs `client` until a round finds nothing to do.
    pub fn sync_until_idle(&self, client: &Replica) {
        for _ in 0..100 {
            if self.block_on(client.sync()).expect("a loopback sync succeeds").idle() {
                return;
            }
        }
        panic!("{} did not reach an idle round in 100 rounds", client.device());
    }

    /// A server holding [`creates`]`(tasks)`, written and pushed by device `writer`.
    pub fn with_tasks(tasks: usize) -> Self {
        let loopback = Self::start();
        let writer = Replica::open(loopback.config("writer", "a1")).expect("the writer opens");
        creates(tasks).iter().for_each(|op| perform(&writer, op));
        loopback.sync_until_idle(&writer);
        loopback
    }

    /// A device that has pulled everything the server holds.
    pub fn synced_device(&self, name: &str) -> Replica {
        let client = Replica::open(self.config(name, "a2")).expect("the device opens");
        self.sync_until_idle(&client);
        client
    }

    /// The server's `entity` records as one pull page from cursor 0, at most `limit`.
    pub fn page(&self, entity: Entity, limit: usize) -> PullResponse {
        let records = self.store.lock().expect("the store lock").records("alice").expect("the server's records");
        let mut changes: Vec<_> = records.into_iter().filter(|r| r.entity == entity).collect();
        changes.sort_by_key(|r| r.version);
        changes.truncate(limit);
        let cursor = changes.last().map_or(0, |r| r.version);
        PullResponse { changes, cursor, has_more: false, reset: false, purged_through: Some(0) }
    }
}

/// The parts of the local database at `path` and the bytes each takes: the tables and
/// indexes of the records and of the queue by their role (whatever a schema calls them),
/// everything else, and the pages left free.
pub fn parts(path: &Path) -> Vec<(String, u64)> {
    let conn = rusqlite::Connection::open(path).expect("the database opens");
    // In this order, whatever the schema calls them.
    const PARTS: [&str; 9] = [
        "records: rows",
        "records: index by id",
        "records: index by last change",
        "records: index by title",
        "queue: rows",
        "queue: index by key",
        "queue: index by record",
        "queue: index of open entries",
        "other tables, the schema",
    ];
    let part = |object: &str| match object {
        "records" | "local_records" => "records: rows",
        "local_records_by_id" => "records: index by id",
        "records_visible" | "local_records_recent" => "records: index by last change",
        "records_sorted" => "records: index by title",
        "queue" | "mutations" => "queue: rows",
        "sqlite_autoindex_queue_1" | "mutations_by_key" => "queue: index by key",
        "queue_by_record" | "mutations_by_record" => "queue: index by record",
        "queue_open" => "queue: index of open entries",
        _ => "other tables, the schema",
    };
    let mut stmt = conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY name").expect("dbstat");
    let objects = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).expect("dbstat rows");
    let mut parts: Vec<(String, u64)> = Vec::new();
    for (object, bytes) in objects.map(|o| o.expect("a dbstat row")) {
        let name = part(&object);
        match parts.iter_mut().find(|(p, _)| p == name) {
            Some((_, total)) => *total += bytes as u64,
            None => parts.push((name.to_owned(), bytes as u64)),
        }
    }
    parts.sort_by_key(|(name, _)| PARTS.iter().position(|p| p == name));
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0)).expect(name);
    let (pages, page_size, free) = (pragma("page_count"), pragma("page_size"), pragma("freelist_count"));
    let counted: u64 = parts.iter().map(|(_, b)| b).sum();
    parts.push(("free pages".to_owned(), (free * page_size) as u64));
    // What dbstat does not list: the pointer maps of an auto-vacuumed database.
    let rest = (pages * page_size) as u64 - counted - (free * page_size) as u64;
    if rest > 0 {
        parts.push(("auto-vacuum pointer maps".to_owned(), rest));
    }
    parts
}

/// Bytes a device's data directory takes on disk (the database and any journal).
pub fn disk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::reference::{ReferenceClient, ReferenceServer};
    use syncsim::rig::{Rig, SyncWork, Timing};
    use syncsim::Profile;

    fn time(profile: Profile, seed: u64, work: SyncWork, gzip: bool) -> Timing {
        let client = ReferenceClient { gzip, page_size: PAGE, batch_size: PAGE as usize, ..ReferenceClient::default() };
        Rig::new(profile, seed).time(&client, &ReferenceServer::default(), work)
    }

    #[test]
    fn a_rig_pulls_every_record_once_and_no_faster_than_the_wire() {
        let profile = Profile::SLOW_4G;
        let timing = time(profile, 1, SyncWork::Pull(600), true);
        assert_eq!((timing.pulled, timing.pushed), (600, 0));
        assert_eq!(timing.requests, 3, "one page of projects, two of tasks: {timing:?}");
        let limit = timing.wire_limit(&profile);
        assert!(timing.elapsed >= limit, "faster than the wire allows: {timing:?}, limit {limit:?}");
        assert!(timing.elapsed < limit * 2, "a pull on an idle link is mostly wire time: {timing:?}, limit {limit:?}");
    }

    #[test]
    fn a_rig_pushes_every_mutation_once_and_repeats_with_its_seed() {
        let timing = time(Profile::THREE_G, 7, SyncWork::Push(60), true);
        assert_eq!((timing.pulled, timing.pushed), (0, 60));
        assert_eq!(time(Profile::THREE_G, 7, SyncWork::Push(60), true), timing, "the same seed, the same figures");
    }

    #[test]
    fn gzip_shrinks_the_download_and_the_time_on_a_slow_link() {
        let zipped = time(Profile::SLOW_4G, 1, SyncWork::Pull(300), true);
        let plain = time(Profile::SLOW_4G, 1, SyncWork::Pull(300), false);
        assert!(zipped.bytes_down * 3 < plain.bytes_down, "{zipped:?} against {plain:?}");
        assert!(zipped.elapsed < plain.elapsed, "{zipped:?} against {plain:?}");
    }

    #[test]
    fn a_faster_profile_moves_the_same_records_faster() {
        let slow = time(Profile::THREE_G, 1, SyncWork::Pull(300), true);
        let fast = time(Profile::LTE, 1, SyncWork::Pull(300), true);
        assert_eq!(slow.bytes_down, fast.bytes_down, "the same bytes");
        assert!(fast.elapsed * 2 < slow.elapsed, "lte against 3g: {fast:?} against {slow:?}");
    }

    #[test]
    fn a_fixture_device_holds_every_record_and_its_page_applies_on_a_fresh_device() {
        let loopback = Loopback::with_tasks(120);
        let device = loopback.synced_device("device");
        assert_eq!(device.list(Entity::Task).unwrap().len(), 120);
        assert_eq!(device.list(Entity::Project).unwrap().len(), 3);
        let page = loopback.page(Entity::Task, 100);
        let fresh = Replica::open(loopback.config("fresh", "a3")).unwrap();
        assert!(!fresh.apply_page(Entity::Task, &page).unwrap(), "a page from 0 is no reset");
        assert_eq!(fresh.list(Entity::Task).unwrap().len(), 100);
        assert!(disk_bytes(&loopback.dir.path().join("device")) > 0);
    }
}
