//! The reference client as a [`syncsim::Client`].

use protocol::Clock;
use reference_client::{
    BoxStream, ClientConfig, Connector, QueueStatus, Replica, SyncHook, SyncReport, SyncStep, Timeouts,
};
use std::future::Future;
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

/// The reference app open on one device.
pub struct ReferenceApp {
    client: Replica,
    env: DeviceEnv,
    protocol: u32,
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

    /// Counters, sets, every sync step and migrations reported, user-prompted conflicts shown.
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::all()
    }

    async fn open(&self, env: DeviceEnv) -> Result<ReferenceApp, BoxError> {
        let mut config = ClientConfig::new(
            env.data_dir.clone(),
            &env.host,
            &env.token,
            Rc::new(ThroughTheSimulation(env.connector.clone())),
        );
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
        let protocol = config.protocol_version;
        let client = Replica::start(config).await?;
        Ok(ReferenceApp { client, env, protocol })
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

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let metered = self.env.conditions.get().metered;
        self.client.set_upload_limit(metered.then_some(METERED_UPLOAD));
        Ok(outcome(&self.client.sync().await?))
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
        Ok(DeviceState { protocol: self.protocol, records, pending: status.pending, failed, conflicts })
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
