//! The state of one open app, shared by every clone of its client and read by the sync
//! round.

use crate::config::ClientConfig;
use crate::hook::SyncStep;
use crate::status::Status;
use crate::store::Store;
use crate::transport::Transport;
use rand::rngs::SmallRng;
use rand::RngCore;
use std::cell::{Cell, RefCell};
use tokio::sync::Notify;
use tokio::time::Instant;

/// One open app: what every clone of its [`Replica`](crate::Replica) holds.
pub(crate) struct Inner {
    pub(crate) store: RefCell<Store>,
    pub(crate) transport: tokio::sync::Mutex<Transport>,
    pub(crate) config: ClientConfig,
    pub(crate) upload_limit: Cell<Option<usize>>,
    /// The device's seeded RNG: ids, keys, backoff jitter.
    pub(crate) rng: RefCell<SmallRng>,
    pub(crate) wrote: Notify,
    /// What the app shows about sync, less the counts read from the store.
    pub(crate) run: RefCell<Status>,
    /// Rounds the server refused in a row (5xx, 429), and when the next may start.
    pub(crate) backoff: Cell<(u32, Option<Instant>)>,
}

impl Inner {
    /// A fresh UUID from the device's seeded RNG.
    pub(crate) fn new_id(&self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.borrow_mut().fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    /// Shows `step` to the config's hook, if any, and waits until the hook lets the round go on.
    pub(crate) async fn reached(&self, step: SyncStep) {
        if let Some(hook) = &self.config.hook {
            hook.reached(&step).await;
        }
    }
}
