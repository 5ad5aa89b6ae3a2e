//! The server: one `POST /sync` that applies a device's queued writes once each, by key, and
//! answers with the user's records. Its state is one JSON file.

use crate::apply::{apply, Queued};
use crate::file::{load, save};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use syncsim::{BoxError, ServerCapabilities, ServerEnv, ServerState, UserRecords};

/// The path of the one endpoint: a push and a pull in one request.
pub(crate) const SYNC_PATH: &str = "/sync";
/// The server's file in its data directory.
const DB_FILE: &str = "db.json";

/// The server's whole state: each user's records and every key already applied.
#[derive(Default, Serialize, Deserialize)]
struct Db {
    users: BTreeMap<String, UserRecords>,
    applied: BTreeSet<String>,
}

/// What the handler shares: the state, its file, and the users by token.
struct Shared {
    db: Mutex<Db>,
    path: PathBuf,
    tokens: BTreeMap<String, String>,
}

/// The json-store server: last write by arrival wins, counters add up.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonServer;

impl syncsim::Server for JsonServer {
    fn router(&self, env: &ServerEnv) -> Result<Router, BoxError> {
        let path = env.data_dir.join(DB_FILE);
        let tokens = env.credentials.iter().map(|c| (c.token.clone(), c.user.clone())).collect();
        let shared = Arc::new(Shared { db: Mutex::new(load(&path)?), path, tokens });
        Ok(Router::new().route(SYNC_PATH, post(sync)).with_state(shared))
    }

    fn state(&self, env: &ServerEnv) -> Result<ServerState, BoxError> {
        Ok(ServerState { users: load::<Db>(&env.data_dir.join(DB_FILE))?.users })
    }

    /// Last write by arrival, counters, and the one path that both pushes and pulls.
    fn capabilities(&self) -> ServerCapabilities {
        let (push_path, pull_path) = (Some(SYNC_PATH), Some(SYNC_PATH));
        ServerCapabilities { counters: true, push_path, pull_path, ..ServerCapabilities::default() }
    }
}

async fn sync(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(queue): Json<Vec<Queued>>,
) -> Result<Json<UserRecords>, (StatusCode, String)> {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(user) = shared.tokens.get(token) else {
        return Err((StatusCode::UNAUTHORIZED, "unknown token: send `authorization: TOKEN`".to_owned()));
    };
    let mut db = shared.db.lock().expect("no handler panics while holding the lock");
    for queued in queue {
        if db.applied.insert(queued.key) {
            apply(db.users.entry(user.clone()).or_default(), &queued.operation);
        }
    }
    save(&shared.path, &*db).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot save: {e}")))?;
    Ok(Json(db.users.get(user).cloned().unwrap_or_default()))
}
