//! How a client is opened: its configuration and defaults.

use crate::hook::SyncHook;
use crate::transport::{Connector, Timeouts};
use protocol::{Clock, SystemClock};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

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
    /// A transport to the server as this configuration says, with no connection open yet.
    pub(crate) fn transport(&self) -> crate::transport::Transport {
        crate::transport::Transport::new(
            self.connector.clone(),
            self.token.clone(),
            self.protocol_version,
            self.timeouts,
            self.gzip,
        )
    }

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
