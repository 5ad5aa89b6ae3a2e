//! The Replicache dialect, beside the reference protocol on the same store: push and pull
//! version 1 as Replicache 15.3 sends them (its "global version" backend strategy), so that
//! its real client syncs with this server, running the server halves of the mutators its
//! syncsim driver registers.
//!
//! ```text
//! POST /replicache/push  {"profileID","clientGroupID","pushVersion":1,"schemaVersion":"1",
//!                         "mutations":[{"clientID","id","name","args","timestamp"}..]}   -> 200 {}
//! POST /replicache/pull  {"profileID","clientGroupID","cookie":null|n,"pullVersion":1,"schemaVersion":"1"}
//!      -> 200 {"cookie":n,"lastMutationIDChanges":{clientID:n},"patch":[{"op":"clear"|"put"|"del",..}..]}
//! ```
//!
//! The rules, each a way a Replicache backend loses, duplicates or stalls data when it breaks
//! them:
//! - every client has a `lastMutationID`, stored with its client group and user; a push
//!   applies each mutation with `id = lastMutationID + 1`, in order, and skips the others: a
//!   client re-sends every mutation until a pull reports it, so re-sends are routine;
//! - a mutation's effects and its `lastMutationID` commit in one transaction (the whole push
//!   is one); a mutation the mutator refuses for good (unknown mutator, arguments it cannot
//!   take) still advances `lastMutationID` with no effect, or the client would re-send it for
//!   ever;
//! - the cookie is the store's change sequence: every record change and every
//!   `lastMutationID` change takes the next number, so a pull's cookie never goes back and
//!   changes whenever anything the client must learn changed (Replicache ignores a pull whose
//!   cookie equals its own);
//! - a pull is one read under the store's lock: the records changed after the cookie (`put`
//!   a live one, `del` a deleted one; a `null` cookie gets `clear` and every live record) and
//!   the `lastMutationID`s of the group's clients changed after it, so a mutation's effects
//!   reach the client in the same answer as its `lastMutationID`;
//! - a cookie ahead of the store (a server that lost its state) is answered
//!   `ClientStateNotFound`, another push or pull version, or a schema version this server
//!   does not serve, `VersionNotSupported` (both 200, as Replicache reads them);
//! - mutation timestamps are the client's process time: never used.
//!
//! The mutators are the server halves of the driver's (`drivers/replicache`): `create`,
//! `update` (register fields, counter increments, set adds and removes, by element) and
//! `delete`, on records keyed `entity/id` whose values are the visible fields (registers,
//! counters as numbers, sets as sorted arrays). An update or delete of a record that does
//! not exist or is deleted does nothing: a delete wins.
//!
//! A malformed request (not JSON, a missing field, a client claimed by another group or
//! user) is a 4xx that says what is wrong and changes nothing.

use crate::body::read_json;
use crate::bug::Bug;
use crate::error::{Error, Result};
use crate::state::{authenticate, AppState};
use crate::store::{ReplicacheClient, Tx};
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::HeaderMap;
use protocol::{check_register, is_uuid, Entity, ErrorCode, FieldKind, Record, SUPPORTED_VERSIONS};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The dialect's push path.
pub const PUSH_PATH: &str = "/replicache/push";
/// The dialect's pull path.
pub const PULL_PATH: &str = "/replicache/pull";

/// The push and pull version served: Replicache 15's "V1" (DD31).
const VERSION: u64 = 1;

#[derive(Debug, Deserialize)]
struct PushRequest {
    #[serde(rename = "clientGroupID")]
    client_group_id: String,
    #[serde(rename = "pushVersion")]
    push_version: u64,
    #[serde(rename = "schemaVersion")]
    schema_version: String,
    mutations: Vec<Mutation>,
}

#[derive(Debug, Deserialize)]
struct Mutation {
    #[serde(rename = "clientID")]
    client_id: String,
    id: u64,
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Debug, Deserialize)]
struct PullRequest {
    #[serde(rename = "clientGroupID")]
    client_group_id: String,
    #[serde(rename = "pullVersion")]
    pull_version: u64,
    #[serde(rename = "schemaVersion")]
    schema_version: String,
    cookie: Value,
}

/// What a mutator is given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    entity: String,
    id: String,
    #[serde(default)]
    fields: Map<String, Value>,
    #[serde(default)]
    increments: BTreeMap<String, i64>,
    #[serde(default)]
    set_add: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    set_remove: BTreeMap<String, Vec<String>>,
}

fn malformed(message: String) -> Error {
    Error::bad_request(ErrorCode::MalformedRequest, message)
}

/// The schema version a client asks for, as a protocol version this server serves.
fn schema(version: &str) -> Option<u32> {
    version.parse().ok().filter(|v| SUPPORTED_VERSIONS.contains(v))
}

/// Replicache's answer to a version it cannot serve (200: the client reads the body, calls
/// `onUpdateNeeded` and stops syncing).
fn version_not_supported(which: &str) -> Response {
    Json(json!({"error": "VersionNotSupported", "versionType": which})).into_response()
}

/// The client `id` of `user`'s group `group`: its stored state, or a new one. A client that
/// another group or user claims is refused.
fn client(tx: &Tx<'_>, user: &str, group: &str, id: &str) -> Result<ReplicacheClient> {
    match tx.replicache_client(id)? {
        Some(found) if found.user == user && found.group == group => Ok(found),
        Some(found) if found.user != user => {
            Err(malformed(format!("client {id} belongs to another user; a client syncs for one user")))
        }
        Some(found) => Err(malformed(format!(
            "client {id} belongs to client group {}, not {group}; a client never changes group",
            found.group
        ))),
        None => match tx.replicache_group_user(group)? {
            Some(owner) if owner != user => {
                Err(malformed(format!("client group {group} belongs to another user; a client syncs for one user")))
            }
            _ => Ok(ReplicacheClient { user: user.to_owned(), group: group.to_owned(), last_mutation_id: 0 }),
        },
    }
}

pub(crate) async fn push(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response> {
    let user = authenticate(&state.config, &headers)?;
    let request: PushRequest = read_json(&headers, body).await?;
    if request.push_version != VERSION {
        return Ok(version_not_supported("push"));
    }
    let Some(version) = schema(&request.schema_version) else { return Ok(version_not_supported("schema")) };
    let unchecked = state.config.bugged(Bug::ReplicacheLastMutationIdUnchecked);
    let now_ms = state.config.clock.now_ms();
    let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
    let (applied, refused) = store.write(|tx| {
        let mut clients: BTreeMap<&str, ReplicacheClient> = BTreeMap::new();
        let (mut applied, mut refused) = (0, 0);
        for mutation in &request.mutations {
            let id = mutation.client_id.as_str();
            if !clients.contains_key(id) {
                clients.insert(id, client(tx, &user, &request.client_group_id, id)?);
            }
            let known = clients.get_mut(id).expect("inserted above");
            let next = known.last_mutation_id + 1;
            if mutation.id > next || (mutation.id < next && !unchecked) {
                continue; // a re-send (or, past the next, one this server cannot have seen the ones before)
            }
            match run(tx, &user, version, mutation, now_ms) {
                Ok(()) => applied += 1,
                Err(why) => {
                    tracing::warn!(%user, client = id, mutation = mutation.id, %why, "mutation refused for good");
                    refused += 1;
                }
            }
            known.last_mutation_id = known.last_mutation_id.max(mutation.id);
            let seq = tx.next_seq()?;
            tx.put_replicache_client(id, known, seq)?;
        }
        Ok((applied, refused))
    })?;
    tracing::info!(%user, mutations = request.mutations.len(), applied, refused, "replicache push");
    Ok(Json(json!({})).into_response())
}

/// Runs one mutation's server half. An error is a permanent refusal: the mutation has no
/// effect (its `lastMutationID` still advances).
fn run(tx: &mut Tx<'_>, user: &str, version: u32, mutation: &Mutation, now_ms: i64) -> Result<(), String> {
    let args: Args = serde_json::from_value(mutation.args.clone())
        .map_err(|e| format!("{}: arguments {}: {e}", mutation.name, mutation.args))?;
    let entity = Entity::parse(&args.entity)
        .ok_or_else(|| format!("no entity {:?}; there are project and task", args.entity))?;
    if !is_uuid(&args.id) {
        return Err(format!("{entity} id {:?} is not a UUID", args.id));
    }
    let database = |e: Error| format!("the store failed: {e}");
    let existing = tx.record(user, entity, &args.id).map_err(database)?;
    let mut record = match (mutation.name.as_str(), existing) {
        ("create", Some(_)) => return Ok(()), // created before (ids are never reused): nothing to do
        ("create", None) => {
            let mut record = Record::empty(entity, args.id.clone());
            record.created_at_ms = now_ms;
            record
        }
        ("update" | "delete", None) => return Ok(()),
        ("update" | "delete", Some(record)) if record.deleted => return Ok(()), // a delete wins
        ("update" | "delete", Some(record)) => record,
        (other, _) => return Err(format!("no mutator {other:?}; there are create, update and delete")),
    };
    if mutation.name == "delete" {
        record.deleted = true;
    } else {
        change(&mut record, version, &args, &format!("{}:{}", mutation.client_id, mutation.id))?;
    }
    if mutation.name == "create" {
        if let Some(missing) = entity.fields().iter().find(|f| f.required && !record.fields.contains_key(f.name)) {
            return Err(format!("{entity} {}: {} is required", args.id, missing.name));
        }
    }
    record.version = tx.next_seq().map_err(database)?;
    record.updated_at_ms = now_ms;
    tx.put_record(user, &record).map_err(database)
}

/// Applies a create's or an update's changes to `record`, checked against the schema of
/// `version`; `tag` names the mutation (the tag of its set adds).
fn change(record: &mut Record, version: u32, args: &Args, tag: &str) -> Result<(), String> {
    let entity = record.entity;
    let kind = |name: &str, want: FieldKind, what: &str| match entity.field_in(name, version) {
        Some(def) if def.kind == want => Ok(()),
        _ => Err(format!("{entity} has no {what} field {name:?} in schema version {version}")),
    };
    for (name, value) in &args.fields {
        check_register(entity, version, name, value).map_err(|body| body.message)?;
        match value {
            Value::Null => record.fields.remove(name),
            value => record.fields.insert(name.clone(), value.clone()),
        };
    }
    for (name, delta) in &args.increments {
        kind(name, FieldKind::Counter, "counter")?;
        record.counters.entry(name.clone()).or_default().increment(tag, *delta);
    }
    for (name, elements) in &args.set_add {
        kind(name, FieldKind::Set, "set")?;
        let set = record.sets.entry(name.clone()).or_default();
        elements.iter().for_each(|element| set.add(element, tag));
    }
    for (name, elements) in &args.set_remove {
        kind(name, FieldKind::Set, "set")?;
        let set = record.sets.entry(name.clone()).or_default();
        for element in elements {
            let observed = set.tags(element);
            set.remove(element, &observed); // by element, as the server has it now
        }
    }
    Ok(())
}

/// A record as the client view holds it: its visible fields of schema `version`, registers
/// as they are, counters as numbers, sets as sorted arrays (an empty set left out).
fn value(record: &Record, version: u32) -> Value {
    let mut value = Map::new();
    for def in record.entity.fields_in(version) {
        let shown = match def.kind {
            FieldKind::Counter => record.counters.get(def.name).map(|c| json!(c.value())),
            FieldKind::Set => {
                record.sets.get(def.name).map(|s| s.elements()).filter(|e| !e.is_empty()).map(Value::from)
            }
            _ => record.fields.get(def.name).filter(|v| !v.is_null()).cloned(),
        };
        if let Some(shown) = shown {
            value.insert(def.name.to_owned(), shown);
        }
    }
    Value::Object(value)
}

fn key(record: &Record) -> String {
    format!("{}/{}", record.entity, record.id)
}

pub(crate) async fn pull(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response> {
    let user = authenticate(&state.config, &headers)?;
    let request: PullRequest = read_json(&headers, body).await?;
    if request.pull_version != VERSION {
        return Ok(version_not_supported("pull"));
    }
    let Some(version) = schema(&request.schema_version) else { return Ok(version_not_supported("schema")) };
    let since = match &request.cookie {
        Value::Null => None,
        cookie => Some(
            cookie
                .as_u64()
                .ok_or_else(|| malformed(format!("cookie {cookie} is not null or a number this server issued")))?,
        ),
    };
    let group = request.client_group_id.as_str();
    let store = state.store.lock().expect("a panic while holding the store lock is a server bug");
    let last = store.last_seq()?;
    if since.is_some_and(|since| since > last) {
        tracing::warn!(%user, group, ?since, last, "replicache pull with a cookie this server never issued");
        return Ok(Json(json!({"error": "ClientStateNotFound"})).into_response());
    }
    if let Some(owner) = store.replicache_group_user(group)?.filter(|owner| *owner != user) {
        tracing::warn!(%user, %owner, group, "replicache pull of another user's client group");
        return Err(malformed(format!("client group {group} belongs to another user")));
    }
    let mut patch = Vec::new();
    match since {
        None => {
            patch.push(json!({"op": "clear"}));
            let records = store.records(&user)?;
            patch.extend(records.iter().filter(|r| !r.deleted).map(|r| put(r, version)));
        }
        Some(since) => {
            for (record, _) in store.changed_since(&user, since)? {
                patch.push(match record.deleted {
                    true => json!({"op": "del", "key": key(&record)}),
                    false => put(&record, version),
                });
            }
        }
    }
    let changes: Map<String, Value> = store
        .replicache_last_mutation_ids(&user, group, since.unwrap_or(0))?
        .into_iter()
        .map(|(client, id)| (client, json!(id)))
        .collect();
    let cookie = match state.config.bugged(Bug::ReplicacheCookieFromLiveRows) {
        true => store.newest_live_record(&user)?,
        false => last,
    };
    tracing::info!(%user, group, ?since, cookie, ops = patch.len(), "replicache pull");
    Ok(Json(json!({"cookie": cookie, "lastMutationIDChanges": changes, "patch": patch})).into_response())
}

fn put(record: &Record, version: u32) -> Value {
    json!({"op": "put", "key": key(record), "value": value(record, version)})
}
