//! The app: its state in one JSON file; a sync round pushes the queue, then pulls.

use crate::apply::{apply, refusal, Records};
use crate::error::{Error, Result};
use crate::file;
use crate::local::Local;
use crate::transport::Transport;
use crate::wire::Mutation;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use syncsim::{BoxError, ClientCapabilities, DeviceEnv, DeviceState, Operation, RecordKey, Step, SyncOutcome};

/// The app's file in its data directory.
const APP_FILE: &str = "app.json";
/// Mutations per push.
const BATCH: usize = 100;
/// Changes per pull page.
const PAGE: usize = 100;

/// Opens the json-store app on a device.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonClient {
    /// A planted bug (see [`crate::fresh_key_per_retry`]): every push gives its writes new
    /// idempotency keys, so a write whose answer was lost applies twice. Default: `false`.
    pub fresh_key_per_retry: bool,
}

/// The json-store app, open on one device.
pub struct JsonApp {
    env: DeviceEnv,
    path: PathBuf,
    local: RefCell<Local>,
    /// What the user sees: always `local.view()`, kept rather than recomputed per read.
    view: RefCell<Records>,
    /// Draws idempotency keys.
    rng: RefCell<SmallRng>,
    transport: Transport,
    fresh_key_per_retry: bool,
}

impl syncsim::Client for JsonClient {
    type App = JsonApp;

    async fn open(&self, env: DeviceEnv) -> Result<JsonApp, BoxError> {
        std::fs::create_dir_all(&env.data_dir)?;
        let path = env.data_dir.join(APP_FILE);
        let local: Local = file::load(&path)?;
        Ok(JsonApp {
            view: RefCell::new(local.view()),
            local: RefCell::new(local),
            rng: RefCell::new(SmallRng::seed_from_u64(env.seed)),
            transport: Transport::new(&env),
            fresh_key_per_retry: self.fresh_key_per_retry,
            path,
            env,
        })
    }

    /// Counters, sets, and every step of a sync round; one app version, no conflicts kept
    /// for the user (the later write wins).
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            counters: true,
            sets: true,
            steps: Step::ALL.to_vec(),
            conflicts: false,
            overtaken_writes: false,
            user_switch: false,
        }
    }
}

impl JsonApp {
    /// Checks a user write against what the app shows, and fills in the tags each set
    /// remove has seen; returns it with the change number of the record it saw.
    fn prepare(&self, operation: &Operation) -> Result<(Operation, u64)> {
        let view = self.view.borrow();
        let key = operation.key();
        let shown = view.get(&key).filter(|record| !record.deleted);
        if shown.is_none() && !matches!(operation, Operation::Create { .. }) {
            return Err(Error::Refused(format!("{key} is not on this device")));
        }
        if let Some(reason) = refusal(&view, operation) {
            return Err(Error::Refused(reason));
        }
        let mut operation = operation.clone();
        if let (Operation::Update { changes, .. }, Some(record)) = (&mut operation, shown) {
            for (field, removals) in &mut changes.set_remove {
                for (element, seen) in removals.iter_mut() {
                    *seen = record.tags(field, element);
                }
            }
        }
        Ok((operation, shown.map_or(0, |record| record.seq)))
    }

    /// A new idempotency key, drawn from the device's seed.
    fn new_key(&self) -> String {
        uuid::Builder::from_random_bytes(self.rng.borrow_mut().gen()).into_uuid().to_string()
    }

    /// Changes the stored state, shows the result and writes the file.
    fn commit(&self, change: impl FnOnce(&mut Local)) -> Result<()> {
        let mut local = self.local.borrow_mut();
        change(&mut local);
        *self.view.borrow_mut() = local.view();
        Ok(file::save(&self.path, &*local)?)
    }

    /// Pushes what was queued when the round began, in batches; returns how many went
    /// and how many of them met a conflict.
    async fn push(&self) -> Result<(u64, u64)> {
        let queued = self.local.borrow().queue.len();
        let (mut pushed, mut conflicts) = (0, 0);
        while pushed < queued {
            if self.fresh_key_per_retry {
                self.commit(|local| local.queue.iter_mut().take(BATCH).for_each(|m| m.key = self.new_key()))?;
            }
            let batch: Vec<Mutation> = self.local.borrow().queue.iter().take(BATCH).cloned().collect();
            pushed += batch.len();
            self.env.steps.reached(Step::PushStarting).await;
            let answer = self.transport.push(batch).await?;
            self.env.steps.reached(Step::PushResponseReceived).await;
            self.commit(|local| conflicts += local.acknowledge(&answer.outcomes))?;
            self.env.steps.reached(Step::PushAcknowledged).await;
        }
        Ok((pushed as u64, conflicts))
    }

    /// Pulls pages until the server has no more; returns how many changes came.
    async fn pull(&self) -> Result<u64> {
        let mut pulled = 0;
        loop {
            self.env.steps.reached(Step::PullStarting).await;
            let since = self.local.borrow().cursor;
            let page = self.transport.pull(since, PAGE).await?;
            self.env.steps.reached(Step::PullPageReceived).await;
            pulled += page.changes.len() as u64;
            let has_more = page.has_more;
            self.commit(|local| local.absorb(page))?;
            self.env.steps.reached(Step::PullPageApplied).await;
            if !has_more {
                return Ok(pulled);
            }
        }
    }
}

impl syncsim::App for JsonApp {
    async fn perform(&self, operation: &Operation) -> Result<(), BoxError> {
        let (operation, base) = self.prepare(operation)?;
        let mutation = Mutation { key: self.new_key(), operation, base };
        let mut local = self.local.borrow_mut();
        local.queue.push(mutation.clone());
        if let Err(e) = file::save(&self.path, &*local) {
            local.queue.pop();
            return Err(e.into());
        }
        apply(&mut self.view.borrow_mut(), &mutation.operation, &mutation.key);
        Ok(())
    }

    /// Pushes before it pulls: a write whose answer was lost is answered again (from the
    /// server's idempotency table) before any pulled record can hold it.
    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let (pushed, conflicts) = self.push().await?;
        let pulled = self.pull().await?;
        Ok(SyncOutcome { pushed, pulled, conflicts, ..SyncOutcome::default() })
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        let live = self
            .view
            .borrow()
            .iter()
            .filter(|(_, record)| !record.deleted)
            .map(|(key, record)| (key.clone(), record.visible()))
            .collect();
        let local = self.local.borrow();
        let failed: BTreeSet<RecordKey> = local.failed.iter().map(|f| f.mutation.operation.key()).collect();
        Ok(DeviceState {
            records: live,
            pending: local.queue.len(),
            failed: failed.into_iter().collect(),
            ..DeviceState::default()
        })
    }
}
