//! The WatermelonDB dialect: each rule of the backend contract, and each bad input a 4xx
//! that changes nothing.

use crate::support::{id, request, Server, ALICE, ALICE_TOKEN, BOB_TOKEN};
use axum::body::Body;
use http::{Method, StatusCode};
use reference_server::watermelon::{Split, PULL_PATH, PUSH_PATH};
use serde_json::{json, Value};

/// A pull after `last_pulled_at` (`None`: the first) as alice.
async fn pull(server: &Server, last_pulled_at: Option<u64>) -> Value {
    pull_as(server, ALICE_TOKEN, last_pulled_at, "null").await
}

async fn pull_as(server: &Server, token: &str, last_pulled_at: Option<u64>, migration: &str) -> Value {
    let at = last_pulled_at.map_or("null".to_owned(), |n| n.to_string());
    let uri = format!("{PULL_PATH}?last_pulled_at={at}&schema_version=1&migration={migration}");
    server.send(request(Method::GET, &uri, token).body(Body::empty()).unwrap()).await.ok()
}

fn push_request(last_pulled_at: u64, changes: &Value) -> http::Request<Body> {
    let uri = format!("{PUSH_PATH}?last_pulled_at={last_pulled_at}");
    request(Method::POST, &uri, ALICE_TOKEN).body(serde_json::to_vec(changes).unwrap().into()).unwrap()
}

/// Pushes `changes` as alice; the push must be accepted.
async fn push(server: &Server, last_pulled_at: u64, changes: Value) {
    let reply = server.send(push_request(last_pulled_at, &changes)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
}

fn project(id: &str, name: &str) -> Value {
    json!({"id": id, "_status": "created", "_changed": "", "name": name, "description": null, "archived": null})
}

fn created(projects: Vec<Value>) -> Value {
    json!({"projects": {"created": projects, "updated": [], "deleted": []}, "tasks": {"created": [], "updated": [], "deleted": []}})
}

fn list<'a>(pull: &'a Value, table: &str, which: &str) -> &'a Vec<Value> {
    pull["changes"][table][which].as_array().expect("every table has the three lists")
}

fn timestamp(pull: &Value) -> u64 {
    pull["timestamp"].as_u64().expect("a numeric timestamp")
}

#[tokio::test]
async fn an_empty_server_answers_a_first_pull_with_every_table_and_a_timestamp_of_at_least_one() {
    let server = Server::new();
    let first = pull(&server, None).await;
    assert_eq!(timestamp(&first), 1, "WatermelonDB refuses a timestamp of 0");
    for table in ["projects", "tasks"] {
        for which in ["created", "updated", "deleted"] {
            assert!(list(&first, table, which).is_empty(), "{table}.{which}");
        }
    }
}

#[tokio::test]
async fn pushed_records_come_back_in_updated_with_every_column_and_no_bookkeeping() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home")])).await;
    let first = pull(&server, None).await;
    assert!(list(&first, "projects", "created").is_empty(), "updated only, by default");
    let raw = &list(&first, "projects", "updated")[0];
    assert_eq!(raw, &json!({"id": id(1), "name": "Home", "description": null, "archived": null}));
    assert_eq!(timestamp(&first), server.last_seq() + 1, "the timestamp is the next change's number");
}

#[tokio::test]
async fn a_delete_goes_to_pulls_after_the_cursor_once_and_never_to_a_first_pull() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home"), project(&id(2), "Work")])).await;
    let before = timestamp(&pull(&server, None).await);
    let delete = json!({"projects": {"created": [], "updated": [], "deleted": [id(1)]}});
    push(&server, before, delete).await;
    let next = pull(&server, Some(before)).await;
    assert_eq!(list(&next, "projects", "deleted"), &vec![json!(id(1))]);
    assert!(list(&next, "projects", "updated").is_empty(), "each id once, in one list");
    let first = pull(&server, None).await;
    assert_eq!(list(&first, "projects", "updated").len(), 1, "the first pull sends live records only");
    assert!(list(&first, "projects", "deleted").is_empty());
    assert!(timestamp(&next) > before, "the timestamp moves on with each change");
}

#[tokio::test]
async fn a_push_over_a_newer_server_change_is_refused_whole() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home")])).await;
    let seen = timestamp(&pull(&server, None).await);
    let edit = |name: &str| json!({"projects": {"created": [], "updated": [{"id": id(1), "name": name, "_status": "updated", "_changed": "name"}], "deleted": []}});
    push(&server, seen, edit("Home, by the other device")).await;
    let mut stale = edit("Home, stale");
    stale["projects"]["created"] = json!([project(&id(2), "New")]);
    let message = server.refuses(push_request(seen, &stale), StatusCode::CONFLICT, "conflict").await;
    assert!(message.contains("changed on the server"), "{message}");
}

#[tokio::test]
async fn a_created_record_pushed_again_after_a_lost_answer_is_an_update_not_a_duplicate() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home")])).await;
    let seen = timestamp(&pull(&server, None).await);
    push(&server, seen, created(vec![project(&id(1), "Home again")])).await;
    let records = server.records(ALICE);
    assert_eq!(records.len(), 1, "one record");
    assert_eq!(records[0].fields["name"], json!("Home again"));
}

#[tokio::test]
async fn writing_to_a_record_deleted_on_the_server_is_refused() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home")])).await;
    let seen = timestamp(&pull(&server, None).await);
    push(&server, seen, json!({"projects": {"deleted": [id(1)]}})).await;
    let after = timestamp(&pull(&server, Some(seen)).await);
    let revive = json!({"projects": {"updated": [{"id": id(1), "name": "back"}]}});
    let message = server.refuses(push_request(after, &revive), StatusCode::CONFLICT, "conflict").await;
    assert!(message.contains("deleted on the server"), "{message}");
}

#[tokio::test]
async fn the_literal_split_echoes_a_devices_own_create_as_created() {
    let server = Server::configured(|config| config.watermelon_split(Split::Literal));
    let before = timestamp(&pull(&server, None).await);
    push(&server, before, created(vec![project(&id(1), "Home")])).await;
    let echo = pull(&server, Some(before)).await;
    assert_eq!(list(&echo, "projects", "created").len(), 1, "created after the cursor: in created");
    let later = pull(&server, Some(timestamp(&echo))).await;
    assert!(list(&later, "projects", "created").is_empty(), "older than the cursor: not created");
    let edit = json!({"projects": {"updated": [{"id": id(1), "name": "Home, edited"}]}});
    push(&server, timestamp(&echo), edit).await;
    let edited = pull(&server, Some(timestamp(&echo))).await;
    assert_eq!(list(&edited, "projects", "updated").len(), 1, "changed, created before the cursor: in updated");
}

#[tokio::test]
async fn a_migration_pull_sends_the_records_of_new_tables_and_columns_however_old() {
    let server = Server::new();
    let task = json!({"id": id(2), "project_id": id(1), "title": "Write", "notes": "draft"});
    let changes = json!({"projects": {"created": [project(&id(1), "Home")]}, "tasks": {"created": [task]}});
    push(&server, 1, changes).await;
    let now = timestamp(&pull(&server, None).await);
    let migration = "%7B%22from%22%3A1%2C%22tables%22%3A%5B%22projects%22%5D%2C%22columns%22%3A%5B%7B%22table%22%3A%22tasks%22%2C%22columns%22%3A%5B%22notes%22%5D%7D%5D%7D";
    let migrated = pull_as(&server, ALICE_TOKEN, Some(now), migration).await;
    assert_eq!(list(&migrated, "projects", "updated").len(), 1, "every record of a new table");
    assert_eq!(list(&migrated, "tasks", "updated").len(), 1, "every record with a value in a new column");
    assert!(list(&pull(&server, Some(now)).await, "tasks", "updated").is_empty(), "an ordinary pull sends none");
}

#[tokio::test]
async fn one_users_records_never_reach_another() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Alice's")])).await;
    let bobs = pull_as(&server, BOB_TOKEN, None, "null").await;
    assert!(list(&bobs, "projects", "updated").is_empty());
}

#[tokio::test]
async fn each_bad_input_is_a_4xx_that_says_what_and_changes_nothing() {
    let server = Server::new();
    push(&server, 1, created(vec![project(&id(1), "Home")])).await;
    let cases = [
        (json!({"notes": {"created": []}}), StatusCode::BAD_REQUEST, "unknown_entity", "unknown table"),
        (created(vec![project("tZZA38O4h6zczqQ6", "x")]), StatusCode::BAD_REQUEST, "invalid_value", "not a UUID"),
        (
            created(vec![json!({"id": id(2), "name": "x", "colour": "red"})]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            "colour",
        ),
        (created(vec![json!({"id": id(2), "name": 7})]), StatusCode::UNPROCESSABLE_ENTITY, "wrong_type", "name"),
        (
            created(vec![json!({"id": id(2), "description": "no name"})]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            "name is required",
        ),
        (json!({"projects": {"created": [], "renamed": []}}), StatusCode::BAD_REQUEST, "malformed_request", "renamed"),
        (json!([1, 2]), StatusCode::BAD_REQUEST, "malformed_request", "not a valid request"),
    ];
    for (body, status, code, says) in cases {
        let message = server.refuses(push_request(1_000, &body), status, code).await;
        assert!(message.contains(says), "{body}: {message}");
    }
    let uri = format!("{PULL_PATH}?last_pulled_at=999999&schema_version=1");
    let ahead = server
        .refuses(
            request(Method::GET, &uri, ALICE_TOKEN).body(Body::empty()).unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_cursor",
        )
        .await;
    assert!(ahead.contains("ahead of the next change"), "{ahead}");
    let uri = format!("{PULL_PATH}?last_pulled_at=null");
    let anonymous = http::Request::builder().method(Method::GET).uri(uri).body(Body::empty()).unwrap();
    server.refuses(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
