//! The server: an axum router over one JSON file per user.
//!
//! Each user's file holds their records (tombstones included), the number of their last
//! change, and the outcome of every mutation key ever applied. A push applies its batch
//! to a copy of the user's data and writes the copy whole before it answers, so a
//! mutation's effects and its remembered outcome are stored in one step: a replayed key is
//! answered from the file and never applied twice.

use crate::apply::{apply, refusal, Records};
use crate::error::{Error, Result};
use crate::file;
use crate::record::Record;
use crate::wire::{Mutation, Outcome, PullQuery, PullResponse, PushRequest, PushResponse, MAX_BATCH, MAX_PAGE};
use crate::wire::{PULL_PATH, PUSH_PATH};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use syncsim::{BoxError, ServerCapabilities, ServerEnv, ServerState, Strategies, Strategy};

/// The json-store server. It resolves concurrent register writes by arrival (the
/// `lww-arrival` strategy, for every entity); counters add; sets are observed-remove sets.
/// It keeps tombstones for good, which honours any tombstone horizon.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonServer;

/// The strategies json-store implements: last write wins by arrival, for both entities.
pub const STRATEGIES: Strategies =
    Strategies { project: Strategy::LastWriteWinsArrival, task: Strategy::LastWriteWinsArrival };

/// One user's data.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Account {
    /// The number of the user's last change: the next change gets the one after.
    seq: u64,
    records: Records,
    /// The outcome of every mutation applied, by idempotency key.
    outcomes: BTreeMap<String, Outcome>,
}

impl Account {
    /// Applies `mutation` from `device` once: a key seen before gets its first outcome again.
    fn push(&mut self, mutation: &Mutation, device: &str) -> Outcome {
        if let Some(outcome) = self.outcomes.get(&mutation.key) {
            return outcome.clone();
        }
        let outcome = match refusal(&self.records, &mutation.operation) {
            Some(reason) => Outcome::Refused { reason },
            None => {
                let conflict = self.records.get(&mutation.operation.key()).is_some_and(|r| met(r, mutation, device));
                if let Some(record) = apply(&mut self.records, &mutation.operation, &mutation.key) {
                    self.seq += 1;
                    record.seq = self.seq;
                    record.writer = device.to_owned();
                }
                Outcome::Applied { conflict }
            }
        };
        self.outcomes.insert(mutation.key.clone(), outcome.clone());
        outcome
    }

    /// The changes after `since`, oldest first, at most `limit`.
    fn pull(&self, since: u64, limit: usize) -> PullResponse {
        let mut changes: Vec<_> = self.records.iter().filter(|(_, r)| r.seq > since).collect();
        changes.sort_by_key(|(_, record)| record.seq);
        let has_more = changes.len() > limit;
        changes.truncate(limit);
        let cursor = changes.last().map_or(since, |(_, record)| record.seq);
        let changes = changes.into_iter().map(|(key, record)| (key.clone(), record.clone())).collect();
        PullResponse { changes, cursor, has_more }
    }
}

/// Whether `mutation` from `device` meets a conflict on `current`: it replaces values or
/// writes to a deleted record, and the record holds a change of another device that the
/// mutation's user had not seen. Counters and sets merge, so they never conflict.
fn met(current: &Record, mutation: &Mutation, device: &str) -> bool {
    let replaces = mutation.operation.changes().is_none_or(|changes| !changes.fields.is_empty());
    (replaces || current.deleted) && current.seq > mutation.base && current.writer != device
}

/// What every request handler shares.
struct Shared {
    dir: PathBuf,
    /// User by bearer token.
    users: BTreeMap<String, String>,
    /// Each user's data as last written to their file.
    accounts: Mutex<BTreeMap<String, Account>>,
}

fn account_path(dir: &Path, user: &str) -> PathBuf {
    dir.join(format!("{user}.json"))
}

impl Shared {
    fn user(&self, headers: &HeaderMap) -> Result<String> {
        let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = token.and_then(|v| v.strip_prefix("Bearer ")).ok_or(Error::Unauthorized)?;
        self.users.get(token).cloned().ok_or(Error::Unauthorized)
    }
}

async fn push(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(request): Json<PushRequest>,
) -> Result<Json<PushResponse>> {
    let user = shared.user(&headers)?;
    if request.mutations.len() > MAX_BATCH {
        return Err(Error::BadRequest(format!("a push carries at most {MAX_BATCH} mutations")));
    }
    // A panic cannot leave a half-applied batch behind: the batch goes to a copy.
    let mut accounts = shared.accounts.lock().unwrap_or_else(PoisonError::into_inner);
    let mut account = accounts.get(&user).cloned().unwrap_or_default();
    let outcomes = request.mutations.iter().map(|m| (m.key.clone(), account.push(m, &request.device))).collect();
    file::save(&account_path(&shared.dir, &user), &account)?;
    accounts.insert(user, account);
    Ok(Json(PushResponse { outcomes }))
}

async fn pull(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<PullQuery>,
) -> Result<Json<PullResponse>> {
    let user = shared.user(&headers)?;
    let limit = query.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::BadRequest(format!("limit must be from 1 to {MAX_PAGE}")));
    }
    let accounts = shared.accounts.lock().unwrap_or_else(PoisonError::into_inner);
    let page = accounts.get(&user).map(|account| account.pull(query.since, limit));
    Ok(Json(page.unwrap_or(PullResponse { changes: Vec::new(), cursor: query.since, has_more: false })))
}

impl syncsim::Server for JsonServer {
    fn router(&self, env: &ServerEnv) -> Result<Router, BoxError> {
        if env.strategies != STRATEGIES {
            return Err(format!("json-store resolves conflicts by arrival only, not {:?}", env.strategies).into());
        }
        std::fs::create_dir_all(&env.data_dir)?;
        let users: BTreeMap<String, String> =
            env.credentials.iter().map(|c| (c.token.clone(), c.user.clone())).collect();
        let mut accounts = BTreeMap::new();
        for user in users.values() {
            accounts.insert(user.clone(), file::load(&account_path(&env.data_dir, user))?);
        }
        let shared = Shared { dir: env.data_dir.clone(), users, accounts: Mutex::new(accounts) };
        Ok(Router::new().route(PUSH_PATH, post(push)).route(PULL_PATH, get(pull)).with_state(Arc::new(shared)))
    }

    /// Last write by arrival, counters and sets, and the paths of its two endpoints. No
    /// tombstone horizon: it keeps tombstones for good, so the re-sync of a device away past
    /// a horizon is never exercised, and the scenario about it does not apply.
    fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            strategies: STRATEGIES,
            counters: true,
            sets: true,
            push_path: Some(PUSH_PATH),
            pull_path: Some(PULL_PATH),
            ..ServerCapabilities::default()
        }
    }

    fn state(&self, env: &ServerEnv) -> Result<ServerState, BoxError> {
        let mut state = ServerState::default();
        for credential in &env.credentials {
            let account: Account = file::load(&account_path(&env.data_dir, &credential.user))?;
            let live = account.records.iter().filter(|(_, record)| !record.deleted);
            let records = live.map(|(key, record)| (key.clone(), record.visible())).collect();
            state.users.insert(credential.user.clone(), records);
        }
        Ok(state)
    }
}
