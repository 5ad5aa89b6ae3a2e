//! A device host: the app opened on the device's data directory, the user acting on it and
//! the OS syncing it, all recorded on the timeline.
//!
//! The harness owns a [`DeviceShared`] per device; it survives kills, and the host's
//! software (the app, its database handles, its tasks) is rebuilt from it at each restart.

use crate::clock::DeviceClock;
use crate::env::{Condition, DeviceEnv, LiveConditions, Steps};
use crate::history::EventKind;
use crate::implementation::{App, BoxError, Client};
use crate::net::{DeviceConnector, Link};
use crate::operation::Operation;
use crate::shared::{Phase, Run};
use crate::state::{DeviceState, SyncOutcome};
use crate::step::Step;
use crate::workload;
use rand::rngs::SmallRng;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Notify;

/// What the harness keeps of one device across kills.
pub(crate) struct DeviceShared {
    pub(crate) index: usize,
    pub(crate) host: String,
    /// The user logged in: a user switch changes it between boots.
    user: RefCell<String>,
    pub(crate) data_dir: PathBuf,
    pub(crate) clock: DeviceClock,
    pub(crate) link: Rc<Link>,
    pub(crate) conditions: LiveConditions,
    /// The app version installed: upgrades change it between boots.
    pub(crate) app_version: Cell<u32>,
    /// Set by an upgrade until the upgraded app has opened and reported its state.
    pub(crate) upgrading: Cell<bool>,
    /// Reads the open app's state, for the driver (an upgrade compares before and after).
    /// It holds the app weakly: a kill still drops every database handle.
    pub(crate) probe: RefCell<Option<Probe>>,
    pub(crate) seed: u64,
    /// The user's RNG: which operations, on which records.
    pub(crate) rng: RefCell<SmallRng>,
    /// How many of the user's operations are done or skipped.
    pub(crate) next_op: Cell<u32>,
    pub(crate) boots: Cell<u64>,
    pub(crate) rounds: Cell<u64>,
    /// The round under way and the last step it reached.
    pub(crate) round: Cell<Option<u64>>,
    pub(crate) step: Cell<Option<Step>>,
    /// The operation under way.
    pub(crate) open_op: Cell<Option<u64>>,
    /// A kill armed at a step, with the downtime after it.
    pub(crate) kill_at: Cell<Option<(Step, Duration)>>,
    /// Set when the device reached the armed step: the driver kills it after this step.
    pub(crate) kill_requested: Cell<Option<(Step, Duration)>>,
    /// Crashed by the schedule: stays down until the schedule bounces it.
    pub(crate) down_by_schedule: Cell<bool>,
    /// Set by [`crate::Fault::SecondRound`]: a second round starts this long into the next.
    pub(crate) second_round: Cell<Option<Duration>>,
    /// Background sync budget, when the app is in the background.
    pub(crate) budget: Cell<Option<Duration>>,
    /// Final phase: start of the last idle round.
    pub(crate) idle_since: Cell<Option<Duration>>,
    pub(crate) snapshot_taken: Cell<bool>,
}

/// Reads the state of the app open on a device, if it is still open.
pub(crate) type Probe = Box<dyn Fn() -> Option<Result<DeviceState, BoxError>>>;

impl DeviceShared {
    /// Device `index` of a run seeded with `seed`, its data under `dir`, before its first boot.
    pub(crate) fn new(
        index: usize,
        info: &crate::history::DeviceInfo,
        dir: &std::path::Path,
        clock: DeviceClock,
        link: Link,
        app_version: u32,
        seed: u64,
    ) -> Self {
        use crate::seed::derive;
        use rand::SeedableRng;
        DeviceShared {
            index,
            host: info.host.clone(),
            user: RefCell::new(info.user.clone()),
            data_dir: dir.join(&info.host),
            clock,
            link: Rc::new(link),
            conditions: LiveConditions::default(),
            app_version: Cell::new(app_version),
            upgrading: Cell::new(false),
            probe: RefCell::new(None),
            seed: derive(seed, &info.host),
            rng: RefCell::new(SmallRng::seed_from_u64(derive(seed, &format!("user {index}")))),
            next_op: Cell::new(0),
            boots: Cell::new(0),
            rounds: Cell::new(0),
            round: Cell::new(None),
            step: Cell::new(None),
            open_op: Cell::new(None),
            kill_at: Cell::new(None),
            kill_requested: Cell::new(None),
            down_by_schedule: Cell::new(false),
            second_round: Cell::new(None),
            budget: Cell::new(None),
            idle_since: Cell::new(None),
            snapshot_taken: Cell::new(false),
        }
    }

    /// The user logged in on the device.
    pub(crate) fn user(&self) -> String {
        self.user.borrow().clone()
    }

    /// Logs `user` in instead (the app opens as that user at its next boot); returns the
    /// user logged out.
    pub(crate) fn switch_user(&self, user: String) -> String {
        self.user.replace(user)
    }

    /// The bearer token of `user` on this device.
    pub(crate) fn token_of(&self, user: &str) -> String {
        format!("{user}-{}", self.host)
    }

    /// The bearer token of the user logged in.
    pub(crate) fn token(&self) -> String {
        self.token_of(&self.user.borrow())
    }

    /// What the open app holds now: `None` when no app is open (or it could not say).
    pub(crate) fn probe(&self) -> Option<DeviceState> {
        self.probe.borrow().as_ref().and_then(|probe| probe()).and_then(Result::ok)
    }

    /// Notes `step`; says whether the app must stop here (a kill is armed for it).
    pub(crate) fn reach(&self, step: Step) -> bool {
        self.step.set(Some(step));
        match self.kill_at.get() {
            Some((armed, downtime)) if armed == step => {
                self.kill_at.set(None);
                self.kill_requested.set(Some((step, downtime)));
                true
            }
            _ => false,
        }
    }

    pub(crate) fn env(self: &Rc<Self>) -> DeviceEnv {
        let boot = self.boots.get();
        DeviceEnv {
            host: self.host.clone(),
            index: self.index,
            user: self.user(),
            token: self.token(),
            data_dir: self.data_dir.clone(),
            clock: self.clock.clone(),
            seed: crate::seed::derive(self.seed, &format!("boot {boot}")),
            boot,
            app_version: self.app_version.get(),
            connector: DeviceConnector::new(self.link.clone()),
            conditions: self.conditions.clone(),
            steps: {
                let shared = self.clone();
                Steps::new(move |step| shared.reach(step))
            },
        }
    }

    pub(crate) fn reset_condition(&self) {
        self.conditions.set(Condition::default());
        self.budget.set(None);
    }
}

/// An open app as the device's software uses it: an in-process [`App`], or, live, a
/// driver process, whose state is one more request.
pub(crate) trait Handle: 'static {
    fn perform(&self, operation: &Operation) -> impl Future<Output = Result<(), NotDone>>;
    fn sync(&self) -> impl Future<Output = Result<SyncOutcome, BoxError>>;
    fn state(&self) -> impl Future<Output = Result<DeviceState, BoxError>>;
}

/// Why an operation was not confirmed to the user.
pub(crate) enum NotDone {
    /// It did not happen.
    Failed(String),
    /// Whether it happened is unknown (a live driver could not tell).
    Unknown(String),
}

impl<A: App> Handle for A {
    async fn perform(&self, operation: &Operation) -> Result<(), NotDone> {
        App::perform(self, operation).await.map_err(|e| NotDone::Failed(e.to_string()))
    }

    fn sync(&self) -> impl Future<Output = Result<SyncOutcome, BoxError>> {
        App::sync(self)
    }

    async fn state(&self) -> Result<DeviceState, BoxError> {
        App::state(self)
    }
}

/// The software of a device host: runs until the host is killed.
pub(crate) async fn main<C: Client>(client: C, device: Rc<DeviceShared>, run: Rc<Run>) {
    boot(&device);
    let app = match client.open(device.env()).await {
        Ok(app) => Rc::new(app),
        Err(e) => {
            run.record(&device.host, EventKind::OpenFailed { error: e.to_string() });
            return std::future::pending().await;
        }
    };
    let weak = Rc::downgrade(&app);
    *device.probe.borrow_mut() = Some(Box::new(move || weak.upgrade().map(|app| App::state(&*app))));
    opened(app, device, run, None).await
}

/// Counts a boot of the device, before its app opens.
pub(crate) fn boot(device: &DeviceShared) {
    device.boots.set(device.boots.get() + 1);
    device.round.set(None);
    device.step.set(None);
}

/// The device's software once its app is open: the user and the OS's syncs during the
/// faults, rounds until idle in the final phase. The user runs as a task of its own, whose
/// handle goes to `tasks` when given (live mode aborts it at a kill; turmoil drops a
/// crashed host's tasks by itself).
pub(crate) async fn opened<H: Handle>(
    app: Rc<H>,
    device: Rc<DeviceShared>,
    run: Rc<Run>,
    tasks: Option<&RefCell<Vec<tokio::task::AbortHandle>>>,
) {
    if device.upgrading.replace(false) {
        let version = device.app_version.get();
        let kind = match app.state().await {
            Ok(state) => EventKind::Upgraded { version, state },
            Err(e) => EventKind::OpenFailed { error: format!("the upgraded app could not report its state: {e}") },
        };
        run.record(&device.host, kind);
    }
    if device.boots.get() > 1 {
        // What the user sees as the app comes back, before any round: a client that shows
        // the server's copies until its queue is re-applied is caught here, not after a round.
        read(&*app, &device, &run).await;
    }
    match run.phase.get() {
        Phase::Faults => {
            let wrote = Rc::new(Notify::new());
            let user = tokio::task::spawn_local(user(app.clone(), device.clone(), run.clone(), wrote.clone()));
            if let Some(tasks) = tasks {
                tasks.borrow_mut().push(user.abort_handle());
            }
            background_sync(app, device, run, wrote).await
        }
        Phase::Final | Phase::Snapshot => final_sync(app, device, run).await,
    }
}

/// The user: operations at the workload's times, over what the device shows.
async fn user<H: Handle>(app: Rc<H>, device: Rc<DeviceShared>, run: Rc<Run>, wrote: Rc<Notify>) {
    let workload = &run.workload;
    if device.index == 0 && device.boots.get() == 1 {
        let setup = workload.setup(&mut device.rng.borrow_mut(), &mut || run.next_op());
        for (n, operation) in setup {
            perform_numbered(&*app, &device, &run, n, operation, crate::operation::Fields::new()).await;
        }
        wrote.notify_one();
    }
    loop {
        let k = device.next_op.get();
        if k >= workload.ops {
            return;
        }
        let due = workload.due(k);
        let now = run.now();
        if due < now {
            device.next_op.set(k + 1);
            continue;
        }
        // The sleep is in stepped time and `due` on the timeline: a skip brings `due`
        // closer without shortening the sleep, so it wakes the user to measure again.
        tokio::select! {
            biased;
            () = tokio::time::sleep(due - now) => {}
            () = run.skipped.notified() => continue,
        }
        device.next_op.set(k + 1);
        let shown = match app.state().await {
            Ok(shown) => shown,
            Err(e) => {
                run.record(&device.host, EventKind::Note { text: format!("the app could not show its state: {e}") });
                continue;
            }
        };
        let n = run.next_op();
        let operation = workload.next(&mut device.rng.borrow_mut(), &shown, n);
        let observed = workload::observed(&shown, &operation);
        perform_numbered(&*app, &device, &run, n, operation, observed).await;
        wrote.notify_one();
    }
}

async fn perform_numbered<H: Handle>(
    app: &H,
    device: &DeviceShared,
    run: &Run,
    op: u64,
    operation: crate::operation::Operation,
    observed: crate::operation::Fields,
) {
    let invoke = EventKind::Invoke { op, user: device.user(), operation: operation.clone(), observed };
    run.record(&device.host, invoke);
    device.open_op.set(Some(op));
    let outcome = app.perform(&operation).await;
    device.open_op.set(None);
    let kind = match outcome {
        Ok(()) => EventKind::Ok { op },
        Err(NotDone::Failed(error)) => EventKind::Fail { op, error },
        Err(NotDone::Unknown(reason)) => EventKind::Info { op, reason },
    };
    run.record(&device.host, kind);
}

/// The OS's sync schedule during the faults: every period, and shortly after a write.
async fn background_sync<H: Handle>(app: Rc<H>, device: Rc<DeviceShared>, run: Rc<Run>, wrote: Rc<Notify>) {
    let policy = run.sync;
    loop {
        tokio::select! {
            biased;
            () = wrote.notified() => tokio::time::sleep(policy.debounce).await,
            () = tokio::time::sleep(policy.period) => {}
        }
        let condition = device.conditions.get();
        if condition.battery_low && !condition.foreground {
            continue;
        }
        round(&*app, &device, &run).await;
    }
}

/// The final phase: rounds back to back until the harness takes the snapshot.
async fn final_sync<H: Handle>(app: Rc<H>, device: Rc<DeviceShared>, run: Rc<Run>) {
    loop {
        if run.phase.get() == Phase::Snapshot {
            let kind = match app.state().await {
                Ok(state) => EventKind::Snapshot { user: device.user(), state },
                Err(e) => EventKind::OpenFailed { error: format!("the app could not report its state: {e}") },
            };
            run.record(&device.host, kind);
            device.snapshot_taken.set(true);
            return std::future::pending().await;
        }
        let started = run.now();
        match round(&*app, &device, &run).await {
            Some(outcome) if outcome.idle() => device.idle_since.set(Some(started)),
            Some(_) => {
                device.idle_since.set(None);
                run.last_change.set(run.now());
            }
            None => device.idle_since.set(None),
        }
        tokio::time::sleep(run.sync.final_pause).await;
    }
}

/// One recorded sync round (two at once, when a second round is due: the first's outcome
/// is this one's), cut at the background budget; then a read of what it shows.
async fn round<H: Handle>(app: &H, device: &DeviceShared, run: &Run) -> Option<SyncOutcome> {
    let outcome = match device.second_round.take() {
        Some(after) => {
            let second = async {
                tokio::time::sleep(after).await;
                recorded_round(app, device, run).await
            };
            tokio::join!(recorded_round(app, device, run), second).0
        }
        None => recorded_round(app, device, run).await,
    };
    read(app, device, run).await;
    outcome
}

/// One sync round, recorded from its start to its outcome.
async fn recorded_round<H: Handle>(app: &H, device: &DeviceShared, run: &Run) -> Option<SyncOutcome> {
    let round = device.rounds.get() + 1;
    device.rounds.set(round);
    device.round.set(Some(round));
    device.step.set(None);
    run.record(&device.host, EventKind::SyncStart { round });
    let result: Result<Result<SyncOutcome, BoxError>, _> = match device.budget.get() {
        Some(budget) => tokio::time::timeout(budget, app.sync()).await,
        None => Ok(app.sync().await),
    };
    device.round.set(None);
    device.step.set(None);
    match result {
        Ok(Ok(outcome)) => {
            run.record(&device.host, EventKind::SyncOk { round, outcome: outcome.clone() });
            Some(outcome)
        }
        Ok(Err(e)) => {
            run.record(&device.host, EventKind::SyncFail { round, error: e.to_string() });
            None
        }
        Err(_) => {
            run.record(&device.host, EventKind::SyncCut { round, reason: "background budget".into() });
            None
        }
    }
}

/// Records what the device shows now, when the app can say.
async fn read<H: Handle>(app: &H, device: &DeviceShared, run: &Run) {
    if let Ok(state) = app.state().await {
        let (user, protocol, pending) = (device.user(), state.protocol, Some(state.pending));
        let (records, failed, conflicts) = (state.records, state.failed, state.conflicts);
        run.record(&device.host, EventKind::Read { user, protocol, records, pending, failed, conflicts });
    }
}
