//! One line of a history: what happened, where, at what virtual time.

use crate::fault::{Fault, FaultRecord};
use crate::operation::{Fields, Operation, RecordKey};
use crate::state::{DeviceState, SyncOutcome, UserRecords};
use crate::step::Step;
use serde::{Deserialize, Serialize};

/// Host name of events the harness itself records (phases, the final verdicts).
pub const HARNESS: &str = "harness";

/// One event on the virtual timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Virtual time since the start of the run, in milliseconds.
    pub t_ms: u64,
    /// The host it happened on (`server`, `device0`, ...) or [`HARNESS`].
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The event in human form: `  12.345s device0 {"type":...}`.
    pub fn line(&self) -> String {
        let kind = serde_json::to_string(&self.kind).unwrap_or_default();
        format!("{:>9.3}s {:<8} {kind}", self.t_ms as f64 / 1000.0, self.host)
    }
}

/// What happened. Written as `"type": "<variant in snake_case>"` with the variant's fields
/// beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A user operation started. `observed` holds the values the device showed, just
    /// before the write, of every register field the operation sets.
    Invoke {
        /// The operation's number, unique in the run.
        op: u64,
        /// The device's user.
        user: String,
        /// What the user did.
        operation: Operation,
        /// What the device showed of the fields it writes, before writing.
        #[serde(default, skip_serializing_if = "Fields::is_empty")]
        observed: Fields,
    },
    /// The app confirmed operation `op` to the user.
    Ok {
        /// The operation's number.
        op: u64,
    },
    /// The app refused operation `op`: it did not happen.
    Fail {
        /// The operation's number.
        op: u64,
        /// Why, as the app said.
        error: String,
    },
    /// Operation `op` was interrupted: whether it happened is unknown.
    Info {
        /// The operation's number.
        op: u64,
        /// What interrupted it.
        reason: String,
    },
    /// A sync round started.
    SyncStart {
        /// The device's round number (continues across restarts).
        round: u64,
    },
    /// A sync round completed.
    SyncOk {
        /// The round number.
        round: u64,
        /// What it did.
        outcome: SyncOutcome,
    },
    /// A sync round failed with an error (the network, the server).
    SyncFail {
        /// The round number.
        round: u64,
        /// The app's error.
        error: String,
    },
    /// A sync round was cut off: the app was killed or its background budget ran out.
    SyncCut {
        /// The round number.
        round: u64,
        /// Why.
        reason: String,
    },
    /// What the device showed the user after a sync round.
    Read {
        /// The device's user.
        user: String,
        /// The protocol version the app spoke (it shows only that version's fields).
        protocol: u32,
        /// Every visible record.
        records: UserRecords,
        /// How many writes were still waiting for the server then (absent in histories
        /// written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pending: Option<usize>,
        /// The records with a write failed for good shown to the user then
        /// ([`DeviceState::failed`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        failed: Vec<RecordKey>,
        /// The records with a conflict shown to the user then ([`DeviceState::conflicts`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        conflicts: Vec<RecordKey>,
    },
    /// A fault or condition change took effect.
    Fault {
        /// What, in words (`partition device0 <-> server`, `profile device1 edge`, ...).
        text: String,
        /// What, as data: its kind, whom it hits, its parameters.
        fault: FaultRecord,
    },
    /// Something the harness noticed that is not a fault of its own (an app that could not
    /// report its state).
    Note {
        /// What, in words.
        text: String,
    },
    /// The host was killed.
    Kill {
        /// Why.
        cause: KillCause,
        /// For a kill armed at a sync step, that step; otherwise the step the device had last
        /// reached, if a round was under way.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<Step>,
    },
    /// The host's software started again on the same data directory.
    Restart,
    /// The scenario replaced the app with another version: the app is killed now and
    /// opens as version `to` on the same data directory after the upgrade's downtime.
    Upgrade {
        /// The version installed before.
        from: u32,
        /// The version installed now.
        to: u32,
        /// What the app held just before it was killed for the upgrade; absent when it was
        /// not open (then there is nothing to compare).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<DeviceState>,
    },
    /// The device's user logged out and `to` logged in: from here on the device is `to`'s
    /// (its operations, reads and final state are that user's) until the next switch. The
    /// app is stopped now and opens as `to` shortly after.
    SwitchUser {
        /// The user logged out.
        from: String,
        /// The user logged in.
        to: String,
    },
    /// The upgraded app opened (its migration done) and reported what it holds, before any
    /// user operation or sync.
    Upgraded {
        /// The version that opened.
        version: u32,
        /// What it holds.
        state: DeviceState,
    },
    /// The app or the server could not start; it stays down.
    OpenFailed {
        /// The error.
        error: String,
    },
    /// A request of this device reached the server's edge (before any edge fault).
    Request {
        /// The request path.
        path: String,
    },
    /// An HTTP fault at the server edge hit a request of this device.
    Edge {
        /// The fault's name.
        fault: String,
        /// The request path.
        path: String,
    },
    /// Faults stopped: links repaired, every device restarted (the server too if it was
    /// down), devices syncing until idle.
    FinalPhase,
    /// Every device had an idle sync round after the last change anywhere.
    Converged {
        /// Virtual time from the start of the final phase.
        after_ms: u64,
    },
    /// The final phase reached its bound before the devices were idle.
    NotConverged {
        /// The bound, from the start of the final phase.
        bound_ms: u64,
    },
    /// A device's state at the end of the run.
    Snapshot {
        /// The device's user.
        user: String,
        /// What it reported.
        state: DeviceState,
    },
    /// The server's state of one user at the end of the run.
    ServerState {
        /// The user.
        user: String,
        /// The user's visible records.
        records: UserRecords,
    },
}

impl EventKind {
    /// The event of `fault` taking effect: its words and its record.
    pub fn fault(fault: &Fault) -> Self {
        EventKind::Fault { text: fault.to_string(), fault: FaultRecord::from(fault) }
    }
}

/// Why a host was killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KillCause {
    /// The schedule crashed it (`Fault::Crash`).
    Scheduled,
    /// A random-kill nemesis.
    Random,
    /// A kill armed at a sync step, which the app reached (the step is the event's `step`).
    AtStep,
    /// An app upgrade: the old version is killed before the new one opens.
    Upgrade,
    /// Another user logs in: the app is stopped before it opens as that user.
    SwitchUser,
    /// The restart that opens the final phase.
    FinalPhase,
}

impl KillCause {
    /// How timelines and logs say it.
    pub fn describe(self) -> &'static str {
        match self {
            KillCause::Scheduled => "scheduled",
            KillCause::Random => "random",
            KillCause::AtStep => "at a sync step",
            KillCause::Upgrade => "upgrade",
            KillCause::SwitchUser => "user switch",
            KillCause::FinalPhase => "final phase",
        }
    }
}
