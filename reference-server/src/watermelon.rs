//! The WatermelonDB dialect, beside the reference protocol on the same store: the pull and
//! push of WatermelonDB's documented backend contract (`Sync/Backend.md`), so that its real
//! client (`synchronize()` with `pullChanges` and `pushChanges`) syncs with this server.
//!
//! ```text
//! GET  /watermelon/pull?last_pulled_at=<n|null>&schema_version=<v>&migration=<json|null>
//!      -> {"changes": {"projects": {"created": [], "updated": [raw..], "deleted": [id..]}, "tasks": {..}},
//!          "timestamp": n}
//! POST /watermelon/push?last_pulled_at=<n>   body: the same `changes` shape   -> 200 {}
//! ```
//!
//! The rules, each a way a WatermelonDB backend loses or resurrects data when it breaks it:
//! - a pull is one consistent read under the store's lock, and its `timestamp` is the
//!   number the next change will get (the latest of that read plus one, so never 0, which
//!   WatermelonDB refuses): it never goes back, and every change committed later is at or
//!   after it; a `last_pulled_at` of T means "every change from T on";
//! - each changed id appears once, in one list: a live record with every column of the
//!   schema version asked for (never `_status` or `_changed`), a deleted one by its id; the
//!   first pull (`null`) sends live records only;
//! - live records go in `updated` ([`Split::UpdatedOnly`], for clients with
//!   `sendCreatedAsUpdated`), or, the spec's literal split ([`Split::Literal`]), in
//!   `created` when this dialect created them after `last_pulled_at`. The literal split
//!   echoes a device's own create back as `created`, which un-deletes a record the device
//!   has deleted meanwhile (WatermelonDB issue #649): the setting exists to show it;
//! - a push is one transaction, refused whole (409) when any of its records changed on the
//!   server after `last_pulled_at`, or when it writes to a deleted record; `_status` and
//!   `_changed` are ignored; a `created` record that exists is updated (a retried push
//!   whose answer was lost), an `updated` one that does not is created, a `deleted` one
//!   that does not exist is ignored;
//! - a migration pull (`migration` names new tables and columns) also sends every record of
//!   those tables, and every record with a value in those columns, however old.
//!
//! Bad input is a 4xx that says what is wrong and changes nothing.

use crate::body::read_json;
pub use crate::config::Split;
use crate::error::{Error, Result};
use crate::state::{authenticate, AppState};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, StatusCode};
use protocol::{check_register, is_uuid, Entity, ErrorCode, Record, PROTOCOL_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The dialect's pull path.
pub const PULL_PATH: &str = "/watermelon/pull";
/// The dialect's push path.
pub const PUSH_PATH: &str = "/watermelon/push";

/// The WatermelonDB tables, and the entities they hold.
const TABLES: [(&str, Entity); 2] = [("projects", Entity::Project), ("tasks", Entity::Task)];

/// Columns a client may send that the server ignores (the client's own bookkeeping).
const BOOKKEEPING: [&str; 2] = ["_status", "_changed"];

fn table_of(entity: Entity) -> &'static str {
    TABLES.iter().find(|(_, e)| *e == entity).map(|(t, _)| *t).expect("every entity has a table")
}

fn entity_of(table: &str) -> Result<Entity> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, e)| *e).ok_or_else(|| {
        Error::bad_request(
            ErrorCode::UnknownEntity,
            format!("unknown table {table:?}; the tables are projects and tasks"),
        )
    })
}

/// The columns of `entity` at schema version `version`: its register fields.
fn columns(entity: Entity, version: u32) -> impl Iterator<Item = &'static str> {
    entity.fields_in(version).filter(|f| f.kind.is_register()).map(|f| f.name)
}

/// One table's changes, both ways.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableChanges {
    #[serde(default)]
    created: Vec<Map<String, Value>>,
    #[serde(default)]
    updated: Vec<Map<String, Value>>,
    #[serde(default)]
    deleted: Vec<String>,
}

#[derive(Serialize)]
struct PullResponse {
    changes: BTreeMap<&'static str, TableChanges>,
    timestamp: u64,
}

/// What a migration pull asks for besides the changes.
#[derive(Debug, Default, Deserialize)]
struct Migration {
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    columns: Vec<MigratedColumns>,
}

#[derive(Debug, Deserialize)]
struct MigratedColumns {
    table: String,
    columns: Vec<String>,
}

/// A pull's query.
#[derive(Debug)]
struct PullQuery {
    last_pulled_at: Option<u64>,
    schema_version: u32,
    migration: Option<Migration>,
}

fn bad_query(message: String) -> Error {
    Error::bad_request(ErrorCode::BadQuery, message)
}

/// The last change a client with `last_pulled_at` has seen (0: none).
fn seen_through(last_pulled_at: Option<u64>) -> u64 {
    last_pulled_at.map_or(0, |t| t.saturating_sub(1))
}

/// `null` or a number.
fn cursor(name: &str, value: &str) -> Result<Option<u64>> {
    match value {
        "null" | "" => Ok(None),
        number => number
            .parse()
            .map(Some)
            .map_err(|_| Error::bad_request(ErrorCode::BadCursor, format!("{name}={value:?} is not null or a number"))),
    }
}

fn parse_pull_query(raw: &str) -> Result<PullQuery> {
    let mut query = PullQuery { last_pulled_at: None, schema_version: 1, migration: None };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "last_pulled_at" => query.last_pulled_at = cursor(key, value)?,
            "schema_version" => match value.parse::<u32>() {
                Ok(v) if (1..=PROTOCOL_VERSION).contains(&v) => query.schema_version = v,
                _ => return Err(bad_query(format!("schema_version={value:?} must be 1 to {PROTOCOL_VERSION}"))),
            },
            "migration" => {
                let text = percent_decode(value).ok_or_else(|| bad_query("migration is not percent-encoded".into()))?;
                query.migration = match text.as_str() {
                    "null" | "" => None,
                    json => Some(
                        serde_json::from_str(json)
                            .map_err(|e| bad_query(format!("migration is not null or a migration: {e}")))?,
                    ),
                };
            }
            other => {
                return Err(bad_query(format!(
                    "unknown parameter {other:?}; expected last_pulled_at, schema_version, migration"
                )))
            }
        }
    }
    Ok(query)
}

/// `%XX` escapes (and `+` for a space) decoded; `None` on a malformed escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A record as WatermelonDB reads it: its id and every column, `null` when unset.
fn raw(record: &Record, version: u32) -> Map<String, Value> {
    let mut raw = Map::new();
    raw.insert("id".into(), Value::String(record.id.clone()));
    for column in columns(record.entity, version) {
        raw.insert(column.into(), record.fields.get(column).cloned().unwrap_or(Value::Null));
    }
    raw
}

/// Whether a migration pull must send `record` whatever its age.
fn migrated(record: &Record, migration: &Migration) -> bool {
    let table = table_of(record.entity);
    migration.tables.iter().any(|t| t == table)
        || migration.columns.iter().any(|c| {
            c.table == table && c.columns.iter().any(|col| record.fields.get(col).is_some_and(|v| !v.is_null()))
        })
}

pub(crate) async fn pull(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let user = authenticate(&state.config, &headers)?;
    let query = parse_pull_query(query.as_deref().unwrap_or(""))?;
    let since = seen_through(query.last_pulled_at);
    let (last, changed, all) = {
        let store = state.store.lock().expect("a panic while holding the store lock is a server bug");
        let last = store.last_seq()?;
        if since > last {
            return Err(Error::bad_request(
                ErrorCode::BadCursor,
                format!(
                    "last_pulled_at={} is ahead of the next change {}: this server did not issue it",
                    since + 1,
                    last + 1
                ),
            ));
        }
        let changed = store.changed_since(&user, since)?;
        let all = match &query.migration {
            Some(_) => store.records(&user)?,
            None => Vec::new(),
        };
        (last, changed, all)
    };
    let mut changes: BTreeMap<&'static str, TableChanges> =
        TABLES.iter().map(|(table, _)| (*table, TableChanges::default())).collect();
    let mut sent = BTreeSet::new();
    for (record, created_at) in &changed {
        let lists = changes.get_mut(table_of(record.entity)).expect("every entity has a table");
        sent.insert((record.entity, record.id.clone()));
        match (record.deleted, query.last_pulled_at) {
            (true, None) => {}
            (true, Some(_)) => lists.deleted.push(record.id.clone()),
            (false, _) if state.config.watermelon_split == Split::Literal && created_at.is_some_and(|c| c > since) => {
                lists.created.push(raw(record, query.schema_version))
            }
            (false, _) => lists.updated.push(raw(record, query.schema_version)),
        }
    }
    if let Some(migration) = &query.migration {
        for record in all.iter().filter(|r| !r.deleted && migrated(r, migration)) {
            if sent.insert((record.entity, record.id.clone())) {
                let lists = changes.get_mut(table_of(record.entity)).expect("every entity has a table");
                lists.updated.push(raw(record, query.schema_version));
            }
        }
    }
    tracing::info!(%user, since, timestamp = last + 1, changes = changed.len(), "watermelon pull");
    Ok(Json(PullResponse { changes, timestamp: last + 1 }).into_response())
}

/// One record a push writes, checked.
struct Write {
    entity: Entity,
    id: String,
    /// The columns it sets (a `created` and an `updated` record alike); `None` for a delete.
    fields: Option<BTreeMap<String, Value>>,
}

fn checked_id(table: &str, id: &Value) -> Result<String> {
    match id.as_str() {
        Some(id) if is_uuid(id) => Ok(id.to_owned()),
        _ => Err(Error::bad_request(
            ErrorCode::InvalidValue,
            format!("{table}: id {id} is not a UUID; this server's records are keyed by UUIDs"),
        )),
    }
}

/// The columns of one pushed record, checked against the schema.
fn checked_fields(table: &str, entity: Entity, raw: &Map<String, Value>) -> Result<BTreeMap<String, Value>> {
    let mut fields = BTreeMap::new();
    for (column, value) in raw {
        if column == "id" || BOOKKEEPING.contains(&column.as_str()) {
            continue;
        }
        check_register(entity, PROTOCOL_VERSION, column, value).map_err(|body| Error::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: protocol::ErrorBody::new(body.error, format!("{table}: {}", body.message)),
        })?;
        fields.insert(column.clone(), value.clone());
    }
    Ok(fields)
}

fn writes(pushed: BTreeMap<String, TableChanges>) -> Result<Vec<Write>> {
    let mut writes = Vec::new();
    for (table, lists) in pushed {
        let entity = entity_of(&table)?;
        for raw in lists.created.iter().chain(&lists.updated) {
            let id = checked_id(&table, raw.get("id").unwrap_or(&Value::Null))?;
            let fields = checked_fields(&table, entity, raw)?;
            writes.push(Write { entity, id, fields: Some(fields) });
        }
        for id in &lists.deleted {
            let id = checked_id(&table, &Value::String(id.clone()))?;
            writes.push(Write { entity, id, fields: None });
        }
    }
    Ok(writes)
}

fn conflict(message: String) -> Error {
    Error::refused(StatusCode::CONFLICT, ErrorCode::Conflict, message)
}

pub(crate) async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response> {
    let user = authenticate(&state.config, &headers)?;
    let mut last_pulled_at = None;
    for pair in query.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("last_pulled_at", value) => last_pulled_at = cursor("last_pulled_at", value)?,
            (other, _) => return Err(bad_query(format!("unknown parameter {other:?}; expected last_pulled_at"))),
        }
    }
    let since = seen_through(last_pulled_at);
    let pushed: BTreeMap<String, TableChanges> = read_json(&headers, body).await?;
    let writes = writes(pushed)?;
    let now_ms = state.config.clock.now_ms();
    let mut store = state.store.lock().expect("a panic while holding the store lock is a server bug");
    let written = store.write(|tx| {
        let mut current = Vec::with_capacity(writes.len());
        for write in &writes {
            let existing = tx.record(&user, write.entity, &write.id)?;
            let table = table_of(write.entity);
            if let Some(record) = existing.as_ref().filter(|r| r.version > since) {
                return Err(conflict(format!(
                    "{table} {} changed on the server (change {}) since last_pulled_at={}: pull, then push again",
                    write.id,
                    record.version,
                    since + 1
                )));
            }
            if write.fields.is_some() && existing.as_ref().is_some_and(|r| r.deleted) {
                return Err(conflict(format!(
                    "{table} {} is deleted on the server: it cannot be written again",
                    write.id
                )));
            }
            current.push(existing);
        }
        let mut count = 0;
        for (write, existing) in writes.iter().zip(current) {
            match (&write.fields, existing) {
                (None, None) => {}
                (None, Some(mut record)) => {
                    record.deleted = true;
                    record.version = tx.next_seq()?;
                    record.updated_at_ms = now_ms;
                    tx.put_record(&user, &record)?;
                    count += 1;
                }
                (Some(fields), existing) => {
                    let new = existing.is_none();
                    let mut record = existing.unwrap_or_else(|| {
                        let mut record = Record::empty(write.entity, write.id.clone());
                        record.created_at_ms = now_ms;
                        record
                    });
                    record.fields.retain(|name, _| !columns(write.entity, PROTOCOL_VERSION).any(|c| c == name));
                    record
                        .fields
                        .extend(fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())));
                    if let Some(missing) =
                        write.entity.fields().iter().find(|f| f.required && !record.fields.contains_key(f.name))
                    {
                        return Err(Error::refused(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            ErrorCode::MissingField,
                            format!("{} {}: {} is required", table_of(write.entity), write.id, missing.name),
                        ));
                    }
                    record.version = tx.next_seq()?;
                    record.updated_at_ms = now_ms;
                    tx.put_record(&user, &record)?;
                    if new {
                        tx.note_created(&user, write.entity, &write.id, record.version)?;
                    }
                    count += 1;
                }
            }
        }
        Ok(count)
    })?;
    tracing::info!(%user, since, records = written, "watermelon push");
    Ok(Json(serde_json::json!({})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_in_the_query_is_percent_decoded() {
        let raw = "last_pulled_at=7&schema_version=2&migration=%7B%22from%22%3A1%2C%22tables%22%3A%5B%22tasks%22%5D%7D";
        let query = parse_pull_query(raw).unwrap();
        assert_eq!((query.last_pulled_at, query.schema_version), (Some(7), 2));
        assert_eq!(query.migration.unwrap().tables, ["tasks"]);
        let first = parse_pull_query("last_pulled_at=null&schema_version=1&migration=null").unwrap();
        assert!(first.last_pulled_at.is_none() && first.migration.is_none());
    }

    #[test]
    fn a_malformed_query_is_named() {
        for (raw, says) in [
            ("last_pulled_at=yesterday", "not null or a number"),
            ("schema_version=0", "schema_version"),
            ("migration=%7Bnope", "migration"),
            ("migration=%zz", "percent-encoded"),
            ("since=3", "unknown parameter"),
        ] {
            let error = parse_pull_query(raw).unwrap_err().to_string();
            assert!(error.contains(says), "{raw}: {error}");
        }
    }
}
