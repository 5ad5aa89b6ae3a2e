//! The reference client as a [`syncsim::Client`].

use protocol::Clock;
use reference_client::{
    BoxStream, ClientConfig, Connector, QueueStatus, Replica, SyncHook, SyncReport, SyncStep, Timeouts,
};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use syncsim::{BoxError, ClientCapabilities, DeviceEnv, DeviceState, Operation, RecordKey, Step, SyncOutcome};

/// Uploads allowed per sync round on a metered network.
const METERED_UPLOAD: usize = 64 * 1024;

/// Opens the reference client on a simulated device.
///
/// Defaults: connect timeout 5 s, request timeout 30 s (an edge-profile push of 100
/// mutations takes seconds), pull pages of 50, push batches of 100: a page is smaller than a
/// push batch, so a page boundary can fall inside one server transaction.
#[derive(Clone, Debug)]
pub struct ReferenceClient {
    /// Network timeouts.
    pub timeouts: Timeouts,
    /// Records per pull page.
    pub page_size: u32,
    /// Mutations per push batch.
    pub batch_size: usize,
    /// Whether bodies are gzipped (see [`ClientConfig::gzip`]). Default: `true`.
    pub gzip: bool,
    /// A deliberate bug to plant (see [`crate::mutant`]). Default: none.
    pub bug: Option<reference_client::Bug>,
}

impl Default for ReferenceClient {
    fn default() -> Self {
        Self {
            timeouts: Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(30) },
            page_size: 50,
            batch_size: 100,
            gzip: true,
            bug: None,
        }
    }
}

/// The reference app open on one device: the replica of the user logged in, and those of
/// the users logged in on the device before, whose writes it keeps pushing as theirs.
pub struct ReferenceApp {
    client: Replica,
    others: Vec<Replica>,
    env: DeviceEnv,
    protocol: u32,
}

/// The users logged in on a device so far, with their tokens (an app's keychain): a file
/// of `user token` lines in the data directory.
const ACCOUNTS_FILE: &str = "accounts";

/// Adds `user` (with `token`) to the accounts of `data_dir`, and returns every account:
/// the others each get a replica that pushes what they left queued.
fn accounts(data_dir: &Path, user: &str, token: &str) -> std::io::Result<Vec<(String, String)>> {
    let path = data_dir.join(ACCOUNTS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut accounts: Vec<(String, String)> =
        text.lines().filter_map(|line| line.split_once(' ')).map(|(u, t)| (u.to_owned(), t.to_owned())).collect();
    if !accounts.iter().any(|(u, t)| u == user && t == token) {
        accounts.retain(|(u, _)| u != user);
        accounts.push((user.to_owned(), token.to_owned()));
        save_accounts(data_dir, &accounts)?;
    }
    Ok(accounts)
}

/// Replaces the accounts file of `data_dir` at once (a kill leaves the old one or the new).
fn save_accounts(data_dir: &Path, accounts: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let text: String = accounts.iter().map(|(u, t)| format!("{u} {t}\n")).collect();
    let written = data_dir.join(format!("{ACCOUNTS_FILE}.new"));
    std::fs::write(&written, text)?;
    std::fs::rename(written, data_dir.join(ACCOUNTS_FILE))
}

/// The sync protocol version the reference app's version `app_version` speaks: 2 from
/// version 3, whose local schema records the protocol each cursor was pulled with (so that
/// the upgraded app knows to pull everything again for the fields it did not know), and 3
/// (a set's removed tags per element) from version 8.
pub(crate) fn protocol_of(app_version: u32) -> u32 {
    match app_version {
        ..=2 => 1,
        3..=7 => 2,
        _ => 3,
    }
}

impl syncsim::Client for ReferenceClient {
    type App = ReferenceApp;

    /// App version N runs local schema version N.
    fn latest_app_version(&self) -> u32 {
        reference_client::schema::LATEST_VERSION
    }

    /// Counters, sets, every sync step and migrations reported, user-prompted conflicts and
    /// edits a delete overtook shown, another user's login on the same app.
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::all()
    }

    /// Each user logged in on the device has a replica of their own, under `users/<name>` of
    /// the data directory; the app shows the one of the user logged in and keeps pushing the
    /// others' queues with their tokens.
    async fn open(&self, env: DeviceEnv) -> Result<ReferenceApp, BoxError> {
        if self.bug == Some(reference_client::Bug::StoreSharedAcrossUsers) {
            let client = Replica::start(self.config(&env, &env.data_dir, &env.token)).await?;
            let protocol = protocol_of(env.app_version);
            return Ok(ReferenceApp { client, others: Vec::new(), env, protocol });
        }
        let store_of = |user: &str| env.data_dir.join("users").join(user);
        let mut accounts = accounts(&env.data_dir, &env.user, &env.token)?;
        if self.bug == Some(reference_client::Bug::LogoutWipesTheStore) {
            for (user, _) in accounts.iter().filter(|(user, _)| *user != env.user) {
                match std::fs::remove_dir_all(store_of(user)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
            accounts.retain(|(user, _)| *user == env.user);
            save_accounts(&env.data_dir, &accounts)?;
        }
        let client = Replica::start(self.config(&env, &store_of(&env.user), &env.token)).await?;
        let mut others = Vec::new();
        for (user, token) in accounts.iter().filter(|(user, _)| *user != env.user) {
            let mut config = self.config(&env, &store_of(user), token);
            // Its own mutation keys: the same boot of two users' replicas draws apart.
            config.seed = syncsim::seed::derive(env.seed, user);
            others.push(Replica::start(config).await?);
        }
        let protocol = protocol_of(env.app_version);
        Ok(ReferenceApp { client, others, env, protocol })
    }
}

impl ReferenceClient {
    /// The configuration of a replica on `env`'s device, its store in `dir`, speaking with `token`.
    fn config(&self, env: &DeviceEnv, dir: &Path, token: &str) -> ClientConfig {
        let mut config = ClientConfig::new(dir, &env.host, token, Rc::new(ThroughTheSimulation(env.connector.clone())));
        config.clock = Arc::new(env.clock.clone()) as Arc<dyn Clock>;
        config.seed = env.seed;
        config.timeouts = self.timeouts;
        config.page_size = self.page_size;
        config.batch_size = self.batch_size;
        config.gzip = self.gzip;
        config.hook = Some(Rc::new(StepHook(env.steps.clone())));
        config.bug = self.bug;
        config.schema_version = env.app_version;
        config.protocol_version = protocol_of(env.app_version);
        config
    }
}

impl syncsim::App for ReferenceApp {
    async fn perform(&self, operation: &Operation) -> Result<(), BoxError> {
        match operation {
            Operation::Create { entity, id, changes } => self.client.create_with_id(*entity, id, changes.clone())?,
            Operation::Update { entity, id, changes } => self.client.update(*entity, id, changes.clone())?,
            Operation::Delete { entity, id } => self.client.delete(*entity, id)?,
        }
        Ok(())
    }

    /// A round of the user logged in, then one of each earlier user with writes still
    /// queued: theirs reach the server as theirs, with their tokens. Those are the app's
    /// background work: one that fails is retried at the next round, and fails nothing.
    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let metered = self.env.conditions.get().metered;
        let limit = metered.then_some(METERED_UPLOAD);
        self.client.set_upload_limit(limit);
        let mut total = outcome(&self.client.sync().await?);
        for other in &self.others {
            if other.status()?.pending == 0 {
                continue;
            }
            other.set_upload_limit(limit);
            // The replica logs why a round failed; its queue waits for the next one.
            let Ok(report) = other.sync().await else { continue };
            let round = outcome(&report);
            total.pulled += round.pulled;
            total.pushed += round.pushed;
            total.accepted += round.accepted;
            total.conflicts += round.conflicts;
            total.rejected += round.rejected;
            total.bytes_sent += round.bytes_sent;
            total.bytes_received += round.bytes_received;
        }
        Ok(total)
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        let records = self
            .client
            .visible_state()?
            .into_iter()
            .map(|((entity, id), fields)| (RecordKey::new(entity, id), fields))
            .collect();
        let status = self.client.status()?;
        let failed = self
            .client
            .queue(Some(QueueStatus::Failed))?
            .into_iter()
            .map(|entry| RecordKey::new(entry.entity, entry.record_id))
            .collect();
        let conflicts = self.client.conflicts()?.into_iter().map(|c| RecordKey::new(c.entity, c.record_id)).collect();
        // What waits on the device: the earlier users' writes too.
        let mut pending = status.pending;
        for other in &self.others {
            pending += other.status()?.pending;
        }
        Ok(DeviceState { protocol: self.protocol, records, pending, failed, conflicts })
    }
}

fn outcome(report: &SyncReport) -> SyncOutcome {
    SyncOutcome {
        pulled: report.pulled as u64,
        pushed: report.pushed as u64,
        accepted: report.tally.accepted as u64,
        conflicts: report.tally.conflicts as u64,
        rejected: report.tally.rejected as u64,
        bytes_sent: report.bytes_sent,
        bytes_received: report.bytes_received,
    }
}

/// The harness's paced connections as the reference client's connector.
struct ThroughTheSimulation(syncsim::net::DeviceConnector);

impl Connector for ThroughTheSimulation {
    fn connect(&self) -> Pin<Box<dyn Future<Output = std::io::Result<BoxStream>> + '_>> {
        Box::pin(async move { Ok(Box::new(self.0.connect().await?) as BoxStream) })
    }
}

/// Reports the reference client's sync steps to the harness.
struct StepHook(syncsim::env::Steps);

impl SyncHook for StepHook {
    fn reached(&self, step: &SyncStep) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        let step = match step {
            SyncStep::PullStarting { .. } => Step::PullStarting,
            SyncStep::PullPageReceived { .. } => Step::PullPageReceived,
            SyncStep::PullPageApplied { .. } => Step::PullPageApplied,
            SyncStep::PushStarting { .. } => Step::PushStarting,
            SyncStep::PushResponseReceived { .. } => Step::PushResponseReceived,
            SyncStep::PushAcknowledged { .. } => Step::PushAcknowledged,
            SyncStep::Migrating { .. } => Step::Migrating,
        };
        Box::pin(self.0.reached(step))
    }
}
