//! Bearer tokens, and one user's records kept from every other user.

use crate::support::{
    accepted, id, project_with_task, pull_uri, rejected, request, Device, Edit, Server, ALICE, ALICE_TOKEN, BOB,
    BOB_TOKEN,
};
use axum::body::Body;
use http::header::AUTHORIZATION;
use http::{Method, StatusCode};
use protocol::{Entity, RejectCode};

#[tokio::test]
async fn a_request_without_a_token_is_unauthorized() {
    let server = Server::new();
    let mut request = request(Method::GET, &pull_uri(Entity::Task, 0, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
    request.headers_mut().remove(AUTHORIZATION);

    server.refuses(request, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn an_unknown_or_malformed_token_is_unauthorized() {
    let server = Server::new();
    let phone = Device::alice("phone");
    project_with_task(&server, &phone, &id(1), &id(2)).await;

    for authorization in ["Bearer mallory-token", "Basic YWxpY2U6c2VjcmV0", "alice-token", "Bearer "] {
        let mut request =
            request(Method::GET, &pull_uri(Entity::Task, 0, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
        request.headers_mut().insert(AUTHORIZATION, authorization.parse().unwrap());
        server.refuses(request, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let server = Server::new();
    for authorization in ["bearer alice-token", "BEARER alice-token", "Bearer alice-token"] {
        let mut request =
            request(Method::GET, &pull_uri(Entity::Task, 0, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
        request.headers_mut().insert(AUTHORIZATION, authorization.parse().unwrap());
        assert_eq!(server.send(request).await.status, StatusCode::OK, "{authorization}");
    }
}

#[tokio::test]
async fn another_users_records_are_never_pulled() {
    let server = Server::new();
    let (alice, bob) = (Device::alice("phone"), Device::bob("phone"));
    project_with_task(&server, &alice, &id(1), &id(2)).await;
    project_with_task(&server, &bob, &id(3), &id(4)).await;

    for (token, project, task) in [(ALICE_TOKEN, id(1), id(2)), (BOB_TOKEN, id(3), id(4))] {
        let projects = server.pull(token, Entity::Project, 0, 100).await.changes;
        let tasks = server.pull(token, Entity::Task, 0, 100).await.changes;
        let ids: Vec<&str> = projects.iter().chain(&tasks).map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [project.as_str(), task.as_str()], "{token} sees its own user's records only");
    }
}

#[tokio::test]
async fn another_users_record_cannot_be_updated_or_deleted() {
    let server = Server::new();
    let (alice, bob) = (Device::alice("phone"), Device::bob("laptop"));
    let task = project_with_task(&server, &alice, &id(1), &id(2)).await;
    let before = server.snapshot();

    let edit = bob.update(Entity::Task, &id(2), task.version).field("title", "mine now").increment("pomodoros", 9);
    let edited = server.push_one(&bob, edit).await;
    let deleted = server.push_one(&bob, bob.delete(Entity::Task, &id(2), task.version)).await;

    assert_eq!(edited.record(), None, "the rejection must not leak alice's record");
    assert_eq!(rejected(edited), (RejectCode::NotFound, false));
    assert_eq!(rejected(deleted), (RejectCode::NotFound, false));
    assert_eq!(server.snapshot(), before, "alice's record and the sequence are untouched");
}

#[tokio::test]
async fn the_same_id_under_two_users_is_two_records() {
    let server = Server::new();
    let (alice, bob) = (Device::alice("phone"), Device::bob("phone"));
    accepted(server.push_one(&alice, alice.create_project(&id(1), "alice's")).await);

    let bobs = accepted(server.push_one(&bob, bob.create_project(&id(1), "bob's")).await);

    assert_eq!(bobs.fields["name"], "bob's");
    assert_eq!(server.record(ALICE, &id(1)).fields["name"], "alice's");
    assert_eq!(server.record(BOB, &id(1)).fields["name"], "bob's");
}

#[tokio::test]
async fn an_idempotency_key_is_scoped_to_its_user() {
    let server = Server::new();
    let (alice, bob) = (Device::alice("phone"), Device::bob("phone"));
    let alices = alice.create_project(&id(1), "alice's");
    let bobs = bob.create_project(&id(2), "bob's");
    assert_eq!(alices.key, bobs.key, "both devices are named phone and made one mutation");
    server.push_one(&alice, alices).await;

    let record = accepted(server.push_one(&bob, bobs).await);

    assert_eq!((record.id.as_str(), &record.fields["name"]), (id(2).as_str(), &serde_json::json!("bob's")));
    assert_eq!(server.records(BOB).len(), 1, "bob's create was applied, not answered with alice's result");
}
