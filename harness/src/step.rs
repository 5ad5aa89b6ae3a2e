//! The named points of a sync round (and of a schema migration) that a client reports, and
//! of a push's handling that a server reports, so the harness can kill either there.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in a sync round. A client reports each one it reaches through
/// [`crate::env::Steps::reached`]; a scenario can kill the app exactly there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// About to request a pull page.
    PullStarting,
    /// A pull page arrived and is not yet applied.
    PullPageReceived,
    /// A pull page and its cursor are saved.
    PullPageApplied,
    /// A push batch is marked in flight and about to be sent.
    PushStarting,
    /// The server answered a push (it has committed); nothing is applied locally yet. A
    /// kill here is a lost acknowledgement.
    PushResponseReceived,
    /// The push answers are saved locally.
    PushAcknowledged,
    /// Opening the app, a local schema migration is under way: part of it is done, not
    /// yet committed. A kill here interrupts the migration itself.
    Migrating,
    /// The server's: a push's effects are committed and its answer is not yet sent
    /// ([`crate::env::ServerSteps::reached`]). A crash here is a crash right after a commit:
    /// the device never hears of it and pushes again.
    PushCommitted,
    /// The server's: a pull's page is read from the store and its answer is not yet sent.
    /// A stall here holds the answer back while other requests go on (pushes commit
    /// meanwhile): a server that reads anything more for this answer after this point reads
    /// a store that has moved.
    PullRead,
}

impl Step {
    /// Every step of a sync round, in the order a round reaches them ([`Step::Migrating`]
    /// belongs to opening the app, not to a round).
    pub const ALL: [Step; 6] = [
        Step::PullStarting,
        Step::PullPageReceived,
        Step::PullPageApplied,
        Step::PushStarting,
        Step::PushResponseReceived,
        Step::PushAcknowledged,
    ];

    /// The stable name used in histories and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Step::PullStarting => "pull_starting",
            Step::PullPageReceived => "pull_page_received",
            Step::PullPageApplied => "pull_page_applied",
            Step::PushStarting => "push_starting",
            Step::PushResponseReceived => "push_response_received",
            Step::PushAcknowledged => "push_acknowledged",
            Step::Migrating => "migrating",
            Step::PushCommitted => "push_committed",
            Step::PullRead => "pull_read",
        }
    }

    /// Whether the step lies inside the push half of a round.
    pub fn is_push(self) -> bool {
        matches!(self, Step::PushStarting | Step::PushResponseReceived | Step::PushAcknowledged)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
