//! The history of a run: a Jepsen-style log on the virtual timeline, exported as JSON lines.
//!
//! The first line is a [`Header`] (`"schema": "syncsim-history"`, `"version"`); every other
//! line is one [`Event`]. The format ([`VERSION`]) is documented in `harness/HISTORY.md`. Invariants read
//! only the history, so a history file is enough to re-check a run.

mod divergence;
mod event;

pub use divergence::Divergence;
pub use event::{Event, EventKind, KillCause, HARNESS};

use crate::error::{Error, Result};
use crate::operation::{Fields, Operation, RecordKey};
use crate::state::{DeviceState, UserRecords};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The `schema` value of every history header.
pub const SCHEMA: &str = "syncsim-history";
/// The history format version this crate writes and reads.
pub const VERSION: u32 = 3;

/// The first line of a history: which run it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Always [`VERSION`] when written by this crate.
    pub version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// Each device's host name and user, in device order.
    pub devices: Vec<DeviceInfo>,
    /// The declared conflict strategy per entity (`project`, `task`) by stable name.
    pub strategies: BTreeMap<String, String>,
    /// The path of the server's push requests, when the server declares it
    /// ([`crate::ServerCapabilities::push_path`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_path: Option<String>,
    /// The run was live (real processes, real time: `t_ms` is real time); absent in the
    /// simulation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
    /// The client declares that it shows the user the writes a delete from elsewhere
    /// overtook ([`crate::ClientCapabilities::overtaken_writes`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overtaken_writes_surfaced: bool,
}

/// A device of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Host name (`device0`, ...).
    pub host: String,
    /// The user it belongs to.
    pub user: String,
}

/// A whole run's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// Which run.
    pub header: Header,
    /// Everything that happened, in order.
    pub events: Vec<Event>,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Confirmed to the user at this virtual time (ms).
    Ok(u64),
    /// Refused: it did not happen.
    Fail(String),
    /// Interrupted, or never answered: it may or may not have happened.
    Unknown,
}

/// An operation joined with its completion.
#[derive(Clone, Debug)]
pub struct OpView<'a> {
    /// The operation's number.
    pub op: u64,
    /// The device.
    pub host: &'a str,
    /// The device's user.
    pub user: &'a str,
    /// When it was invoked (ms).
    pub invoked_ms: u64,
    /// What it was.
    pub operation: &'a Operation,
    /// What the device showed of the written fields before the write.
    pub observed: &'a Fields,
    /// How it ended.
    pub completion: Completion,
}

impl OpView<'_> {
    /// Whether the app confirmed it to the user.
    pub fn acknowledged(&self) -> bool {
        matches!(self.completion, Completion::Ok(_))
    }

    /// Whether it may have taken effect (confirmed, or outcome unknown).
    pub fn maybe_applied(&self) -> bool {
        !matches!(self.completion, Completion::Fail(_))
    }
}

/// A read: what a device showed at some time.
#[derive(Clone, Debug)]
pub struct ReadView<'a> {
    /// The device.
    pub host: &'a str,
    /// The device's user.
    pub user: &'a str,
    /// When (ms).
    pub t_ms: u64,
    /// Every visible record.
    pub records: &'a UserRecords,
    /// How many writes were waiting for the server, when the history says.
    pub pending: Option<usize>,
    /// The records with a write failed for good shown to the user.
    pub failed: &'a [RecordKey],
    /// The records with a conflict shown to the user.
    pub conflicts: &'a [RecordKey],
}

impl ReadView<'_> {
    /// Whether the read showed a failed or conflicting write to `key`.
    pub fn surfaced(&self, key: &RecordKey) -> bool {
        self.failed.contains(key) || self.conflicts.contains(key)
    }
}

impl History {
    /// An empty history of one run.
    pub fn new(scenario: &str, seed: u64, devices: Vec<DeviceInfo>, strategies: BTreeMap<String, String>) -> Self {
        let header = Header {
            schema: SCHEMA.to_owned(),
            version: VERSION,
            scenario: scenario.to_owned(),
            seed,
            devices,
            strategies,
            push_path: None,
            live: false,
            overtaken_writes_surfaced: false,
        };
        Self { header, events: Vec::new() }
    }

    /// Appends an event at virtual time `at`.
    pub fn record(&mut self, at: Duration, host: &str, kind: EventKind) {
        let t_ms = u64::try_from(at.as_millis()).unwrap_or(u64::MAX);
        self.events.push(Event { t_ms, host: host.to_owned(), kind });
    }

    /// The history as JSON lines: the header, then one event a line.
    pub fn to_jsonl(&self) -> String {
        let mut out = serde_json::to_string(&self.header).expect("a header always serializes");
        out.push('\n');
        for event in &self.events {
            out.push_str(&serde_json::to_string(event).expect("an event always serializes"));
            out.push('\n');
        }
        out
    }

    /// Reads a history written by [`History::to_jsonl`]. Refuses another schema or version.
    pub fn from_jsonl(text: &str) -> Result<Self> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or_else(|| Error::History { line: 1, message: "empty history".into() })?;
        let header: Header =
            serde_json::from_str(first).map_err(|e| Error::History { line: 1, message: e.to_string() })?;
        if header.schema != SCHEMA || header.version != VERSION {
            let message =
                format!("schema `{}` version {} is not {SCHEMA} version {VERSION}", header.schema, header.version);
            return Err(Error::History { line: 1, message });
        }
        let events = lines
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| Error::History { line: i + 1, message: e.to_string() })
            })
            .collect::<Result<_>>()?;
        Ok(Self { header, events })
    }

    /// Every operation with its completion, in invocation order.
    pub fn operations(&self) -> Vec<OpView<'_>> {
        let mut completions = BTreeMap::new();
        for event in &self.events {
            match &event.kind {
                EventKind::Ok { op } => completions.insert(*op, Completion::Ok(event.t_ms)),
                EventKind::Fail { op, error } => completions.insert(*op, Completion::Fail(error.clone())),
                EventKind::Info { op, .. } => completions.insert(*op, Completion::Unknown),
                _ => None,
            };
        }
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Invoke { op, user, operation, observed } => Some(OpView {
                    op: *op,
                    host: &event.host,
                    user,
                    invoked_ms: event.t_ms,
                    operation,
                    observed,
                    completion: completions.get(op).cloned().unwrap_or(Completion::Unknown),
                }),
                _ => None,
            })
            .collect()
    }

    /// Every read, in time order.
    pub fn reads(&self) -> Vec<ReadView<'_>> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Read { user, records, pending, failed, conflicts, .. } => Some(ReadView {
                    host: &event.host,
                    user,
                    t_ms: event.t_ms,
                    records,
                    pending: *pending,
                    failed,
                    conflicts,
                }),
                _ => None,
            })
            .collect()
    }

    /// Each device's final state, by host, with its user.
    pub fn snapshots(&self) -> BTreeMap<&str, (&str, &DeviceState)> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Snapshot { user, state } => Some((event.host.as_str(), (user.as_str(), state))),
                _ => None,
            })
            .collect()
    }

    /// The server's final records, by user. A user with no records may be absent.
    pub fn server_records(&self) -> BTreeMap<&str, &UserRecords> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::ServerState { user, records } => Some((user.as_str(), records)),
                _ => None,
            })
            .collect()
    }

    /// The user of device `host`, from the header.
    pub fn user_of(&self, host: &str) -> Option<&str> {
        self.header.devices.iter().find(|d| d.host == host).map(|d| d.user.as_str())
    }

    /// When the final phase started (ms), if the run got there.
    pub fn final_phase_ms(&self) -> Option<u64> {
        self.events.iter().find(|e| e.kind == EventKind::FinalPhase).map(|e| e.t_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Operation;
    use protocol::{Changes, Entity};

    fn sample() -> History {
        let devices = vec![DeviceInfo { host: "device0".into(), user: "alice".into() }];
        let mut h = History::new("sample", 7, devices, BTreeMap::new());
        let operation =
            Operation::Create { entity: Entity::Project, id: "p1".into(), changes: Changes::new().set("name", "x") };
        let invoke = EventKind::Invoke { op: 0, user: "alice".into(), operation, observed: Fields::new() };
        h.record(Duration::from_millis(5), "device0", invoke);
        h.record(Duration::from_millis(5), "device0", EventKind::Ok { op: 0 });
        h
    }

    #[test]
    fn a_history_round_trips_through_json_lines() {
        let h = sample();
        let text = h.to_jsonl();
        assert_eq!(text.lines().count(), 3, "header plus two events:\n{text}");
        assert!(text.starts_with(r#"{"schema":"syncsim-history","version":3,"#), "{text}");
        assert_eq!(History::from_jsonl(&text).unwrap(), h);
    }

    #[test]
    fn another_schema_version_is_refused_with_the_line() {
        let text = sample().to_jsonl().replacen(r#""version":3"#, r#""version":9"#, 1);
        let err = History::from_jsonl(&text).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("version 9"), "{err}");
    }

    #[test]
    fn an_operation_without_completion_is_unknown() {
        let mut h = sample();
        h.events.pop();
        assert_eq!(h.operations()[0].completion, Completion::Unknown);
    }
}
