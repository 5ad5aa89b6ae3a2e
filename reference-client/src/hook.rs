//! The sync hook: the named steps of a sync round (and of an upgrade) and the observer that
//! sees each one as it is reached.

use protocol::Entity;
use std::future::Future;
use std::pin::Pin;

/// A named point in a sync round. The hook sees each one as it is reached, so a test or the
/// simulation can kill the app exactly there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncStep {
    /// About to request a pull page.
    PullStarting {
        /// The entity pulled.
        entity: Entity,
    },
    /// A pull page arrived and is not yet applied.
    PullPageReceived {
        /// The entity pulled.
        entity: Entity,
        /// Changes in the page.
        changes: usize,
    },
    /// A pull page and its cursor are committed.
    PullPageApplied {
        /// The entity pulled.
        entity: Entity,
        /// The cursor now saved.
        cursor: u64,
    },
    /// A batch is marked in flight and about to be sent.
    PushStarting {
        /// Idempotency keys in the batch.
        keys: Vec<String>,
    },
    /// The server answered the batch (it has committed); nothing is applied locally yet.
    PushResponseReceived {
        /// Idempotency keys in the batch.
        keys: Vec<String>,
    },
    /// The answers are committed locally.
    PushAcknowledged {
        /// Idempotency keys in the batch.
        keys: Vec<String>,
    },
    /// One change of a schema migration is made, not yet committed (reported only by
    /// [`Replica::start`](crate::Replica::start)).
    Migrating {
        /// The version the migration brings the database to.
        version: u32,
    },
}

impl SyncStep {
    /// The step's stable name: `pull_starting`, `pull_page_received`, `pull_page_applied`,
    /// `push_starting`, `push_response_received`, `push_acknowledged`, `migrating`.
    pub fn name(&self) -> &'static str {
        match self {
            SyncStep::PullStarting { .. } => "pull_starting",
            SyncStep::PullPageReceived { .. } => "pull_page_received",
            SyncStep::PullPageApplied { .. } => "pull_page_applied",
            SyncStep::PushStarting { .. } => "push_starting",
            SyncStep::PushResponseReceived { .. } => "push_response_received",
            SyncStep::PushAcknowledged { .. } => "push_acknowledged",
            SyncStep::Migrating { .. } => "migrating",
        }
    }
}

/// Observes sync steps; may delay the round (for example forever, while the app is killed).
pub trait SyncHook {
    /// Called at each step; the round continues when the future completes.
    fn reached(&self, step: &SyncStep) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}
