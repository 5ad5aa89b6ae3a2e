//! Hand-made histories for the invariants' unit tests, written as one expression:
//!
//! ```ignore
//! Timeline::new(&[ALICE])
//!     .at(10)
//!     .acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
//!     .at(900)
//!     .settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #1"}))]))])
//!     .build()
//! ```

use crate::history::{DeviceInfo, EventKind, History, HARNESS};
use crate::net::{device, SERVER};
use crate::operation::{Fields, Operation, RecordKey};
use crate::state::{DeviceState, UserRecords};
use protocol::{Changes, Entity};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The first user, as `sim::user(0)` names it.
pub(crate) const ALICE: &str = "alice";
/// The second user, as `sim::user(1)` names it.
pub(crate) const BOB: &str = "bob";
/// Host of the first device, as `net::device(0)` names it.
pub(crate) const DEVICE0: &str = "device0";
/// Host of the second device.
pub(crate) const DEVICE1: &str = "device1";
/// Host of the third device.
pub(crate) const DEVICE2: &str = "device2";

/// A history written event by event, each at the time of the last [`Timeline::at`].
pub(crate) struct Timeline {
    history: History,
    now_ms: u64,
}

impl Timeline {
    /// A run whose device `i` belongs to `users[i]`.
    pub(crate) fn new(users: &[&str]) -> Self {
        let devices = users.iter().enumerate().map(|(i, u)| DeviceInfo { host: device(i), user: (*u).to_owned() });
        let defaults = protocol::Strategies::default();
        let strategies = [("project", defaults.project), ("task", defaults.task)];
        let strategies = strategies.into_iter().map(|(e, s)| (e.to_owned(), s.name().to_owned())).collect();
        let mut history = History::new("fixture", 0, devices.collect(), strategies);
        history.header.push_path = Some(protocol::PUSH_PATH.to_owned());
        Self { history, now_ms: 0 }
    }

    /// Declares `strategy` for `entity` (the defaults are field merge for projects and
    /// last-write-wins by hybrid logical clock for tasks).
    pub(crate) fn strategy(mut self, entity: &str, strategy: protocol::Strategy) -> Self {
        self.history.header.strategies.insert(entity.to_owned(), strategy.name().to_owned());
        self
    }

    /// The client declares that it shows the writes a delete from elsewhere overtook.
    pub(crate) fn overtaken_writes_surfaced(mut self) -> Self {
        self.history.header.overtaken_writes_surfaced = true;
        self
    }

    /// Moves the clock: the next events happen at `t_ms`.
    pub(crate) fn at(mut self, t_ms: u64) -> Self {
        self.now_ms = t_ms;
        self
    }

    /// Records any event on `host`.
    pub(crate) fn event(mut self, host: &str, kind: EventKind) -> Self {
        self.history.record(Duration::from_millis(self.now_ms), host, kind);
        self
    }

    /// Device `host` starts operation `op`, having shown nothing of the fields it writes.
    pub(crate) fn invoke(self, host: &str, op: u64, operation: Operation) -> Self {
        self.invoke_seeing(host, op, operation, Value::Null)
    }

    /// Device `host` starts operation `op` having shown `observed` (a JSON object, or null).
    pub(crate) fn invoke_seeing(self, host: &str, op: u64, operation: Operation, observed: Value) -> Self {
        let user = self.user(host);
        self.event(host, EventKind::Invoke { op, user, operation, observed: fields(observed) })
    }

    /// The app confirms `op`.
    pub(crate) fn ok(self, host: &str, op: u64) -> Self {
        self.event(host, EventKind::Ok { op })
    }

    /// The app refuses `op`.
    pub(crate) fn fail(self, host: &str, op: u64) -> Self {
        self.event(host, EventKind::Fail { op, error: "refused".into() })
    }

    /// `op` is interrupted: its outcome is unknown.
    pub(crate) fn info(self, host: &str, op: u64) -> Self {
        self.event(host, EventKind::Info { op, reason: "killed".into() })
    }

    /// Invoked and confirmed at once.
    pub(crate) fn acked(self, host: &str, op: u64, operation: Operation) -> Self {
        self.invoke(host, op, operation).ok(host, op)
    }

    /// Invoked having shown `observed`, and confirmed at once.
    pub(crate) fn acked_seeing(self, host: &str, op: u64, operation: Operation, observed: Value) -> Self {
        self.invoke_seeing(host, op, operation, observed).ok(host, op)
    }

    /// Device `host` shows `records`.
    pub(crate) fn read(self, host: &str, records: UserRecords) -> Self {
        let user = self.user(host);
        let (protocol, pending, failed, conflicts) = (protocol::PROTOCOL_VERSION, None, Vec::new(), Vec::new());
        self.event(host, EventKind::Read { user, protocol, records, pending, failed, conflicts })
    }

    /// `to` logs in on device `host` instead of its user.
    pub(crate) fn switch_user(self, host: &str, to: &str) -> Self {
        let from = self.user(host);
        self.event(host, EventKind::SwitchUser { from, to: to.to_owned() })
    }

    /// Device `host` starts sync round `round`.
    pub(crate) fn sync_start(self, host: &str, round: u64) -> Self {
        self.event(host, EventKind::SyncStart { round })
    }

    /// Device `host` ends sync round `round` and shows `state` (its records, what is
    /// pending and what is surfaced).
    pub(crate) fn synced(self, host: &str, round: u64, state: DeviceState) -> Self {
        let user = self.user(host);
        let (protocol, records, pending) = (state.protocol, state.records, Some(state.pending));
        let (failed, conflicts) = (state.failed, state.conflicts);
        self.event(host, EventKind::SyncOk { round, outcome: crate::SyncOutcome::default() })
            .event(host, EventKind::Read { user, protocol, records, pending, failed, conflicts })
    }

    /// Device `host` reports its final state.
    pub(crate) fn request(self, host: &str, path: &str) -> Self {
        self.event(host, EventKind::Request { path: path.into() })
    }

    pub(crate) fn edge(self, host: &str, fault: &str) -> Self {
        self.event(host, EventKind::Edge { fault: fault.into(), path: String::new() })
    }

    pub(crate) fn snapshot(self, host: &str, state: DeviceState) -> Self {
        let user = self.user(host);
        self.event(host, EventKind::Snapshot { user, state })
    }

    /// The server reports `user`'s final records.
    pub(crate) fn server(self, user: &str, records: UserRecords) -> Self {
        self.event(SERVER, EventKind::ServerState { user: user.to_owned(), records })
    }

    /// A clean end: the final phase converges, every device shows its user's records with
    /// an empty queue, and the server reports them.
    pub(crate) fn settle(self, finals: &[(&str, UserRecords)]) -> Self {
        let by_user: BTreeMap<&str, &UserRecords> = finals.iter().map(|(u, r)| (*u, r)).collect();
        let devices = self.history.header.devices.clone();
        let mut timeline =
            self.event(HARNESS, EventKind::FinalPhase).event(HARNESS, EventKind::Converged { after_ms: 0 });
        for d in &devices {
            let user = timeline.user(&d.host);
            let records = by_user.get(user.as_str()).map(|r| (*r).clone()).unwrap_or_default();
            timeline = timeline.snapshot(&d.host, showing(records));
        }
        finals.iter().fold(timeline, |t, (user, records)| t.server(user, records.clone()))
    }

    /// The history written so far.
    pub(crate) fn build(self) -> History {
        self.history
    }

    /// The user logged in on `host` now: the last user switch's, else its first.
    fn user(&self, host: &str) -> String {
        let switched = self.history.events.iter().rev().find_map(|e| match &e.kind {
            EventKind::SwitchUser { to, .. } if e.host == host => Some(to.clone()),
            _ => None,
        });
        if let Some(user) = switched {
            return user;
        }
        let user = self.history.user_of(host);
        user.unwrap_or_else(|| panic!("{host} is not a device of this timeline: list its user in Timeline::new")).into()
    }
}

/// Task `id`.
pub(crate) fn task(id: &str) -> RecordKey {
    RecordKey::new(Entity::Task, id)
}

/// Creates `key` with the register fields of a JSON object.
pub(crate) fn create(key: &RecordKey, registers: Value) -> Operation {
    let changes = Changes { fields: fields(registers), ..Changes::new() };
    create_with(key, changes)
}

/// Creates `key` with any changes (counters and sets too).
pub(crate) fn create_with(key: &RecordKey, changes: Changes) -> Operation {
    Operation::Create { entity: key.entity, id: key.id.clone(), changes }
}

/// Updates `key`.
pub(crate) fn update(key: &RecordKey, changes: Changes) -> Operation {
    Operation::Update { entity: key.entity, id: key.id.clone(), changes }
}

/// Deletes `key`.
pub(crate) fn delete(key: &RecordKey) -> Operation {
    Operation::Delete { entity: key.entity, id: key.id.clone() }
}

/// The fields of a JSON object (none for null).
pub(crate) fn fields(object: Value) -> Fields {
    match object {
        Value::Object(map) => map.into_iter().collect(),
        Value::Null => Fields::new(),
        other => panic!("fields are written as a JSON object, not {other}"),
    }
}

/// Records with their fields, each given as a JSON object.
pub(crate) fn records(entries: &[(&RecordKey, Value)]) -> UserRecords {
    entries.iter().map(|(key, object)| ((*key).clone(), fields(object.clone()))).collect()
}

/// A device state showing `records`, with nothing pending or surfaced.
pub(crate) fn showing(records: UserRecords) -> DeviceState {
    DeviceState { records, ..DeviceState::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_names_are_the_ones_the_simulation_gives() {
        assert_eq!([DEVICE0, DEVICE1, DEVICE2].map(str::to_owned), [device(0), device(1), device(2)]);
        assert_eq!([ALICE, BOB].map(str::to_owned), [crate::sim::user(0), crate::sim::user(1)]);
    }
}
