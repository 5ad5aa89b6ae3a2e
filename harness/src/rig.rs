//! Timing rigs: the server and one or two devices on a named profile, with no faults, for
//! measuring sync work in virtual time (the benchmarks in `benches/`).
//!
//! A rig is a run without a scenario: the same hosts, links and pacing as a certification
//! run, but the devices do one scripted piece of work ([`SyncWork`]) and report what it
//! cost ([`Timing`]): virtual time, rounds, requests and bytes each way. Nothing is
//! checked; a sync error is a broken rig and panics.

use crate::clock::{DeviceClock, Skips};
use crate::device::DeviceShared;
use crate::implementation::{App, Client, Server};
use crate::net::{Paths, Profile};
use crate::operation::Operation;
use crate::policy::SyncPolicy;
use crate::seed::derive;
use crate::shared::Run;
use crate::sim::user;
use crate::sim::world::{DeviceSetup, Setup, World};
use crate::workload::{due_date, uuid, Workload};
use protocol::{Changes, Entity};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Notify;

/// Tasks per project in the records a rig writes.
const TASKS_PER_PROJECT: usize = 50;

/// The longest a rig may take, in virtual time, before it is declared stuck.
const LIMIT: Duration = Duration::from_secs(6 * 3_600);

/// One piece of sync work to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncWork {
    /// Another device (on wifi) has written this many records; the timed device, which
    /// has none of them, syncs until it has them all. With 10,000 it is an initial sync.
    Pull(usize),
    /// The timed device has written this many records offline; it syncs until its queue
    /// is empty (with 1,000, draining an offline queue).
    Push(usize),
}

impl fmt::Display for SyncWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncWork::Pull(n) => write!(f, "pull of {n} records"),
            SyncWork::Push(n) => write!(f, "push of {n} mutations"),
        }
    }
}

/// What one piece of sync work cost the timed device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// Virtual time from the start of its first round to the end of its last round that
    /// did the work (pulled, for a pull; pushed, for a push). The idle round that proves
    /// it done is not counted, nor the rounds after a push that pull its records back.
    pub elapsed: Duration,
    /// Sync rounds that did the work.
    pub rounds: u64,
    /// HTTP requests it sent in them.
    pub requests: u64,
    /// Records pulled.
    pub pulled: u64,
    /// Mutations pushed.
    pub pushed: u64,
    /// Bytes on the wire, device to server.
    pub bytes_up: u64,
    /// Bytes on the wire, server to device.
    pub bytes_down: u64,
}

impl Timing {
    /// The least time the wire allows for this traffic on `profile`: one round trip per
    /// request, and every byte at the profile's rate each way. Connection set-up, waits
    /// between requests and everything else the implementation does are its own overhead.
    pub fn wire_limit(&self, profile: &Profile) -> Duration {
        let round_trip = profile.up.latency + profile.down.latency;
        round_trip * self.requests as u32
            + profile.up.serialization(self.bytes_up as usize)
            + profile.down.serialization(self.bytes_down as usize)
    }
}

/// A rig: where and how the work runs.
#[derive(Clone, Copy, Debug)]
pub struct Rig {
    /// The timed device's profile.
    pub profile: Profile,
    /// The run's seed (link loss, the server's randomness, record ids).
    pub seed: u64,
}

impl Rig {
    /// A rig on `profile` with `seed`.
    pub fn new(profile: Profile, seed: u64) -> Self {
        Self { profile, seed }
    }

    /// Runs `work` once with `client` and `server`, and returns what it cost the timed
    /// device. Panics when a sync round fails: a rig has no faults, so that is a bug.
    pub fn time<C: Client, S: Server>(&self, client: &C, server: &S, work: SyncWork) -> Timing {
        let latest = client.latest_app_version();
        let (writer, timed) = match work {
            SyncWork::Pull(_) => (Some(0), 1),
            SyncWork::Push(_) => (None, 0),
        };
        let name = format!("rig: {work} on {}", self.profile.name);
        let device = |i: usize| DeviceSetup {
            user: user(0),
            profile: if Some(i) == writer { Profile::WIFI } else { self.profile },
            clock: DeviceClock::default(),
            app_version: latest,
        };
        let setup = Setup {
            name: name.clone(),
            seed: self.seed,
            devices: (0..=timed).map(device).collect(),
            users: vec![user(0)],
            strategies: server.capabilities().strategies,
            tombstone_horizon: None,
            overtaken_writes: false,
            paths: Paths::default(),
            sync: SyncPolicy::default(),
            workload: Workload::idle(),
            tick: Duration::from_millis(1),
            length: LIMIT,
        };
        let _skips = Skips::enter();
        let World { dir: _dir, run, devices, mut sim, .. } = World::new(setup, server);
        // The writer's records are on the server: the timed device may start. With no
        // writer it starts at once (a stored permit).
        let written = Rc::new(Notify::new());
        if writer.is_none() {
            written.notify_one();
        }
        let timing: Rc<Cell<Option<Timing>>> = Rc::default();
        let records = match work {
            SyncWork::Pull(n) | SyncWork::Push(n) => creates(derive(self.seed, "records"), n),
        };
        let records = Rc::new(RefCell::new(Some(records)));
        if let Some(w) = writer {
            let (client, device, records, written) =
                (client.clone(), devices[w].clone(), records.clone(), written.clone());
            sim.host(device.host.clone(), move || {
                let (client, device, records, written) =
                    (client.clone(), device.clone(), records.clone(), written.clone());
                async move {
                    let app = open(&client, &device).await;
                    let records = records.borrow_mut().take().unwrap_or_default();
                    perform(&app, records).await;
                    while !sync(&app).await.idle() {}
                    written.notify_one();
                    Ok(())
                }
            });
        }
        let (client, device, run_, timing_) = (client.clone(), devices[timed].clone(), run.clone(), timing.clone());
        sim.host(device.host.clone(), move || {
            let (client, device, run, timing, written) =
                (client.clone(), device.clone(), run_.clone(), timing_.clone(), written.clone());
            let own = if writer.is_none() { records.borrow_mut().take() } else { None };
            async move {
                let app = open(&client, &device).await;
                perform(&app, own.unwrap_or_default()).await;
                written.notified().await;
                timing.set(Some(time_until_idle(&app, &run, &device.host, work).await));
                Ok(())
            }
        });
        while timing.get().is_none() {
            sim.step().unwrap_or_else(|e| panic!("{name}: the simulation failed: {e}"));
        }
        timing.get().expect("the loop ends once the timed device reports")
    }
}

/// Syncs until a round moves nothing, timing the rounds that did `work`: those that pulled
/// for a pull, those that pushed for a push. The rounds after a push pull the pushed records
/// back (their new versions are changes like any other); they are not the push's time.
async fn time_until_idle<A: App>(app: &A, run: &Run, host: &str, work: SyncWork) -> Timing {
    let start = tokio::time::Instant::now(); // tokio time: virtual in the simulation
    let mut timing = Timing::default();
    loop {
        let requests = run.requests(host);
        let outcome = sync(app).await;
        if outcome.idle() {
            return timing;
        }
        let did_work = match work {
            SyncWork::Pull(_) => outcome.pulled > 0,
            SyncWork::Push(_) => outcome.pushed > 0,
        };
        if !did_work {
            continue;
        }
        timing.elapsed = start.elapsed();
        timing.rounds += 1;
        timing.requests += (run.requests(host) - requests) as u64;
        timing.pulled += outcome.pulled;
        timing.pushed += outcome.pushed;
        timing.bytes_up += outcome.bytes_sent;
        timing.bytes_down += outcome.bytes_received;
    }
}

async fn open<C: Client>(client: &C, device: &Rc<DeviceShared>) -> C::App {
    device.boots.set(device.boots.get() + 1);
    client.open(device.env()).await.unwrap_or_else(|e| panic!("{}: the app does not open: {e}", device.host))
}

async fn perform<A: App>(app: &A, operations: Vec<Operation>) {
    for operation in &operations {
        app.perform(operation).await.unwrap_or_else(|e| panic!("a rig's write was refused: {operation:?}: {e}"));
    }
}

async fn sync<A: App>(app: &A) -> crate::state::SyncOutcome {
    app.sync().await.unwrap_or_else(|e| panic!("a sync round failed in a rig, which has no faults: {e}"))
}

/// `n` creates shaped like a user's, their ids drawn from `seed`: a project, then 50 tasks
/// in it, and again; each task has a title, notes, a due date, a pomodoro count and a label.
pub fn creates(seed: u64, n: usize) -> Vec<Operation> {
    let rng = &mut SmallRng::seed_from_u64(seed);
    let mut project = String::new();
    (0..n)
        .map(|i| {
            if i % (TASKS_PER_PROJECT + 1) == 0 {
                project = uuid(rng);
                let changes = Changes::new()
                    .set("name", format!("Project {i}"))
                    .set("description", format!("Everything for project {i}, from the first draft to the launch."))
                    .add("tags", "work");
                return Operation::Create { entity: Entity::Project, id: project.clone(), changes };
            }
            let changes = Changes::new()
                .set("project_id", project.as_str())
                .set("title", format!("Task {i}: write the quarterly report"))
                .set("notes", format!("Notes for task {i}: gather the figures, draft, review with the team, send."))
                .set("due_on", due_date(i as u64))
                .increment("pomodoros", (i % 4) as i64 + 1)
                .add("labels", if i % 2 == 0 { "urgent" } else { "later" });
            Operation::Create { entity: Entity::Task, id: uuid(rng), changes }
        })
        .collect()
}
