//! `POST /api/sync/push`: a batch of queued mutations, one result each.

use crate::changes::Changes;
use crate::hlc::Hlc;
use crate::record::Record;
use serde::{Deserialize, Serialize};

/// What a mutation does to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates the record with a client-generated id.
    Create,
    /// Changes some fields of the record.
    Update,
    /// Soft-deletes the record. Deletes always win: nothing brings a deleted record back.
    Delete,
}

impl Action {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Action> {
        [Action::Create, Action::Update, Action::Delete].into_iter().find(|a| a.name() == name)
    }
}

/// One queued user write, as pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutation {
    /// Idempotency key, generated when the mutation was enqueued and sent unchanged on every
    /// retry. The server answers a replayed key with the stored result.
    pub key: String,
    /// Entity name (see [`crate::Entity`]); a string so that an unknown name gets a clear 4xx.
    pub entity: String,
    /// The record's client-generated UUID.
    pub id: String,
    /// What the mutation does.
    pub action: Action,
    /// The record version the client based this write on (0 for a create).
    pub base_version: u64,
    /// The key of this device's previous mutation of the same record, when that one was not
    /// yet acknowledged as the write was made: the server then bases this write on that
    /// mutation's result, so a device's own sequential edits never conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// What the write changes.
    #[serde(flatten)]
    pub changes: Changes,
    /// Hybrid logical timestamp of the write on the device.
    pub hlc: Hlc,
    /// The device's wall clock at the write, ms since the Unix epoch (informational: the
    /// reference server never orders by it).
    pub client_time_ms: i64,
}

/// The body of a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The pushing device: its counter contributions are kept under this name.
    pub device: String,
    /// Mutations in the order the server must apply them.
    pub mutations: Vec<Mutation>,
}

/// The body of a push response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per mutation, in request order.
    pub results: Vec<MutationResult>,
}

/// What became of one mutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutationResult {
    /// The mutation's idempotency key.
    pub key: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

/// How the server answered one mutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MutationOutcome {
    /// Every part of the write took effect.
    Accepted {
        /// The record after the write.
        record: Record,
        /// Whether another writer had changed the record since the mutation's base (the
        /// strategy still took every field of this write).
        #[serde(default)]
        concurrent: bool,
    },
    /// Part or all of the write did not take effect because of a concurrent change.
    Conflict {
        /// How the conflict was resolved.
        resolution: Resolution,
        /// Register fields of the write that were not applied.
        #[serde(default)]
        fields_kept: Vec<String>,
        /// The record after resolution.
        record: Record,
    },
    /// The mutation can never take effect as sent (or not yet, when `retryable`).
    Rejected {
        /// Why.
        code: RejectCode,
        /// What is wrong, for a person.
        message: String,
        /// Whether sending it again later may succeed.
        retryable: bool,
        /// The record as it stands, when it exists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<Record>,
    },
}

impl MutationOutcome {
    /// The record the outcome carries, if any.
    pub fn record(&self) -> Option<&Record> {
        match self {
            MutationOutcome::Accepted { record, .. } | MutationOutcome::Conflict { record, .. } => Some(record),
            MutationOutcome::Rejected { record, .. } => record.as_ref(),
        }
    }

    /// The outcome as a client speaking protocol `version` receives it: its record without
    /// the fields of later versions.
    pub fn restrict_to(&mut self, version: u32) {
        let record = match self {
            MutationOutcome::Accepted { record, .. } | MutationOutcome::Conflict { record, .. } => Some(record),
            MutationOutcome::Rejected { record, .. } => record.as_mut(),
        };
        if let Some(record) = record {
            record.restrict_to(version);
        }
    }
}

/// How a conflict ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The server's values were kept for `fields_kept`; other parts of the write applied.
    KeptServer,
    /// The record was deleted concurrently; the write was discarded.
    Deleted,
    /// Nothing was applied: the user must choose (user-prompted strategy).
    NeedsUser,
}

/// Why a mutation was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// A create of an id that already exists with other content.
    AlreadyExists,
    /// An update or delete of a record the server does not have.
    NotFound,
    /// A reference names a parent that does not exist (yet: retryable).
    MissingParent,
    /// A reference names a deleted parent.
    ParentDeleted,
    /// `after` names a mutation the server has not applied yet.
    WaitingForPredecessor,
}
