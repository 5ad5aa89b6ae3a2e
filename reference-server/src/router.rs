//! The HTTP routes: pull and push, with the protocol version check and bearer auth.

use crate::apply::{apply, Context};
use crate::body::{json_response, read_json};
use crate::bug::Bug;
use crate::config::{ServerConfig, ServerStep};
use crate::error::{Error, Result};
use crate::state::{authenticate, AppState};
use crate::store::Store;
use crate::{replicache, watermelon};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use http::{HeaderMap, StatusCode};
use protocol::{
    validate_mutation_in, Entity, ErrorCode, PullQuery, PullResponse, PushRequest, PushResponse, MAX_BATCH, MAX_PAGE,
    PULL_PATH, PUSH_PATH, SUPPORTED_VERSIONS, VERSION_HEADER,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The sync server as an axum [`Router`] over `store`.
///
/// Routes: `GET /api/sync/pull`, `POST /api/sync/push` (see `PROTOCOL.md`), and beside them
/// on the same store the WatermelonDB dialect (`GET /watermelon/pull`, `POST
/// /watermelon/push`, see [`crate::watermelon`]) and the Replicache dialect (`POST
/// /replicache/push`, `POST /replicache/pull`, see [`crate::replicache`]). Every other path
/// is a JSON 404. Serve it with [`crate::serve`] (date header off) or any axum server.
pub fn app(store: Store, config: ServerConfig) -> Router {
    app_with_shared_store(Arc::new(Mutex::new(store)), config)
}

/// Shares one store between the router and a reader (tests, the simulation's checks).
pub fn app_with_shared_store(store: Arc<Mutex<Store>>, config: ServerConfig) -> Router {
    let state = AppState { store, config: Arc::new(config) };
    Router::new()
        .route(PULL_PATH, get(pull))
        .route(PUSH_PATH, post(push))
        .route(watermelon::PULL_PATH, get(watermelon::pull))
        .route(watermelon::PUSH_PATH, post(watermelon::push))
        .route(replicache::PUSH_PATH, post(replicache::push))
        .route(replicache::PULL_PATH, post(replicache::pull))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found() -> Error {
    Error::refused(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no such endpoint; use {PULL_PATH} or {PUSH_PATH}"),
    )
}

async fn method_not_allowed(method: http::Method, uri: http::Uri) -> Error {
    Error::refused(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {}: GET {PULL_PATH}, POST {PUSH_PATH}", uri.path()),
    )
}

async fn pull(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Result<Response> {
    let version = check_version(&headers)?;
    let user = authenticate(&state.config, &headers)?;
    let query = parse_pull_query(query.as_deref().unwrap_or(""))?;
    let mut page = read_page(&state, &user, &query)?;
    if let Some(hook) = &state.config.hook {
        hook.reached(ServerStep::PullRead).await;
    }
    if state.config.bugged(Bug::PullCursorReadApart) && !page.has_more {
        // The mutant's cursor: the store's newest change, read apart from the page's rows.
        let store = state.store.lock().expect("a panic while holding the store lock is a server bug");
        page.cursor = page.cursor.max(store.last_seq()?);
    }
    page.changes.iter_mut().for_each(|record| record.restrict_to(version));
    tracing::info!(%user, entity = %query.entity, since = query.since, changes = page.changes.len(), has_more = page.has_more, reset = page.reset, "pull");
    let response = PullResponse {
        changes: page.changes,
        cursor: page.cursor,
        has_more: page.has_more,
        reset: page.reset,
        purged_through: Some(page.purged_through),
    };
    Ok(json_response(&headers, &response))
}

/// The page `query` asks `user` for, read under one lock (the purge of old tombstones first).
fn read_page(state: &AppState, user: &str, query: &PullQuery) -> Result<crate::store::Page> {
    let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
    if let Some(horizon) = state.config.tombstone_horizon {
        // Purged here as on every push, so that a device back after the horizon is told to
        // re-sync even when nobody wrote meanwhile.
        let now_ms = state.config.clock.now_ms();
        store.write(|tx| tx.purge_tombstones(now_ms - horizon.as_millis() as i64))?;
    }
    let last = store.last_seq()?;
    let unchecked = [Bug::CursorByTimestamp, Bug::VersionsFromServerClock];
    if query.since > last && !unchecked.iter().any(|bug| state.config.bugged(*bug)) {
        return Err(Error::bad_request(
            ErrorCode::BadCursor,
            format!("cursor {} is ahead of the latest change {last}: this server did not issue it", query.since),
        ));
    }
    store.pull(user, query.entity, query.since, query.limit, state.config.planted())
}

async fn push(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response> {
    let version = check_version(&headers)?;
    let user = authenticate(&state.config, &headers)?;
    let mut request: PushRequest = read_json(&headers, body).await?;
    if request.device.is_empty() || request.device.len() > 64 {
        return Err(Error::bad_request(ErrorCode::InvalidValue, "device must be 1 to 64 characters"));
    }
    if request.mutations.len() > MAX_BATCH {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BatchTooLarge,
            format!("{} mutations in one push; at most {MAX_BATCH}", request.mutations.len()),
        ));
    }
    let entities = request
        .mutations
        .iter()
        .enumerate()
        .map(|(i, m)| {
            validate_mutation_in(m, version).map_err(|body| Error::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: protocol::ErrorBody::new(body.error, format!("mutations[{i}]: {}", body.message)),
            })
        })
        .collect::<Result<Vec<Entity>>>()?;
    let config = &state.config;
    if let Some(validator) = &config.validator {
        for (i, m) in request.mutations.iter().enumerate() {
            if let Some(why) = validator.refuses(m) {
                let message = format!("mutations[{i}]: {why}");
                return Err(Error::refused(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidValue, message));
            }
        }
    }
    let now_ms = config.clock.now_ms();
    for (i, m) in request.mutations.iter().enumerate() {
        if let Some(why) = protocol::implausible(&m.hlc, now_ms) {
            let message = format!("mutations[{i}]: {why}; set the device's clock right and push again");
            return Err(Error::refused(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidValue, message));
        }
    }
    if config.bugged(Bug::OldWritesResetUnknownFields) {
        reset_unknown_fields(&mut request, &entities, version);
    }
    let checked_apart = match config.bugged(Bug::IdempotencyCheckedApart) {
        true => Some(look_up_apart(&state, &user, &request).await?),
        false => None,
    };
    let cx =
        Context { user: &user, device: &request.device, now_ms, config, held_back: Default::default(), checked_apart };
    let results = {
        let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
        store.write(|tx| {
            if let Some(horizon) = config.tombstone_horizon {
                tx.purge_tombstones(now_ms - horizon.as_millis() as i64)?;
            }
            request
                .mutations
                .iter()
                .zip(entities)
                .map(|(m, entity)| apply(tx, &cx, entity, m))
                .collect::<Result<Vec<_>>>()
        })?
    };
    if let Some(hook) = &config.hook {
        hook.reached(ServerStep::PushCommitted).await;
    }
    let held_back = cx.held_back.take();
    if !held_back.is_empty() {
        let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
        store.write(|tx| held_back.iter().try_for_each(|(result, version)| tx.remember(&user, result, *version)))?;
    }
    let mut results = results;
    results.iter_mut().for_each(|result| result.outcome.restrict_to(version));
    tracing::info!(%user, device = %request.device, mutations = results.len(), "push");
    Ok(json_response(&headers, &PushResponse { results }))
}

/// The idempotency-checked-apart mutant's lookup: the keys of `request` the store has a
/// record of, read on their own, then an await (an async driver's round trip) before the
/// push is applied.
async fn look_up_apart(state: &AppState, user: &str, request: &PushRequest) -> Result<BTreeSet<String>> {
    let known = {
        let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
        store.write(|tx| {
            let mut known = BTreeSet::new();
            for m in &request.mutations {
                if tx.idempotent(user, &m.key)?.is_some() {
                    known.insert(m.key.clone());
                }
            }
            Ok(known)
        })?
    };
    tokio::task::yield_now().await;
    Ok(known)
}

/// The old-writes-reset-unknown-fields mutant: an older client's updates set every field
/// of later versions to null.
fn reset_unknown_fields(request: &mut PushRequest, entities: &[Entity], version: u32) {
    for (m, entity) in request.mutations.iter_mut().zip(entities) {
        if m.action != protocol::Action::Update {
            continue;
        }
        for def in entity.fields().iter().filter(|f| f.since > version && f.kind.is_register()) {
            m.changes.fields.entry(def.name.to_owned()).or_insert(serde_json::Value::Null);
        }
    }
}

fn check_version(headers: &HeaderMap) -> Result<u32> {
    let refuse = |what: String| {
        Error::bad_request(ErrorCode::UnsupportedVersion, format!("{what}; this server speaks {SUPPORTED_VERSIONS:?}"))
    };
    let Some(value) = headers.get(VERSION_HEADER) else {
        return Err(refuse(format!("missing {VERSION_HEADER} header")));
    };
    let version = value.to_str().ok().and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(v) if SUPPORTED_VERSIONS.contains(&v) => Ok(v),
        _ => Err(refuse(format!("{VERSION_HEADER}: {value:?} is not a supported version"))),
    }
}

fn parse_pull_query(raw: &str) -> Result<PullQuery> {
    let bad = |m: String| Error::bad_request(ErrorCode::BadQuery, m);
    let (mut entity, mut since, mut limit) = (None, None, None);
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "entity" => entity = Some(Entity::parse(value).ok_or_else(|| bad(format!("unknown entity {value:?}")))?),
            "since" => {
                let cursor = value.parse::<u64>().map_err(|_| {
                    Error::bad_request(
                        ErrorCode::BadCursor,
                        format!("since={value:?} is not a cursor (a sequence number)"),
                    )
                })?;
                since = Some(cursor);
            }
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => limit = Some(n),
                _ => return Err(bad(format!("limit={value:?} must be a whole number from 1 to {MAX_PAGE}"))),
            },
            other => return Err(bad(format!("unknown parameter {other:?}; expected entity, since, limit"))),
        }
    }
    Ok(PullQuery {
        entity: entity.ok_or_else(|| bad("missing entity parameter".into()))?,
        since: since.unwrap_or(0),
        limit: limit.unwrap_or(100),
    })
}
