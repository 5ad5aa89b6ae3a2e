//! What a server is configured with.

use protocol::{Clock, Mutation, Strategies, SystemClock};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The server's configuration.
///
/// Defaults: no users (every request is 401 until one is added), the default
/// [`Strategies`], tombstones kept forever, the system clock.
#[derive(Clone)]
pub struct ServerConfig {
    /// Bearer token -> user name. Each token is one device's credential, bound to one user.
    pub tokens: BTreeMap<String, String>,
    /// The conflict strategy each entity declares.
    pub strategies: Strategies,
    /// Tombstones older than this are purged; clients with older cursors are told to re-sync.
    /// `None` keeps tombstones forever.
    pub tombstone_horizon: Option<Duration>,
    /// The server's wall clock (record times and the tombstone horizon).
    pub clock: Arc<dyn Clock>,
    /// How the WatermelonDB dialect's pulls classify live records. Default: `updated` only.
    pub watermelon_split: Split,
    /// Validation of the deployment's own, beyond the protocol's: a push with a mutation it
    /// refuses is refused whole (422), and changes nothing. A test harness changes it while
    /// the server runs. Default: none.
    pub validator: Option<Arc<dyn Validator>>,
    /// Sees the named points of the server's handling as they are reached, so that a test
    /// harness can crash or stall the server exactly there. Default: none.
    pub hook: Option<Arc<dyn ServerHook>>,
    /// A deliberate bug to plant, for the mutant catalog. Default: none.
    #[cfg(feature = "mutants")]
    pub bug: Option<crate::Bug>,
}

/// A named point of the server's handling of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerStep {
    /// A push's effects are committed (with their idempotency records) and its answer is
    /// not yet sent: a crash here is a crash right after a commit, and the device pushes
    /// again.
    PushCommitted,
    /// A pull's page and cursor are read, under one lock, and its answer is not yet sent: a
    /// stall here delays the answer while pushes commit.
    PullRead,
}

/// Validation a deployment adds to the protocol's own ([`ServerConfig::validator`]).
pub trait Validator: Send + Sync {
    /// Why the server refuses `mutation`, if it does: the 422's message.
    fn refuses(&self, mutation: &Mutation) -> Option<String>;
}

/// An observer of the server's steps: a test harness that crashes or stalls the server at one.
pub trait ServerHook: Send + Sync {
    /// `step` is reached; the server goes on when the future completes.
    fn reached(&self, step: ServerStep) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            tokens: BTreeMap::new(),
            strategies: Strategies::default(),
            tombstone_horizon: None,
            clock: Arc::new(SystemClock),
            watermelon_split: Split::default(),
            validator: None,
            hook: None,
            #[cfg(feature = "mutants")]
            bug: None,
        }
    }
}

impl ServerConfig {
    /// Adds a device credential: `token` authenticates as `user`.
    pub fn token(mut self, user: impl Into<String>, token: impl Into<String>) -> Self {
        self.tokens.insert(token.into(), user.into());
        self
    }

    /// Declares the conflict strategies.
    pub fn strategies(mut self, strategies: Strategies) -> Self {
        self.strategies = strategies;
        self
    }

    /// Purges tombstones older than `horizon`.
    pub fn tombstone_horizon(mut self, horizon: Duration) -> Self {
        self.tombstone_horizon = Some(horizon);
        self
    }

    /// The planted bug (never one, without the `mutants` feature).
    pub(crate) fn planted(&self) -> Option<crate::bug::Bug> {
        #[cfg(feature = "mutants")]
        return self.bug;
        #[cfg(not(feature = "mutants"))]
        None
    }

    /// Whether `bug` is planted.
    pub(crate) fn bugged(&self, bug: crate::bug::Bug) -> bool {
        self.planted() == Some(bug)
    }

    /// Classifies the WatermelonDB dialect's live records as `split` says.
    pub fn watermelon_split(mut self, split: Split) -> Self {
        self.watermelon_split = split;
        self
    }

    /// Refuses what `validator` refuses, beside the protocol's own checks.
    pub fn validator(mut self, validator: Arc<dyn Validator>) -> Self {
        self.validator = Some(validator);
        self
    }

    /// Uses `clock` as the server's wall clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("users", &self.tokens.values().collect::<Vec<_>>())
            .field("strategies", &self.strategies)
            .field("tombstone_horizon", &self.tombstone_horizon)
            .finish_non_exhaustive()
    }
}

/// How the WatermelonDB dialect's pulls classify the live records they send
/// (`crate::watermelon`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Split {
    /// Every live record in `updated`, `created` empty: for clients that pass
    /// `sendCreatedAsUpdated: true`. The default, and the safe one.
    #[default]
    UpdatedOnly,
    /// `created` for records this dialect created after `last_pulled_at`, `updated` for the
    /// others: the backend spec taken literally.
    Literal,
}
