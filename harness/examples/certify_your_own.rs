//! How to certify your own sync implementation: implement `syncsim::Client` (which opens an
//! `App` per device) and `syncsim::Server`, then run scenarios on them.
//!
//! The implementation here is deliberately small: the app keeps its records and its queue in
//! one JSON file (written whole, then renamed, so a kill never tears it); a sync posts the
//! queue and receives the user's whole state; the server applies each mutation once (by
//! key), last arrival wins, and keeps its state in a JSON file too. Run it with
//! `cargo run -p syncsim --example certify_your_own`.

use axum::{extract::State, http::HeaderMap, routing::post, Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use syncsim::{BoxError, DeviceEnv, DeviceState, Fault, Operation, RecordKey, Scenario, ServerEnv, ServerState};
use syncsim::{SyncOutcome, UserRecords, Workload};

/// A mutation as queued and sent: the idempotency key is made when the user acts.
#[derive(Clone, Serialize, Deserialize)]
struct Queued {
    key: String,
    operation: Operation,
}

/// Applies one operation to a set of records (the same code on both sides).
fn apply(records: &mut UserRecords, operation: &Operation) {
    let key = operation.key();
    let Some(changes) = operation.changes() else {
        records.remove(&key);
        return;
    };
    if matches!(operation, Operation::Update { .. }) && !records.contains_key(&key) {
        return; // deleted meanwhile: an update never brings a record back
    }
    let record = records.entry(key).or_default();
    record.extend(changes.fields.clone());
    for (field, delta) in &changes.increments {
        let now = record.get(field).and_then(|v| v.as_i64()).unwrap_or(0);
        record.insert(field.clone(), (now + delta).into());
    }
    for (field, added) in &changes.set_add {
        let mut set: BTreeSet<String> =
            serde_json::from_value(record.remove(field).unwrap_or_default()).unwrap_or_default();
        set.extend(added.iter().cloned());
        record.insert(field.clone(), serde_json::to_value(set).expect("strings serialize"));
    }
    for (field, removed) in &changes.set_remove {
        let mut set: BTreeSet<String> =
            serde_json::from_value(record.remove(field).unwrap_or_default()).unwrap_or_default();
        set.retain(|e| !removed.contains_key(e));
        record.insert(field.clone(), serde_json::to_value(set).expect("strings serialize"));
    }
}

fn load<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> T {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

fn save<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, serde_json::to_vec(value)?)?;
    std::fs::rename(temporary, path)
}

/// The server's whole state: each user's records and every key already applied.
#[derive(Default, Serialize, Deserialize)]
struct Db {
    users: BTreeMap<String, UserRecords>,
    applied: BTreeSet<String>,
}

#[derive(Clone)]
struct JsonServer;

type Shared = Arc<(Mutex<Db>, PathBuf, BTreeMap<String, String>)>;

async fn sync(State(shared): State<Shared>, headers: HeaderMap, Json(queue): Json<Vec<Queued>>) -> Json<UserRecords> {
    let (db, path, tokens) = &*shared;
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let user = tokens.get(token).cloned().unwrap_or_default();
    let mut db = db.lock().expect("no handler panics while holding the lock");
    for queued in queue {
        if db.applied.insert(queued.key) {
            apply(db.users.entry(user.clone()).or_default(), &queued.operation);
        }
    }
    save(path, &*db).expect("the server's disk works");
    Json(db.users.get(&user).cloned().unwrap_or_default())
}

impl syncsim::Server for JsonServer {
    fn router(&self, env: &ServerEnv) -> Result<Router, BoxError> {
        let path = env.data_dir.join("db.json");
        let tokens = env.credentials.iter().map(|c| (c.token.clone(), c.user.clone())).collect();
        let shared: Shared = Arc::new((Mutex::new(load(&path)), path, tokens));
        Ok(Router::new().route("/sync", post(sync)).with_state(shared))
    }

    fn state(&self, env: &ServerEnv) -> Result<ServerState, BoxError> {
        Ok(ServerState { users: load::<Db>(&env.data_dir.join("db.json")).users })
    }
}

/// The app's file: what the user sees and what is not yet acknowledged.
#[derive(Default, Serialize, Deserialize)]
struct Local {
    records: UserRecords,
    queue: Vec<Queued>,
    next_key: u64,
}

#[derive(Clone)]
struct JsonClient;

struct JsonApp {
    env: DeviceEnv,
    path: PathBuf,
    local: RefCell<Local>,
}

impl syncsim::Client for JsonClient {
    type App = JsonApp;

    async fn open(&self, env: DeviceEnv) -> Result<JsonApp, BoxError> {
        std::fs::create_dir_all(&env.data_dir)?;
        let path = env.data_dir.join("app.json");
        Ok(JsonApp { local: RefCell::new(load(&path)), path, env })
    }
}

impl syncsim::App for JsonApp {
    async fn perform(&self, operation: &Operation) -> Result<(), BoxError> {
        let mut local = self.local.borrow_mut();
        apply(&mut local.records, operation);
        let key = format!("{}-{}", self.env.host, local.next_key);
        local.next_key += 1;
        local.queue.push(Queued { key, operation: operation.clone() });
        Ok(save(&self.path, &*local)?)
    }

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let sent: Vec<Queued> = self.local.borrow().queue.clone();
        let request = http::Request::post("/sync")
            .header("host", "server")
            .header("authorization", &self.env.token)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(&sent)?)))?;
        let exchange = async {
            let stream = self.env.connector.connect().await?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::task::spawn_local(connection);
            let body = sender.send_request(request).await?.into_body().collect().await?.to_bytes();
            Ok::<_, BoxError>(serde_json::from_slice::<UserRecords>(&body)?)
        };
        let server = tokio::time::timeout(Duration::from_secs(20), exchange).await??;
        let mut local = self.local.borrow_mut();
        let written_meanwhile = local.queue.split_off(sent.len());
        let mut records = server;
        written_meanwhile.iter().for_each(|q| apply(&mut records, &q.operation));
        let pulled = records.iter().filter(|(k, v)| local.records.get(*k) != Some(*v)).count();
        local.records = records;
        local.queue = written_meanwhile;
        save(&self.path, &*local)?;
        Ok(SyncOutcome { pulled: pulled as u64, pushed: sent.len() as u64, ..SyncOutcome::default() })
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        let local = self.local.borrow();
        let records: BTreeMap<RecordKey, _> = local.records.clone();
        Ok(DeviceState { records, pending: local.queue.len(), ..DeviceState::default() })
    }
}

fn main() {
    let scenario = Scenario::builder("json_sync_through_a_partition")
        .devices(2)
        .workload(Workload::mixed(10))
        .at(Duration::from_secs(5), Fault::partition(0))
        .at(Duration::from_secs(20), Fault::repair(0))
        .duration(Duration::from_secs(30))
        .replay("SYNCSIM_SEED={seed} cargo run -p syncsim --example certify_your_own")
        .build();
    let sweep = scenario.run_seeds(&JsonClient, &JsonServer, syncsim::seed::sweep(8));
    println!(
        "{} seeds, {} failed, slowest convergence {:?} ms",
        sweep.seeds.len(),
        sweep.failures.len(),
        sweep.max_converge_ms()
    );
    sweep.assert_ok();
}
