//! One server, three protocol versions: version 2 added the task field `due_on`. A version 1
//! client never sees it, cannot write it, and its writes leave it as it is. Version 3 keeps
//! a set's removed tags per element; older clients get them as one list, cancelled for
//! every element, as they always did.

use crate::support::{
    id, project_with_task, pull_uri, push_body, request, Device, Edit, Server, ALICE_TOKEN, START_MS,
};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use protocol::{Entity, MutationOutcome, PullResponse, PushResponse, Record, PUSH_PATH, VERSION_HEADER};

const DUE: &str = "2026-12-01";

/// A request as a client of protocol `version` sends it.
fn speaking(version: u32, mut request: Request<Body>) -> Request<Body> {
    request.headers_mut().insert(VERSION_HEADER, version.to_string().parse().unwrap());
    request
}

fn push_as(version: u32, device: &Device, mutations: Vec<protocol::Mutation>) -> Request<Body> {
    let body = push_body(&device.name, mutations);
    speaking(version, request(Method::POST, PUSH_PATH, ALICE_TOKEN).body(body.into()).unwrap())
}

async fn pull_task_as(server: &Server, version: u32) -> Record {
    let get = request(Method::GET, &pull_uri(Entity::Task, 0, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
    let mut page: PullResponse = server.send(speaking(version, get)).await.ok();
    assert_eq!(page.changes.len(), 1, "alice has one task");
    page.changes.remove(0)
}

/// Alice's task `id(2)` with a due date set by a version 2 client.
async fn task_with_a_due_date() -> (Server, Device) {
    let server = Server::new();
    let phone = Device::alice("phone");
    project_with_task(&server, &phone, &id(1), &id(2)).await;
    let base = server.record("alice", &id(2)).version;
    server.push_one(&phone, phone.update(Entity::Task, &id(2), base).field("due_on", DUE)).await;
    (server, phone)
}

#[tokio::test]
async fn a_version_3_pull_carries_removed_tags_per_element_and_older_ones_one_list() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let create = phone.create_task(&id(2), &id(1), "plan").add("labels", "work").add("labels", "urgent");
    server.push(&phone, vec![phone.create_project(&id(1), "home"), create.clone()]).await;
    let seen = server.record("alice", &id(2));
    let observed = seen.sets["labels"].tags("work");
    server.push_one(&phone, phone.update(Entity::Task, &id(2), seen.version).remove("labels", "work", observed)).await;

    let new = pull_task_as(&server, 3).await;
    let old = pull_task_as(&server, 2).await;

    let tags = || std::collections::BTreeSet::from([create.key.clone()]);
    assert_eq!(new.sets["labels"].removed, [("work".to_owned(), tags())].into());
    assert_eq!(old.sets["labels"].removed, [(protocol::EVERY_ELEMENT.to_owned(), tags())].into());
    assert_eq!(old.sets["labels"].elements(), ["urgent"], "the element still added under the key shows");
    assert_eq!(new.sets["labels"].elements(), ["urgent"]);
}

#[tokio::test]
async fn a_version_1_pull_leaves_out_the_fields_of_version_2() {
    let (server, _) = task_with_a_due_date().await;

    let old = pull_task_as(&server, 1).await;
    let new = pull_task_as(&server, 2).await;

    assert_eq!(new.fields.get("due_on"), Some(&DUE.into()));
    assert!(new.stamps.contains_key("due_on"));
    assert!(!old.fields.contains_key("due_on") && !old.stamps.contains_key("due_on"), "{old:?}");
    assert_eq!(old.fields.get("title"), new.fields.get("title"), "the fields version 1 knows are the same");
}

#[tokio::test]
async fn a_version_1_client_setting_a_version_2_field_is_refused_with_422_and_changes_nothing() {
    let (server, phone) = task_with_a_due_date().await;
    let before = server.snapshot();
    let base = server.record("alice", &id(2)).version;

    let push = push_as(1, &phone, vec![phone.update(Entity::Task, &id(2), base).field("due_on", "2027-01-01")]);
    let message = server.refuses(push, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field").await;

    assert!(message.contains("task.due_on is not in protocol version 1"), "{message}");
    assert_eq!(server.snapshot(), before);
}

#[tokio::test]
async fn a_version_1_update_keeps_the_fields_it_does_not_know() {
    let (server, _) = task_with_a_due_date().await;
    // A minute later, so that its title wins under the tasks' last-write-wins.
    let old_phone = Device::alice("old-phone").clock_at(START_MS + 60_000);
    let base = server.record("alice", &id(2)).version;

    let reply = server
        .send(push_as(1, &old_phone, vec![old_phone.update(Entity::Task, &id(2), base).field("title", "renamed")]))
        .await;
    let answer: PushResponse = reply.ok();

    let stored = server.record("alice", &id(2));
    assert_eq!(stored.fields.get("title"), Some(&"renamed".into()));
    assert_eq!(stored.fields.get("due_on"), Some(&DUE.into()), "the old client's edit kept the due date");
    let MutationOutcome::Accepted { record, .. } = &answer.results[0].outcome else { panic!("{answer:?}") };
    assert!(!record.fields.contains_key("due_on"), "the answer to a version 1 client has no due date: {record:?}");
}
