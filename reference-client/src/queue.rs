//! Queue entries: one user write waiting to be pushed, with its idempotency key.

use protocol::{Action, Changes, Entity, Hlc, Mutation, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where a queue entry is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    /// Waiting to be pushed.
    Pending,
    /// Sent in the current round; back to pending if the app restarts before the answer.
    InFlight,
    /// Will not be retried: surfaced to the user (see `last_error`).
    Failed,
    /// Held for the user to resolve (user-prompted conflict).
    Conflict,
    /// The server answered it for good.
    Completed,
}

impl QueueStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            QueueStatus::Pending => "pending",
            QueueStatus::InFlight => "in_flight",
            QueueStatus::Failed => "failed",
            QueueStatus::Conflict => "conflict",
            QueueStatus::Completed => "completed",
        }
    }

    /// Its code on disk from schema 7 (fixed for good).
    pub(crate) fn code(self) -> i64 {
        match self {
            QueueStatus::Pending => 0,
            QueueStatus::InFlight => 1,
            QueueStatus::Failed => 2,
            QueueStatus::Conflict => 3,
            QueueStatus::Completed => 4,
        }
    }

    /// The status of a stored [`QueueStatus::code`].
    pub(crate) fn from_code(code: i64) -> QueueStatus {
        match code {
            0 => QueueStatus::Pending,
            1 => QueueStatus::InFlight,
            2 => QueueStatus::Failed,
            3 => QueueStatus::Conflict,
            _ => QueueStatus::Completed,
        }
    }

    pub(crate) fn parse(s: &str) -> QueueStatus {
        match s {
            "pending" => QueueStatus::Pending,
            "in_flight" => QueueStatus::InFlight,
            "failed" => QueueStatus::Failed,
            "conflict" => QueueStatus::Conflict,
            _ => QueueStatus::Completed,
        }
    }
}

/// The part of a queue entry stored as JSON. Queue format 2 stores it as it is, the changes
/// nested under `changes`; format 1 flattens the changes beside `hlc` and `client_time_ms`
/// ([`FlatPayload`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub(crate) changes: Changes,
    pub(crate) hlc: Hlc,
    pub(crate) client_time_ms: i64,
}

/// A payload in queue format 1.
#[derive(Serialize, Deserialize)]
struct FlatPayload {
    #[serde(flatten)]
    changes: Changes,
    hlc: Hlc,
    client_time_ms: i64,
}

impl Payload {
    /// The JSON of this payload in queue format `format` (see
    /// [`queue_format`](crate::schema::queue_format)).
    ///
    /// # Panics
    /// If `format` is not 1 or 2: format 3 is packed (see `packed::encode_payload`).
    pub(crate) fn encode(&self, format: u32) -> String {
        let json = match format {
            1 => serde_json::to_string(&FlatPayload {
                changes: self.changes.clone(),
                hlc: self.hlc.clone(),
                client_time_ms: self.client_time_ms,
            }),
            2 => serde_json::to_string(self),
            _ => panic!("queue format {format} is not JSON: the JSON formats are 1 and 2 (3 is packed)"),
        };
        json.expect("payloads serialize")
    }

    /// Reads a payload stored in queue format `format`, as the entry that carries it says.
    pub(crate) fn decode(json: &str, format: u32) -> serde_json::Result<Payload> {
        match format {
            1 => serde_json::from_str(json).map(|p: FlatPayload| Payload {
                changes: p.changes,
                hlc: p.hlc,
                client_time_ms: p.client_time_ms,
            }),
            2 => serde_json::from_str(json),
            _ => Err(serde::de::Error::custom(format!("unknown queue format {format}"))),
        }
    }
}

/// One queued mutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    /// Position in the queue (enqueue order).
    pub seq: i64,
    /// Idempotency key, made at enqueue time.
    pub key: String,
    /// Entity of the record.
    pub entity: Entity,
    /// Id of the record.
    pub record_id: String,
    /// What it does.
    pub action: Action,
    /// The server version it is based on.
    pub base_version: u64,
    /// This device's previous open mutation of the same record, if any.
    pub after: Option<String>,
    /// What it changes.
    pub changes: Changes,
    /// Its hybrid logical timestamp.
    pub hlc: Hlc,
    /// The device's wall clock when it was made.
    pub client_time_ms: i64,
    /// Where it is in its life.
    pub status: QueueStatus,
    /// How many times the server answered it with a retryable error.
    pub retries: u32,
    /// The last error, for people.
    pub last_error: Option<String>,
    /// The queue format version of the app that wrote it.
    pub format_version: u32,
}

impl QueueEntry {
    /// The wire form of this entry.
    pub fn to_mutation(&self) -> Mutation {
        Mutation {
            key: self.key.clone(),
            entity: self.entity.name().to_owned(),
            id: self.record_id.clone(),
            action: self.action,
            base_version: self.base_version,
            after: self.after.clone(),
            changes: self.changes.clone(),
            hlc: self.hlc.clone(),
            client_time_ms: self.client_time_ms,
        }
    }

    /// Applies this entry to `state` the way the server would if nothing concurrent
    /// happened: the optimistic local view. Increments of the counters in `held` are
    /// skipped: `state` already counts them.
    pub(crate) fn apply_to(&self, state: &mut Record, device: &str, held: &BTreeSet<String>) {
        if state.deleted {
            return;
        }
        if self.action == Action::Delete {
            state.deleted = true;
            return;
        }
        for name in self.changes.fields.keys() {
            self.changes.apply_field(state, name);
        }
        if held.is_empty() {
            self.changes.apply_crdt_ops(state, device, &self.key);
        } else {
            let mut changes = self.changes.clone();
            changes.increments.retain(|field, _| !held.contains(field));
            changes.apply_crdt_ops(state, device, &self.key);
        }
    }

    /// Counter fields whose state in `server` already counts the first of `open` (this
    /// device's unacknowledged entries of one record, in queue order): the server's last
    /// counted mutation of this device on the counter is that entry or a later one.
    pub(crate) fn held_counters(server: &Record, device: &str, open: &[QueueEntry]) -> BTreeSet<String> {
        let counted = |key: &String| open.iter().any(|e| &e.key == key);
        server
            .counters
            .iter()
            .filter(|(_, c)| c.last.get(device).is_some_and(counted))
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// Rank in a push batch: creates before updates before deletes; parents created first
    /// and deleted last. A stable sort by it keeps each record's own order.
    pub(crate) fn push_rank(&self) -> (u8, u8) {
        match self.action {
            Action::Create => (0, self.entity.depth()),
            Action::Update => (1, 0),
            Action::Delete => (2, u8::MAX - self.entity.depth()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        let changes = Changes::new().set("title", "Dig").increment("pomodoros", 1).remove("tags", "home");
        Payload { changes, hlc: Hlc::zero("phone"), client_time_ms: 7 }
    }

    #[test]
    fn format_1_flattens_the_changes_and_format_2_nests_them() {
        let flat: serde_json::Value = serde_json::from_str(&payload().encode(1)).unwrap();
        let nested: serde_json::Value = serde_json::from_str(&payload().encode(2)).unwrap();
        assert_eq!(flat["fields"]["title"], "Dig");
        assert_eq!(nested["changes"]["fields"]["title"], "Dig");
        assert_eq!(flat["client_time_ms"], nested["client_time_ms"]);
    }

    #[test]
    fn each_format_reads_back_what_it_wrote() {
        for format in [1, 2] {
            assert_eq!(Payload::decode(&payload().encode(format), format).unwrap(), payload(), "format {format}");
        }
        assert!(Payload::decode(&payload().encode(2), 3).is_err(), "an unknown format is unreadable, not guessed");
    }
}
