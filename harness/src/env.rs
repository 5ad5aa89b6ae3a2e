//! What the harness gives an implementation: a device's environment and the server's.

use crate::clock::{DeviceClock, ServerClock};
use crate::net::DeviceConnector;
use crate::step::Step;
use protocol::Strategies;
use std::cell::Cell;
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

/// Where a server reports the points of its handling it reaches ([`Step::PushCommitted`]),
/// so that a scenario can crash it exactly there. Default: reports go nowhere (live mode,
/// where the server is its own process).
#[derive(Clone, Default)]
pub struct ServerSteps(Option<Arc<ServerArm>>);

impl ServerSteps {
    pub(crate) fn new(arm: Arc<ServerArm>) -> Self {
        ServerSteps(Some(arm))
    }

    /// Reports reaching `step`. When the scenario crashes the server at this step, the
    /// future never completes and the harness crashes the server before it goes on; else
    /// it completes at once, without yielding.
    pub async fn reached(&self, step: Step) {
        if self.0.as_ref().is_some_and(|arm| arm.reach(step)) {
            std::future::pending::<()>().await;
        }
    }
}

impl std::fmt::Debug for ServerSteps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ServerSteps(reported)" } else { "ServerSteps(unreported)" })
    }
}

/// A crash armed at a server step, and the one it asks for once reached: shared by the
/// driver and the server's handlers (which must be `Send`, hence the locks).
#[derive(Debug, Default)]
pub(crate) struct ServerArm {
    armed: Mutex<Option<(Step, Duration)>>,
    requested: Mutex<Option<(Step, Duration)>>,
}

impl ServerArm {
    /// Arms a crash at `step`, the server down for `downtime` after it (`None` disarms).
    pub(crate) fn arm(&self, armed: Option<(Step, Duration)>) {
        *self.armed.lock().expect("the arm's lock is never poisoned") = armed;
    }

    /// Notes `step` reached; says whether the server must stop here.
    fn reach(&self, step: Step) -> bool {
        let mut armed = self.armed.lock().expect("the arm's lock is never poisoned");
        match *armed {
            Some((at, downtime)) if at == step => {
                *armed = None;
                *self.requested.lock().expect("the arm's lock is never poisoned") = Some((at, downtime));
                true
            }
            _ => false,
        }
    }

    /// The crash a reached step asks for, taken.
    pub(crate) fn take_request(&self) -> Option<(Step, Duration)> {
        self.requested.lock().expect("the arm's lock is never poisoned").take()
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
    /// Where to report the points of a push's handling it reaches (see [`ServerSteps`]).
    pub steps: ServerSteps,
}
