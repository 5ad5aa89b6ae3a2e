//! What the harness gives an implementation: a device's environment and the server's.

use crate::clock::{DeviceClock, ServerClock};
use crate::net::DeviceConnector;
use crate::step::Step;
use protocol::Strategies;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A device's situation as the OS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The app is on screen. In the background, each sync round has a budget.
    pub foreground: bool,
    /// The battery is low: a well-behaved app syncs less.
    pub battery_low: bool,
    /// The network is metered: a well-behaved app uploads less.
    pub metered: bool,
}

impl Default for Condition {
    fn default() -> Self {
        Self { foreground: true, battery_low: false, metered: false }
    }
}

/// The live [`Condition`] of a device; the harness changes it as the scenario says.
#[derive(Clone, Debug, Default)]
pub struct LiveConditions(Rc<Cell<Condition>>);

impl LiveConditions {
    /// The device's condition now.
    pub fn get(&self) -> Condition {
        self.0.get()
    }

    pub(crate) fn set(&self, condition: Condition) {
        self.0.set(condition);
    }
}

/// Notes a step reached; its future says whether the app must stop there.
type Reach = dyn Fn(Step) -> Pin<Box<dyn Future<Output = bool>>>;

/// Where an app reports the sync steps it reaches (see [`Step`]).
#[derive(Clone)]
pub struct Steps(Rc<Reach>);

impl Steps {
    /// Steps reported to `reach`, which notes each and says whether the app must stop there.
    pub(crate) fn new(reach: impl Fn(Step) -> bool + 'static) -> Self {
        Steps(Rc::new(move |step| Box::pin(std::future::ready(reach(step)))))
    }

    /// Steps reported to `reach`, which answers when the app may go on (live mode: the
    /// harness answers a driver's `step` over the driver protocol, or kills it there).
    pub(crate) fn remote<F: Future<Output = bool> + 'static>(reach: impl Fn(Step) -> F + 'static) -> Self {
        Steps(Rc::new(move |step| Box::pin(reach(step))))
    }

    /// Reports reaching `step`. When the scenario kills the app at this step, the future
    /// never completes and the harness kills the app before it goes on.
    pub async fn reached(&self, step: Step) {
        if (self.0)(step).await {
            std::future::pending::<()>().await;
        }
    }
}

/// Where a server reports the points of its handling it reaches ([`Step::PushCommitted`],
/// [`Step::PullRead`]), so that a scenario can crash or stall it exactly there. Default:
/// reports go nowhere (live mode, where the server is its own process).
#[derive(Clone, Default)]
pub struct ServerSteps(Option<Arc<ServerArm>>);

impl ServerSteps {
    pub(crate) fn new(arm: Arc<ServerArm>) -> Self {
        ServerSteps(Some(arm))
    }

    /// Reports reaching `step`. When the scenario crashes the server at this step, the
    /// future never completes and the harness crashes the server before it goes on; when
    /// it stalls the server there, the future completes after the stall, the server's
    /// other requests going on meanwhile; else it completes at once, without yielding.
    pub async fn reached(&self, step: Step) {
        match self.0.as_ref().and_then(|arm| arm.reach(step)) {
            Some(AtStep::Crash(_)) => std::future::pending::<()>().await,
            Some(AtStep::Stall(stall)) => tokio::time::sleep(stall).await,
            None => {}
        }
    }
}

impl std::fmt::Debug for ServerSteps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ServerSteps(reported)" } else { "ServerSteps(unreported)" })
    }
}

/// Validation rules a scenario changes while the server runs ([`crate::Fault::RefuseField`]):
/// the fields the server no longer accepts. Shared by the driver and the server's handlers
/// (which must be `Send`, hence the lock). Default: every field accepted.
#[derive(Clone, Default)]
pub struct ServerRules(Arc<Mutex<BTreeSet<String>>>);

impl ServerRules {
    /// Why a write of `fields` must be refused, if a rule refuses one of them: the first
    /// field the server no longer accepts, in words for the 4xx that refuses the write.
    pub fn refused<'f>(&self, fields: impl IntoIterator<Item = &'f str>) -> Option<String> {
        let refused = self.0.lock().expect("the rules' lock is never poisoned");
        let field = fields.into_iter().find(|field| refused.contains(*field))?;
        Some(format!("the field {field:?} is no longer accepted"))
    }

    /// From now on, `field` is refused.
    pub(crate) fn refuse(&self, field: &str) {
        self.0.lock().expect("the rules' lock is never poisoned").insert(field.to_owned());
    }
}

impl std::fmt::Debug for ServerRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let refused = self.0.lock().expect("the rules' lock is never poisoned");
        f.debug_struct("ServerRules").field("refused", &*refused).finish()
    }
}

/// What the server does when it reaches an armed step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtStep {
    /// It crashes, and restarts after this downtime.
    Crash(Duration),
    /// That request's handling stops this long; the server's other requests go on.
    Stall(Duration),
}

/// What is armed at the server's steps, and what was reached: shared by the driver and the
/// server's handlers (which must be `Send`, hence the locks).
#[derive(Debug, Default)]
pub(crate) struct ServerArm {
    armed: Mutex<Vec<(Step, AtStep)>>,
    reached: Mutex<Vec<(Step, AtStep)>>,
}

impl ServerArm {
    /// Arms `at` at `step`, in place of what was armed there.
    pub(crate) fn arm(&self, step: Step, at: AtStep) {
        let mut armed = self.armed.lock().expect("the arm's lock is never poisoned");
        armed.retain(|(armed_at, _)| *armed_at != step);
        armed.push((step, at));
    }

    /// Disarms every step.
    pub(crate) fn disarm(&self) {
        self.armed.lock().expect("the arm's lock is never poisoned").clear();
    }

    /// Notes `step` reached; says what the server must do here, if anything (once).
    fn reach(&self, step: Step) -> Option<AtStep> {
        let mut armed = self.armed.lock().expect("the arm's lock is never poisoned");
        let i = armed.iter().position(|(at, _)| *at == step)?;
        let (_, at) = armed.remove(i);
        self.reached.lock().expect("the arm's lock is never poisoned").push((step, at));
        Some(at)
    }

    /// The armed steps reached since the last call, in the order they were reached.
    pub(crate) fn take_reached(&self) -> Vec<(Step, AtStep)> {
        std::mem::take(&mut *self.reached.lock().expect("the arm's lock is never poisoned"))
    }
}

/// Everything a device app gets from the harness. The same values come back at every
/// restart of the device, except `boot` and `seed`.
#[derive(Clone)]
pub struct DeviceEnv {
    /// The device's host name (`device0`, ...): use it as the replica or node id.
    pub host: String,
    /// The device's index in the scenario.
    pub index: usize,
    /// The device's user.
    pub user: String,
    /// The bearer token of this device.
    pub token: String,
    /// A directory that survives kills and restarts: put the local database here.
    pub data_dir: PathBuf,
    /// The device's wall clock (offset, drift and jumps are the scenario's).
    pub clock: DeviceClock,
    /// A seed for the app's randomness, different per device and per boot.
    pub seed: u64,
    /// How many times the app has started on this device, this one included.
    pub boot: u64,
    /// The app version installed (for upgrade scenarios).
    pub app_version: u32,
    /// Opens paced connections to the server.
    pub connector: DeviceConnector,
    /// Foreground, battery and metered flags.
    pub conditions: LiveConditions,
    /// Where to report sync steps.
    pub steps: Steps,
}

/// A user and the bearer token of one of their devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The user.
    pub user: String,
    /// The token.
    pub token: String,
}

/// Everything the server gets from the harness.
#[derive(Clone, Debug)]
pub struct ServerEnv {
    /// A directory that survives server crashes: put the database here.
    pub data_dir: PathBuf,
    /// Every device's credential.
    pub credentials: Vec<Credential>,
    /// The conflict strategy declared for each entity.
    pub strategies: Strategies,
    /// How long tombstones must be kept, if the scenario declares a horizon.
    pub tombstone_horizon: Option<Duration>,
    /// The server's wall clock: the simulation's, or the machine's live.
    pub clock: ServerClock,
    /// A seed for the server's randomness.
    pub seed: u64,
    /// Where to report the points of its handling it reaches (see [`ServerSteps`]).
    pub steps: ServerSteps,
    /// The fields a scenario has made the server refuse (see [`ServerRules`]): a server that
    /// declares [`crate::ServerCapabilities::rules`] refuses every write of one.
    pub rules: ServerRules,
}
