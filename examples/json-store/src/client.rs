//! The client: the app's records and queue in one JSON file; a sync round posts the queue
//! and takes the server's records, with the writes made meanwhile applied on top.

use crate::apply::{apply, Queued};
use crate::file::{load, save};
use crate::server::SYNC_PATH;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;
use syncsim::{BoxError, ClientCapabilities, DeviceEnv, DeviceState, Operation, SyncOutcome, UserRecords};

/// How long a sync round may take before it is given up (turmoil's TCP never retransmits).
const ROUND_TIMEOUT: Duration = Duration::from_secs(20);
/// The app's file in the device's data directory.
const APP_FILE: &str = "app.json";

/// Opens the json-store app on a device.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonClient {
    /// A planted bug: the idempotency key is made per request, so a retried write applies
    /// twice. Default: `false`.
    pub fresh_key_per_retry: bool,
}

/// The app's file: what the user sees and what the server has not acknowledged.
#[derive(Default, Serialize, Deserialize)]
struct Local {
    records: UserRecords,
    queue: Vec<Queued>,
    next_key: u64,
}

/// The json-store app open on one device.
pub struct JsonApp {
    env: DeviceEnv,
    path: PathBuf,
    local: RefCell<Local>,
    fresh_key_per_retry: bool,
}

impl syncsim::Client for JsonClient {
    type App = JsonApp;

    async fn open(&self, env: DeviceEnv) -> Result<JsonApp, BoxError> {
        std::fs::create_dir_all(&env.data_dir)?;
        let path = env.data_dir.join(APP_FILE);
        Ok(JsonApp { local: RefCell::new(load(&path)?), path, env, fresh_key_per_retry: self.fresh_key_per_retry })
    }

    /// Counters only: no sets, no reported sync steps, no conflicts kept for the user.
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities { counters: true, ..ClientCapabilities::default() }
    }
}

impl JsonApp {
    /// A new idempotency key: the device's name and a counter kept in its file.
    fn key(&self, local: &mut Local) -> String {
        local.next_key += 1;
        format!("{}-{}-{}", self.env.host, self.env.boot, local.next_key)
    }

    async fn exchange(&self, sent: &[Queued]) -> Result<UserRecords, BoxError> {
        let request = http::Request::post(SYNC_PATH)
            .header("host", "server")
            .header("authorization", &self.env.token)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(sent)?)))?;
        let stream = self.env.connector.connect().await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::task::spawn_local(connection);
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(format!("the server answered {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(serde_json::from_slice(&body)?)
    }
}

impl syncsim::App for JsonApp {
    async fn perform(&self, operation: &Operation) -> Result<(), BoxError> {
        let mut local = self.local.borrow_mut();
        apply(&mut local.records, operation);
        let key = self.key(&mut local);
        local.queue.push(Queued { key, operation: operation.clone() });
        Ok(save(&self.path, &*local)?)
    }

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let mut sent: Vec<Queued> = self.local.borrow().queue.clone();
        if self.fresh_key_per_retry {
            let mut local = self.local.borrow_mut();
            sent.iter_mut().for_each(|queued| queued.key = self.key(&mut local));
        }
        let server = tokio::time::timeout(ROUND_TIMEOUT, self.exchange(&sent)).await??;
        let mut local = self.local.borrow_mut();
        let written_meanwhile = local.queue.split_off(sent.len());
        let mut records = server;
        written_meanwhile.iter().for_each(|queued| apply(&mut records, &queued.operation));
        let pulled = records.iter().filter(|(k, v)| local.records.get(*k) != Some(*v)).count();
        local.records = records;
        local.queue = written_meanwhile;
        save(&self.path, &*local)?;
        Ok(SyncOutcome { pulled: pulled as u64, pushed: sent.len() as u64, ..SyncOutcome::default() })
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        let local = self.local.borrow();
        Ok(DeviceState { records: local.records.clone(), pending: local.queue.len(), ..DeviceState::default() })
    }
}
