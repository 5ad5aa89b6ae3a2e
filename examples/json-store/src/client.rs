//! The client: the app's records and queue in one JSON file; a sync round posts the queue
//! and takes the server's records, with the writes made meanwhile applied on top.

use crate::apply::{apply, Queued};
use crate::file::{load, save};
use crate::server::SYNC_PATH;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::time::Duration;
use syncsim::{BoxError, ClientCapabilities, DeviceEnv, DeviceState, Operation, Step, SyncOutcome, UserRecords};
use tokio::time::Instant;

/// How long a sync round may take before it is given up (turmoil's TCP never retransmits).
const ROUND_TIMEOUT: Duration = Duration::from_secs(20);
/// The app's file in the device's data directory.
const APP_FILE: &str = "app.json";
/// The wait after the server first refuses a round; it doubles with each refusal in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between refused rounds.
const LONGEST_BACKOFF: Duration = Duration::from_secs(60);

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
    /// Rounds the server refused in a row (5xx, 429), and when the next may start.
    refused: Cell<(u32, Option<Instant>)>,
}

/// What came back from the server: its records, or a refusal and how long it asked to wait.
enum Answer {
    Records(UserRecords),
    Refused { status: http::StatusCode, retry_after: Option<Duration> },
}

impl syncsim::Client for JsonClient {
    type App = JsonApp;

    async fn open(&self, env: DeviceEnv) -> Result<JsonApp, BoxError> {
        std::fs::create_dir_all(&env.data_dir)?;
        let path = env.data_dir.join(APP_FILE);
        let local = RefCell::new(load(&path)?);
        Ok(JsonApp { local, path, env, fresh_key_per_retry: self.fresh_key_per_retry, refused: Cell::new((0, None)) })
    }

    /// Counters and every step of a round (one request both pushes and pulls); no sets, no
    /// conflicts kept for the user.
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities { counters: true, steps: Step::ALL.to_vec(), ..ClientCapabilities::default() }
    }
}

impl JsonApp {
    /// A new idempotency key: the device's name and a counter kept in its file.
    fn key(&self, local: &mut Local) -> String {
        local.next_key += 1;
        format!("{}-{}-{}", self.env.host, self.env.boot, local.next_key)
    }

    async fn exchange(&self, sent: &[Queued]) -> Result<Answer, BoxError> {
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
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
        let body = response.into_body().collect().await?.to_bytes();
        if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
            return Ok(Answer::Refused { status, retry_after: retry_after.map(Duration::from_secs) });
        }
        if !status.is_success() {
            return Err(format!("the server answered {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(Answer::Records(serde_json::from_slice(&body)?))
    }

    /// Refuses to start a round before the backoff of the last refusals has passed.
    fn backing_off(&self) -> Result<(), BoxError> {
        match self.refused.get() {
            // tokio's clock, not the wall clock: virtual time in the simulation.
            (_, Some(until)) if Instant::now() < until => Err("backing off after the server refused".into()),
            _ => Ok(()),
        }
    }

    /// Notes a refusal: the next round waits twice as long as the last, or what the server asked.
    fn refused(&self, status: http::StatusCode, retry_after: Option<Duration>) -> BoxError {
        let (count, _) = self.refused.get();
        let backoff = FIRST_BACKOFF.saturating_mul(1 << count.min(6)).min(LONGEST_BACKOFF);
        let wait = retry_after.map_or(backoff, |asked| asked.max(backoff));
        let until = Instant::now() + wait; // tokio's clock, not the wall clock
        self.refused.set((count + 1, Some(until)));
        format!("the server refused the round ({status}): retrying in {wait:?}").into()
    }
}

impl JsonApp {
    /// Takes the server's records after it applied the first `acknowledged` queued writes:
    /// those leave the queue, the writes made meanwhile are applied on top. Returns how many
    /// records changed.
    fn take(&self, server: UserRecords, acknowledged: usize) -> std::io::Result<u64> {
        let mut local = self.local.borrow_mut();
        let written_meanwhile = local.queue.split_off(acknowledged);
        let mut records = server;
        written_meanwhile.iter().for_each(|queued| apply(&mut records, &queued.operation));
        let pulled = records.iter().filter(|(k, v)| local.records.get(*k) != Some(*v)).count();
        local.records = records;
        local.queue = written_meanwhile;
        save(&self.path, &*local)?;
        Ok(pulled as u64)
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

    /// One request pushes the queue and pulls the user's records, so a round reaches the
    /// push and the pull steps together.
    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        self.backing_off()?;
        let steps = &self.env.steps;
        let mut sent: Vec<Queued> = self.local.borrow().queue.clone();
        if self.fresh_key_per_retry {
            let mut local = self.local.borrow_mut();
            sent.iter_mut().for_each(|queued| queued.key = self.key(&mut local));
        }
        steps.reached(Step::PullStarting).await;
        steps.reached(Step::PushStarting).await;
        let server = match tokio::time::timeout(ROUND_TIMEOUT, self.exchange(&sent)).await?? {
            Answer::Records(records) => records,
            Answer::Refused { status, retry_after } => return Err(self.refused(status, retry_after)),
        };
        self.refused.set((0, None));
        steps.reached(Step::PushResponseReceived).await;
        steps.reached(Step::PullPageReceived).await;
        let pulled = self.take(server, sent.len())?;
        steps.reached(Step::PullPageApplied).await;
        steps.reached(Step::PushAcknowledged).await;
        Ok(SyncOutcome { pulled, pushed: sent.len() as u64, ..SyncOutcome::default() })
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        let local = self.local.borrow();
        Ok(DeviceState { records: local.records.clone(), pending: local.queue.len(), ..DeviceState::default() })
    }
}
