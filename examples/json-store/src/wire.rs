//! What the app and the server say to each other: two endpoints with JSON bodies.
//!
//! `POST /api/sync/push` carries a batch of mutations, each under the idempotency key its
//! app made when the user acted, and answers each key with its outcome. `GET
//! /api/sync/pull?since=N&limit=M` answers the records changed after change number `N`,
//! oldest change first, at most `M` of them. Both want `Authorization: Bearer <token>`.

use crate::record::Record;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use syncsim::{Operation, RecordKey};

/// The push endpoint. The server declares it (`ServerCapabilities::push_path`), so that
/// the harness can aim faults at pushes alone.
pub(crate) const PUSH_PATH: &str = "/v1/push";
/// The pull endpoint, declared likewise.
pub(crate) const PULL_PATH: &str = "/v1/pull";
/// The most mutations one push may carry.
pub(crate) const MAX_BATCH: usize = 500;
/// The largest page a pull may ask for; also the page it gets when it does not ask.
pub(crate) const MAX_PAGE: usize = 500;

/// One user write as queued and sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mutation {
    /// Made once, when the user acted; every retry sends the same key.
    pub(crate) key: String,
    /// What the user did.
    pub(crate) operation: Operation,
    /// The change number of the record as the user saw it (0 for one never pulled).
    pub(crate) base: u64,
}

/// The body of a push.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PushRequest {
    /// The pushing device.
    pub(crate) device: String,
    /// Applied in this order.
    pub(crate) mutations: Vec<Mutation>,
}

/// What the server did with one mutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// Applied, or absorbed by an earlier delete of its record.
    Applied {
        /// Whether it replaced a change of another device that its user had not seen
        /// (the last write to arrive won all the same).
        conflict: bool,
    },
    /// Refused for good; the reason is for the user.
    Refused {
        /// Why.
        reason: String,
    },
}

/// The answer to a push: the outcome of each mutation, by key.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PushResponse {
    /// One entry per pushed key.
    pub(crate) outcomes: BTreeMap<String, Outcome>,
}

/// The query of a pull.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PullQuery {
    /// The cursor: the last change number the app has.
    pub(crate) since: u64,
    /// The most changes to answer. Default: [`MAX_PAGE`].
    pub(crate) limit: Option<usize>,
}

/// One page of changes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PullResponse {
    /// Changed records (tombstones included) in change order, each as it is now.
    pub(crate) changes: Vec<(RecordKey, Record)>,
    /// The cursor to send next: the change number of the last change in the page.
    pub(crate) cursor: u64,
    /// Whether later changes remain.
    pub(crate) has_more: bool,
}
