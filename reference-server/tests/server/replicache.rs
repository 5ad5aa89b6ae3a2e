//! The Replicache dialect: each rule of push and pull version 1, and each bad input a 4xx
//! that changes nothing.

use crate::support::{id, request, Server, ALICE, ALICE_TOKEN, BOB_TOKEN};
use http::{Method, StatusCode};
use reference_server::replicache::{PULL_PATH, PUSH_PATH};
use serde_json::{json, Value};

const GROUP: &str = "group-a";

fn post(path: &str, token: &str, body: &Value) -> http::Request<axum::body::Body> {
    request(Method::POST, path, token).body(serde_json::to_vec(body).unwrap().into()).unwrap()
}

fn push_body(group: &str, mutations: Vec<Value>) -> Value {
    json!({"profileID": "p1", "clientGroupID": group, "pushVersion": 1, "schemaVersion": "1", "mutations": mutations})
}

/// Mutation `n` of client `client`.
fn mutation(client: &str, n: u64, name: &str, args: Value) -> Value {
    json!({"clientID": client, "id": n, "name": name, "args": args, "timestamp": 12.5 * n as f64})
}

fn create_project(client: &str, n: u64, record: u32, name: &str) -> Value {
    mutation(client, n, "create", json!({"entity": "project", "id": id(record), "fields": {"name": name}}))
}

/// Pushes `mutations` as alice in `group`; the push must answer 200 `{}`.
async fn push(server: &Server, group: &str, mutations: Vec<Value>) {
    let reply = server.send(post(PUSH_PATH, ALICE_TOKEN, &push_body(group, mutations))).await;
    assert_eq!(reply.ok::<Value>(), json!({}));
}

async fn pull_as(server: &Server, token: &str, group: &str, cookie: Value) -> Value {
    let body =
        json!({"profileID": "p1", "clientGroupID": group, "cookie": cookie, "pullVersion": 1, "schemaVersion": "1"});
    server.send(post(PULL_PATH, token, &body)).await.ok()
}

async fn pull(server: &Server, cookie: Value) -> Value {
    pull_as(server, ALICE_TOKEN, GROUP, cookie).await
}

fn puts(pull: &Value) -> Vec<(String, Value)> {
    let patch = pull["patch"].as_array().expect("a patch");
    let put = patch.iter().filter(|op| op["op"] == "put");
    put.map(|op| (op["key"].as_str().unwrap().to_owned(), op["value"].clone())).collect()
}

#[tokio::test]
async fn a_first_pull_clears_and_puts_every_live_record_with_the_lmids_of_the_group() {
    let server = Server::new();
    let empty = pull(&server, Value::Null).await;
    assert_eq!(empty, json!({"cookie": 0, "lastMutationIDChanges": {}, "patch": [{"op": "clear"}]}));
    let task = json!({"entity": "task", "id": id(2), "fields": {"project_id": id(1), "title": "milk", "notes": null},
                      "increments": {"pomodoros": 2}, "set_add": {"labels": ["b", "a"]}});
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home"), mutation("c1", 2, "create", task)]).await;
    let first = pull(&server, Value::Null).await;
    assert_eq!(first["patch"][0], json!({"op": "clear"}));
    let expected_task = json!({"project_id": id(1), "title": "milk", "pomodoros": 2, "labels": ["a", "b"]});
    assert_eq!(
        puts(&first),
        vec![(format!("project/{}", id(1)), json!({"name": "Home"})), (format!("task/{}", id(2)), expected_task)]
    );
    assert_eq!(first["lastMutationIDChanges"], json!({"c1": 2}));
    assert_eq!(first["cookie"], json!(server.last_seq()), "the cookie is the store's change sequence");
}

#[tokio::test]
async fn a_re_sent_mutation_is_skipped_and_changes_nothing() {
    let server = Server::new();
    let increment = |n| {
        mutation(
            "c1",
            n,
            "update",
            json!({"entity": "project", "id": id(1), "increments": {}, "fields": {"description": format!("v{n}")}}),
        )
    };
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home"), increment(2)]).await;
    let before = server.last_seq();
    // The client re-sends everything a pull has not acknowledged yet, and then the next one.
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home"), increment(2)]).await;
    assert_eq!(server.last_seq(), before, "a re-send is no change");
    push(&server, GROUP, vec![increment(2), increment(3)]).await;
    assert_eq!(server.record(ALICE, &id(1)).fields["description"], "v3");
    assert_eq!(pull(&server, Value::Null).await["lastMutationIDChanges"], json!({"c1": 3}));
}

#[tokio::test]
async fn increments_run_once_per_mutation_across_re_sends() {
    let server = Server::new();
    let task = json!({"entity": "task", "id": id(2), "fields": {"project_id": id(1), "title": "t"}});
    let increment =
        |n| mutation("c1", n, "update", json!({"entity": "task", "id": id(2), "increments": {"pomodoros": 1}}));
    let batch = vec![create_project("c1", 1, 1, "Home"), mutation("c1", 2, "create", task), increment(3)];
    push(&server, GROUP, batch.clone()).await;
    push(&server, GROUP, batch).await;
    let first = pull(&server, Value::Null).await;
    assert_eq!(puts(&first)[1].1["pomodoros"], 1);
}

#[tokio::test]
async fn a_mutation_after_a_gap_is_ignored_until_the_ones_before_it_arrive() {
    let server = Server::new();
    push(&server, GROUP, vec![create_project("c1", 2, 2, "Later")]).await;
    assert!(server.records(ALICE).is_empty() && server.last_seq() == 0);
    push(&server, GROUP, vec![create_project("c1", 1, 1, "First"), create_project("c1", 2, 2, "Later")]).await;
    assert_eq!(server.records(ALICE).len(), 2);
}

#[tokio::test]
async fn a_mutation_refused_for_good_still_advances_the_last_mutation_id_and_the_cookie() {
    let server = Server::new();
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home")]).await;
    let cookie = pull(&server, Value::Null).await["cookie"].clone();
    let refused = vec![
        mutation("c1", 2, "rename", json!({"entity": "project", "id": id(1)})),
        mutation("c1", 3, "update", json!({"entity": "project", "id": id(1), "fields": {"colour": "red"}})),
        mutation("c1", 4, "update", json!({"entity": "project", "id": id(9), "fields": {"name": "nobody"}})),
        mutation("c1", 5, "create", json!({"entity": "task", "id": id(3), "fields": {"title": "no project"}})),
        mutation("c1", 6, "update", json!({"entity": "project", "id": id(1), "increments": {"name": 1}})),
        mutation("c1", 7, "create", json!({"entity": "project", "id": "not-a-uuid", "fields": {"name": "x"}})),
        mutation("c1", 8, "update", "no arguments".into()),
    ];
    push(&server, GROUP, refused).await;
    assert_eq!(server.record(ALICE, &id(1)).fields, [("name".to_owned(), json!("Home"))].into());
    assert_eq!(server.records(ALICE).len(), 1, "no effect");
    let next = pull(&server, cookie.clone()).await;
    assert!(next["cookie"].as_u64() > cookie.as_u64(), "the client must learn of the new lastMutationID");
    assert_eq!(next["lastMutationIDChanges"], json!({"c1": 8}));
    assert!(puts(&next).is_empty());
}

#[tokio::test]
async fn a_pull_sends_what_changed_after_its_cookie_and_deletes_as_del() {
    let server = Server::new();
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home"), create_project("c1", 2, 2, "Work")]).await;
    let cookie = pull(&server, Value::Null).await["cookie"].clone();
    push(&server, "group-b", vec![mutation("c2", 1, "delete", json!({"entity": "project", "id": id(1)}))]).await;
    let update = json!({"entity": "project", "id": id(1), "fields": {"name": "Home again"}});
    push(&server, "group-b", vec![mutation("c2", 2, "update", update)]).await;
    let next = pull(&server, cookie.clone()).await;
    assert_eq!(next["patch"], json!([{"op": "del", "key": format!("project/{}", id(1))}]), "a delete wins");
    assert_eq!(next["lastMutationIDChanges"], json!({}), "client c2 is of another group");
    assert!(next["cookie"].as_u64() > cookie.as_u64());
    let again = pull(&server, next["cookie"].clone()).await;
    assert_eq!((&again["cookie"], &again["patch"]), (&next["cookie"], &json!([])), "nothing new: the same cookie");
    let first = pull(&server, Value::Null).await;
    assert_eq!(puts(&first).len(), 1, "a first pull sends live records only");
}

#[tokio::test]
async fn set_elements_are_added_and_removed_by_element() {
    let server = Server::new();
    let labels = |n, args: Value| mutation("c1", n, "update", args);
    let task = json!({"entity": "task", "id": id(2), "fields": {"project_id": id(1), "title": "t"}, "set_add": {"labels": ["x"]}});
    push(
        &server,
        GROUP,
        vec![
            mutation("c1", 1, "create", task),
            labels(2, json!({"entity": "task", "id": id(2), "set_add": {"labels": ["y", "z"]}})),
            labels(3, json!({"entity": "task", "id": id(2), "set_remove": {"labels": ["x", "y"]}})),
        ],
    )
    .await;
    assert_eq!(puts(&pull(&server, Value::Null).await)[0].1["labels"], json!(["z"]));
    push(&server, GROUP, vec![labels(4, json!({"entity": "task", "id": id(2), "set_remove": {"labels": ["z"]}}))])
        .await;
    assert!(puts(&pull(&server, Value::Null).await)[0].1.get("labels").is_none(), "an empty set is left out");
}

#[tokio::test]
async fn versions_and_lost_state_are_answered_as_replicache_reads_them() {
    let server = Server::new();
    let mut body = push_body(GROUP, vec![create_project("c1", 1, 1, "Home")]);
    body["pushVersion"] = json!(0);
    let reply = server.send(post(PUSH_PATH, ALICE_TOKEN, &body)).await;
    assert_eq!(reply.ok::<Value>(), json!({"error": "VersionNotSupported", "versionType": "push"}));
    body["pushVersion"] = json!(1);
    body["schemaVersion"] = json!("7");
    let reply = server.send(post(PUSH_PATH, ALICE_TOKEN, &body)).await;
    assert_eq!(reply.ok::<Value>(), json!({"error": "VersionNotSupported", "versionType": "schema"}));
    assert_eq!(server.last_seq(), 0, "nothing applied");
    let ahead = pull(&server, json!(99)).await;
    assert_eq!(ahead, json!({"error": "ClientStateNotFound"}), "a cookie this server never issued");
    let body =
        json!({"profileID": "p", "clientGroupID": GROUP, "cookie": null, "pullVersion": 0, "schemaVersion": "1"});
    let reply = server.send(post(PULL_PATH, ALICE_TOKEN, &body)).await;
    assert_eq!(reply.ok::<Value>(), json!({"error": "VersionNotSupported", "versionType": "pull"}));
}

#[tokio::test]
async fn one_users_records_and_clients_never_reach_another() {
    let server = Server::new();
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Alice's")]).await;
    let bobs = pull_as(&server, BOB_TOKEN, "group-bob", Value::Null).await;
    assert_eq!(bobs["patch"], json!([{"op": "clear"}]));
    assert_eq!(bobs["lastMutationIDChanges"], json!({}));
}

#[tokio::test]
async fn each_bad_input_is_a_4xx_that_says_what_and_changes_nothing() {
    let server = Server::new();
    push(&server, GROUP, vec![create_project("c1", 1, 1, "Home")]).await;
    let push_cases = [
        (json!([1, 2]), ALICE_TOKEN, "not a valid request"),
        (json!({"clientGroupID": GROUP, "pushVersion": 1, "schemaVersion": "1"}), ALICE_TOKEN, "mutations"),
        (push_body(GROUP, vec![json!({"clientID": "c1", "id": "two", "name": "create"})]), ALICE_TOKEN, "id"),
        (push_body("group-z", vec![create_project("c1", 2, 2, "x")]), ALICE_TOKEN, "belongs to client group group-a"),
        (push_body(GROUP, vec![create_project("c9", 1, 2, "x")]), BOB_TOKEN, "another user"),
    ];
    for (body, token, says) in push_cases {
        let message = server.refuses(post(PUSH_PATH, token, &body), StatusCode::BAD_REQUEST, "malformed_request").await;
        assert!(message.contains(says), "{body}: {message}");
    }
    let pull_body = |cookie: Value| json!({"profileID": "p", "clientGroupID": GROUP, "cookie": cookie, "pullVersion": 1, "schemaVersion": "1"});
    let pull_cases = [
        (pull_body(json!("yesterday")), ALICE_TOKEN, "not null or a number"),
        (pull_body(Value::Null), BOB_TOKEN, "belongs to another user"),
        (json!({"clientGroupID": GROUP}), ALICE_TOKEN, "pullVersion"),
    ];
    for (body, token, says) in pull_cases {
        let message = server.refuses(post(PULL_PATH, token, &body), StatusCode::BAD_REQUEST, "malformed_request").await;
        assert!(message.contains(says), "{body}: {message}");
    }
    let anonymous =
        http::Request::builder().method(Method::POST).uri(PULL_PATH).body(axum::body::Body::empty()).unwrap();
    server.refuses(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let get = request(Method::GET, PULL_PATH, ALICE_TOKEN).body(axum::body::Body::empty()).unwrap();
    assert_eq!(server.send(get).await.status, StatusCode::METHOD_NOT_ALLOWED);
}
