//! What several invariants ask of one history: who wrote which field of which record, what
//! may have been deleted, what each device surfaced to its user, and when the final states
//! were reported.

use crate::history::{Completion, Event, EventKind, History, OpView, ReadView};
use crate::operation::{Operation, RecordKey};
use crate::state::{DeviceState, UserRecords};
use protocol::{Entity, FieldKind, Strategy};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One history, indexed once for the questions invariants ask of it.
pub(crate) struct Facts<'a> {
    pub(crate) history: &'a History,
    /// Every operation with its completion, in invocation order.
    pub(crate) operations: Vec<OpView<'a>>,
    /// Each device's final state, by host, with its user.
    pub(crate) snapshots: BTreeMap<&'a str, (&'a str, &'a DeviceState)>,
    /// The server's final records, by user.
    pub(crate) servers: BTreeMap<&'a str, &'a UserRecords>,
    /// Every read, in time order.
    pub(crate) reads: Vec<ReadView<'a>>,
    by_record: BTreeMap<RecordKey, Vec<usize>>,
}

impl<'a> Facts<'a> {
    /// Indexes `history`.
    pub(crate) fn of(history: &'a History) -> Self {
        let operations = history.operations();
        let mut by_record: BTreeMap<RecordKey, Vec<usize>> = BTreeMap::new();
        for (i, op) in operations.iter().enumerate() {
            by_record.entry(op.operation.key()).or_default().push(i);
        }
        let (snapshots, servers, reads) = (history.snapshots(), history.server_records(), history.reads());
        Self { history, operations, snapshots, servers, reads, by_record }
    }

    /// When the run ended: the last event's time, where Eventually invariants report.
    pub(crate) fn end_ms(&self) -> u64 {
        self.history.events.last().map_or(0, |e| e.t_ms)
    }

    /// When device `host` reported its final state (the end of the run if it never did).
    pub(crate) fn snapshot_ms(&self, host: &str) -> u64 {
        self.first_ms(|e| e.host == host && matches!(e.kind, EventKind::Snapshot { .. }))
    }

    /// When the server reported `user`'s final records (the end of the run if it never did).
    pub(crate) fn server_state_ms(&self, user: &str) -> u64 {
        self.first_ms(|e| matches!(&e.kind, EventKind::ServerState { user: u, .. } if u == user))
    }

    fn first_ms(&self, found: impl Fn(&Event) -> bool) -> u64 {
        self.history.events.iter().find(|e| found(e)).map_or_else(|| self.end_ms(), |e| e.t_ms)
    }

    /// How long after confirming `op` its device was killed, when that happened before any
    /// sync round it started after the confirmation finished: a write that can only have been
    /// lost on the device, unless the app syncs by itself.
    pub(crate) fn killed_before_synced(&self, op: &OpView<'_>) -> Option<u64> {
        let Completion::Ok(confirmed_ms) = op.completion else { return None };
        let mut started = BTreeSet::new();
        for event in self.history.events.iter().filter(|e| e.host == op.host && e.t_ms >= confirmed_ms) {
            match &event.kind {
                EventKind::SyncStart { round } => {
                    started.insert(*round);
                }
                EventKind::SyncOk { round, .. } if started.contains(round) => return None,
                EventKind::Kill { .. } => return Some(event.t_ms - confirmed_ms),
                _ => {}
            }
        }
        None
    }

    /// Where a lost write was most likely lost, for the details of its violation: on its
    /// device, when the device was killed soon after confirming it and before a sync round
    /// carried it (a client that confirms writes before they are durable), said so that
    /// nobody looks for a server bug first. Empty otherwise.
    pub(crate) fn lost_with_device(&self, op: &OpView<'_>) -> String {
        match self.killed_before_synced(op) {
            Some(after_ms) => format!(
                "; {} was killed {after_ms} ms after confirming it, before any sync round it started since had \
                 finished: a write the app confirmed before it was durable on the device is lost with the app",
                op.host
            ),
            None => String::new(),
        }
    }

    /// The users of the run's devices, each once: those they started with and those a
    /// user switch logged in.
    pub(crate) fn users(&self) -> BTreeSet<&'a str> {
        let switched = self.history.events.iter().filter_map(|e| match &e.kind {
            EventKind::SwitchUser { to, .. } => Some(to.as_str()),
            _ => None,
        });
        self.history.header.devices.iter().map(|d| d.user.as_str()).chain(switched).collect()
    }

    /// Whether `op`'s device showed its user a failed or conflicting write to `op`'s record:
    /// at a read of that user from `op` on, or in its final state with that user logged in
    /// (a write of a user logged out fails where only that user sees it).
    pub(crate) fn surfaced_for(&self, op: &OpView<'_>) -> bool {
        self.shown_to_writer(op, |state| state.surfaced(&op.operation.key()), |read| read.surfaced(&op.operation.key()))
    }

    /// When `op` was surely answered by the server: the read that followed the first sync
    /// round its device started after confirming it and ended with nothing pending and
    /// nothing surfaced for its record (the device neither killed nor upgraded meanwhile: a
    /// write confirmed before it was durable is lost with the app). None when no round did,
    /// or when the history does not say what was pending.
    pub(crate) fn settled_ms(&self, op: &OpView<'_>) -> Option<u64> {
        let Completion::Ok(confirmed_ms) = op.completion else { return None };
        let key = op.operation.key();
        let (mut started, mut ended) = (BTreeSet::new(), false);
        for event in self.history.events.iter().filter(|e| e.host == op.host && e.t_ms > confirmed_ms) {
            match &event.kind {
                EventKind::SyncStart { round } => {
                    started.insert(*round);
                }
                EventKind::SyncOk { round, .. } if started.contains(round) => ended = true,
                EventKind::Read { user, pending: Some(0), failed, conflicts, .. }
                    if ended && user == op.user && !failed.contains(&key) && !conflicts.contains(&key) =>
                {
                    return Some(event.t_ms)
                }
                EventKind::Read { .. } => ended = false,
                EventKind::Kill { .. } | EventKind::Upgrade { .. } | EventKind::SwitchUser { .. } => return None,
                _ => {}
            }
        }
        None
    }

    /// When the first request of device `host` from `since_ms` on reached the server's edge:
    /// the earliest a write the device made at `since_ms` can have reached the server.
    pub(crate) fn first_request_ms(&self, host: &str, since_ms: u64) -> Option<u64> {
        let request = |e: &&Event| e.host == host && e.t_ms >= since_ms && matches!(e.kind, EventKind::Request { .. });
        self.history.events.iter().find(request).map(|e| e.t_ms)
    }

    /// Whether `op`'s device showed its user a write to `op`'s record failed for good: at a
    /// read of that user from `op` on, or in its final state with that user logged in.
    pub(crate) fn failed_for(&self, op: &OpView<'_>) -> bool {
        let key = op.operation.key();
        self.shown_to_writer(op, |state| state.failed.contains(&key), |read| read.failed.contains(&key))
    }

    /// Whether `op`'s device showed `op`'s user what `final_state` or `read` looks for.
    fn shown_to_writer(
        &self,
        op: &OpView<'_>,
        final_state: impl Fn(&DeviceState) -> bool,
        read: impl Fn(&ReadView<'_>) -> bool,
    ) -> bool {
        let at_the_end =
            self.snapshots.get(op.host).is_some_and(|(user, state)| *user == op.user && final_state(state));
        at_the_end
            || self.reads.iter().any(|r| r.host == op.host && r.user == op.user && r.t_ms >= op.invoked_ms && read(r))
    }

    /// Whether `op`'s user logged out of its device after `op` and never read on it again
    /// (after the last time they left it): what the device has to tell them of `op` waits
    /// for a login the run does not have, so whether they were told cannot be judged.
    pub(crate) fn left_for_good(&self, op: &OpView<'_>) -> bool {
        let on_host = || self.history.events.iter().filter(|e| e.host == op.host && e.t_ms >= op.invoked_ms);
        let last_left = on_host().rev().find_map(|e| match &e.kind {
            EventKind::SwitchUser { from, .. } if from == op.user => Some(e.t_ms),
            _ => None,
        });
        last_left.is_some_and(|left_ms| {
            !on_host().any(|e| e.t_ms > left_ms && matches!(&e.kind, EventKind::Read { user, .. } if user == op.user))
        })
    }

    /// The conflict strategy the run declared for `entity`, if the header names a known one.
    pub(crate) fn strategy(&self, entity: Entity) -> Option<Strategy> {
        self.history.header.strategies.get(entity.name()).and_then(|name| Strategy::parse(name))
    }

    /// Whether some device that may have written `key` surfaced it to the writer's user (or
    /// may yet: see [`Facts::left_for_good`]).
    pub(crate) fn surfaced_by_a_writer(&self, key: &RecordKey) -> bool {
        self.on(key).any(|op| op.maybe_applied() && (self.surfaced_for(op) || self.left_for_good(op)))
    }

    /// Every operation on `key`, in invocation order.
    pub(crate) fn on(&self, key: &RecordKey) -> impl Iterator<Item = &OpView<'a>> + '_ {
        let indexes = self.by_record.get(key).map_or(&[][..], Vec::as_slice);
        indexes.iter().map(|&i| &self.operations[i])
    }

    /// The operation that created `key`, whatever its completion.
    pub(crate) fn creator(&self, key: &RecordKey) -> Option<&OpView<'a>> {
        self.on(key).find(|op| matches!(op.operation, Operation::Create { .. }))
    }

    /// Deletes of `key` that may have taken effect.
    pub(crate) fn deletes(&self, key: &RecordKey) -> impl Iterator<Item = &OpView<'a>> + '_ {
        self.on(key).filter(|op| op.maybe_applied() && matches!(op.operation, Operation::Delete { .. }))
    }

    /// Operations that may have taken effect and set register field `field` of `key`, each
    /// with the value it wrote.
    pub(crate) fn writers<'s>(
        &'s self,
        key: &RecordKey,
        field: &'s str,
    ) -> impl Iterator<Item = (&'s OpView<'a>, &'a Value)> + 's {
        self.on(key).filter(|op| op.maybe_applied()).filter_map(move |op| written(op, field).map(|v| (op, v)))
    }
}

/// The value `op` writes to register field `field`, if it sets it.
pub(crate) fn written<'o>(op: &OpView<'o>, field: &str) -> Option<&'o Value> {
    op.operation.changes()?.fields.get(field)
}

/// The register fields `op` sets that its entity declares, with the values it writes.
pub(crate) fn register_writes<'o>(op: &OpView<'o>) -> impl Iterator<Item = (&'o str, &'o Value)> + 'o {
    let entity = op.operation.key().entity;
    let fields = op.operation.changes().map(|c| &c.fields);
    fields.into_iter().flatten().filter(move |(name, _)| is_register(entity, name)).map(|(n, v)| (n.as_str(), v))
}

/// How much `op` adds to counter `field` (0 when it does not touch it).
pub(crate) fn increment(op: &OpView<'_>, field: &str) -> i64 {
    op.operation.changes().and_then(|c| c.increments.get(field)).copied().unwrap_or(0)
}

/// Whether `op` adds `element` to set `field`.
pub(crate) fn adds(op: &OpView<'_>, field: &str, element: &str) -> bool {
    op.operation.changes().and_then(|c| c.set_add.get(field)).is_some_and(|adds| adds.contains(element))
}

/// Whether `op` removes `element` from set `field`.
pub(crate) fn removes(op: &OpView<'_>, field: &str, element: &str) -> bool {
    op.operation.changes().and_then(|c| c.set_remove.get(field)).is_some_and(|rm| rm.contains_key(element))
}

/// The names of `entity`'s fields of `kind` (counters, or sets).
pub(crate) fn fields_of(entity: Entity, kind: FieldKind) -> impl Iterator<Item = &'static str> {
    entity.fields().iter().filter(move |f| f.kind == kind).map(|f| f.name)
}

/// Whether `field` of `entity` is a register: written by replacing its value.
pub(crate) fn is_register(entity: Entity, field: &str) -> bool {
    entity.field(field).is_some_and(|def| def.kind.is_register())
}

/// Names an operation in violation details so a reader can find it in the history:
/// `op 7 (update task/x on device1)`.
pub(crate) fn cite(op: &OpView<'_>) -> String {
    format!("op {} ({} {} on {})", op.op, op.operation.action(), op.operation.key(), op.host)
}

/// A field's value as shown in details, `absent` when the record does not hold it.
pub(crate) fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_owned(), Value::to_string)
}

/// A counter's value as a record shows it; an absent counter reads 0.
pub(crate) fn counter(fields: &crate::operation::Fields, field: &str) -> i64 {
    fields.get(field).and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use protocol::Changes;
    use serde_json::json;

    #[test]
    fn writers_are_the_maybe_applied_operations_setting_the_field() {
        let key = task("t1");
        let history = Timeline::new(&[ALICE, ALICE])
            .at(1)
            .acked(DEVICE0, 1, create(&key, json!({"title": "title #1", "project_id": "p"})))
            .invoke(DEVICE1, 2, update(&key, Changes::new().set("title", "title #2")))
            .fail(DEVICE1, 2)
            .invoke(DEVICE1, 3, update(&key, Changes::new().set("title", "title #3")))
            .build();
        let facts = Facts::of(&history);
        let ops: Vec<u64> = facts.writers(&key, "title").map(|(op, _)| op.op).collect();
        assert_eq!(ops, [1, 3], "the failed op 2 did not happen; op 3 may have");
    }

    #[test]
    fn a_counter_a_record_does_not_show_reads_zero() {
        assert_eq!(counter(&crate::operation::Fields::new(), "pomodoros"), 0);
    }
}
