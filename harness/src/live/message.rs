//! The driver protocol's messages (`DRIVERS.md`), both ways, as JSON lines.

use crate::capability::ClientCapabilities;
use crate::operation::Operation;
use crate::state::{DeviceState, SyncOutcome};
use crate::step::Step;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of the driver protocol this harness speaks.
pub const PROTOCOL: u32 = 1;

/// A device's clock as a driver is told it: the machine's clock plus `offset_ms`, drifting
/// by `drift_ppm` since `origin_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSpec {
    /// Milliseconds added to the machine's clock (behind when negative).
    pub offset_ms: i64,
    /// Parts per million the clock gains (loses when negative) since `origin_ms`.
    pub drift_ppm: i64,
    /// The machine's clock when the run started, in ms since the Unix epoch.
    pub origin_ms: i64,
}

/// What the harness sends a driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Open the app.
    Open {
        /// The request's id.
        id: u64,
        /// The device's host name.
        device: String,
        /// The device's user.
        user: String,
        /// The device's bearer token.
        token: String,
        /// The server's URL, through the device's port of the proxy.
        server: String,
        /// Where the app keeps its data; survives kills.
        data_dir: PathBuf,
        /// The app version to open as.
        app_version: u32,
        /// Boots of the device so far, this one included.
        boot: u64,
        /// A seed for the app's randomness.
        seed: u64,
        /// The device's clock.
        clock: ClockSpec,
    },
    /// Perform one user operation.
    Perform {
        /// The request's id.
        id: u64,
        /// The operation.
        operation: Operation,
    },
    /// Run one sync round.
    Sync {
        /// The request's id.
        id: u64,
    },
    /// Report what the app shows.
    State {
        /// The request's id.
        id: u64,
    },
    /// The device's clock changed.
    Clock {
        /// The request's id.
        id: u64,
        /// The clock now.
        clock: ClockSpec,
    },
    /// The answer to a driver's `step`: the app may go on.
    GoOn {
        /// The driver's id of the step.
        in_reply_to: u64,
    },
}

/// What a driver sends the harness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The driver's first line.
    Hello {
        /// The protocol version it speaks.
        protocol: u32,
        /// Its name, for messages.
        #[serde(default)]
        name: String,
        /// What the client has.
        #[serde(default)]
        capabilities: ClientCapabilities,
        /// The newest app version it opens as.
        #[serde(default = "first_version")]
        latest_app_version: u32,
    },
    /// A request succeeded.
    Ok {
        /// The request's id.
        in_reply_to: u64,
        /// A sync round's outcome.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<SyncOutcome>,
        /// The app's state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<DeviceState>,
    },
    /// A request failed: an operation did not happen, a round failed, the app did not open.
    Fail {
        /// The request's id.
        in_reply_to: u64,
        /// Why.
        error: String,
    },
    /// The driver cannot tell whether the operation happened.
    Unknown {
        /// The request's id.
        in_reply_to: u64,
        /// Why.
        error: String,
    },
    /// The app reached a sync step and waits for `go_on`.
    Step {
        /// The driver's id of the step.
        id: u64,
        /// The step.
        step: Step,
    },
    /// A diagnostic of the app, for the timeline.
    Log {
        /// The text.
        text: String,
    },
}

fn first_version() -> u32 {
    1
}

impl Reply {
    /// The id of the request this answers, if it is an answer.
    pub fn in_reply_to(&self) -> Option<u64> {
        match self {
            Reply::Ok { in_reply_to, .. } | Reply::Fail { in_reply_to, .. } | Reply::Unknown { in_reply_to, .. } => {
                Some(*in_reply_to)
            }
            Reply::Hello { .. } | Reply::Step { .. } | Reply::Log { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_of_drivers_md_read_as_messages() {
        let hello = r#"{"type":"hello","protocol":1,"name":"my-driver 0.3",
            "capabilities":{"counters":false,"sets":false,"conflicts":false,"steps":["pull_starting","push_response_received"]},
            "latest_app_version":1}"#;
        let Reply::Hello { capabilities, .. } = serde_json::from_str(hello).unwrap() else { panic!("a hello") };
        assert_eq!(capabilities.steps, vec![Step::PullStarting, Step::PushResponseReceived]);
        let minimal: Reply = serde_json::from_str(r#"{"type":"hello","protocol":1}"#).unwrap();
        assert!(
            matches!(minimal, Reply::Hello { latest_app_version: 1, .. }),
            "everything but the protocol is optional"
        );
        let perform = r#"{"id":3,"type":"perform","operation":{"action":"update","entity":"task","id":"t-3","changes":{"fields":{"done":true},"increments":{"points":2}}}}"#;
        assert!(matches!(serde_json::from_str(perform).unwrap(), Request::Perform { id: 3, .. }));
        let state = r#"{"in_reply_to":6,"type":"ok","state":{"protocol":2,"records":{"task/t-3":{"title":"milk","done":true}},"pending":0,"failed":[],"conflicts":[]}}"#;
        let reply: Reply = serde_json::from_str(state).unwrap();
        assert_eq!(reply.in_reply_to(), Some(6));
        let step: Reply = serde_json::from_str(r#"{"type":"step","id":1,"step":"push_response_received"}"#).unwrap();
        assert_eq!(step, Reply::Step { id: 1, step: Step::PushResponseReceived });
    }
}
