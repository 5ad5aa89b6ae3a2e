//! Every class of bad input gets its own 4xx status and error code, and changes nothing.

use crate::support::{
    accepted, id, project_with_task, pull_uri, push_body, request, Device, Edit, Server, ALICE_TOKEN, START_MS,
};
use axum::body::Body;
use http::header::CONTENT_ENCODING;
use http::{Method, Request, StatusCode};
use protocol::{Entity, Mutation, MAX_BATCH, MAX_BODY_BYTES, MAX_PAGE, PULL_PATH, PUSH_PATH, VERSION_HEADER};
use reference_server::gzip;

/// A server holding alice's project `id(1)` and task `id(2)`, so that "changes nothing" has
/// something to compare.
async fn seeded() -> (Server, Device) {
    let server = Server::new();
    let phone = Device::alice("phone");
    project_with_task(&server, &phone, &id(1), &id(2)).await;
    (server, phone)
}

fn push(body: impl Into<Body>) -> Request<Body> {
    request(Method::POST, PUSH_PATH, ALICE_TOKEN).body(body.into()).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    request(Method::GET, uri, ALICE_TOKEN).body(Body::empty()).unwrap()
}

/// A push of a valid create followed by `bad`: the create must not be applied either.
fn valid_then(device: &Device, bad: Mutation) -> Request<Body> {
    push(push_body(&device.name, vec![device.create_project(&id(10), "valid"), bad]))
}

#[tokio::test]
async fn malformed_json_is_refused_with_400() {
    let (server, _) = seeded().await;

    let message = server
        .refuses(push(r#"{"device": "phone", "mutations": ["#), StatusCode::BAD_REQUEST, "malformed_request")
        .await;

    assert!(message.contains("not a valid request"), "{message}");
}

#[tokio::test]
async fn a_push_body_of_the_wrong_shape_is_malformed() {
    let (server, _) = seeded().await;

    server.refuses(push(r#"{"device": "phone"}"#), StatusCode::BAD_REQUEST, "malformed_request").await;
}

#[tokio::test]
async fn an_unknown_entity_is_refused_with_422() {
    let (server, phone) = seeded().await;
    let mut invoice = phone.create_project(&id(11), "bill");
    invoice.entity = "invoice".to_owned();

    let message = server.refuses(valid_then(&phone, invoice), StatusCode::UNPROCESSABLE_ENTITY, "unknown_entity").await;

    assert!(message.starts_with("mutations[1]"), "the message points at the mutation: {message}");
}

#[tokio::test]
async fn a_stamp_before_the_epoch_or_more_than_a_day_ahead_is_refused_with_422() {
    let (server, phone) = seeded().await;
    let stamped = |wall_ms: i64| {
        let mut update = phone.update(Entity::Task, &id(2), 2).field("title", "from the future");
        update.hlc.wall_ms = wall_ms;
        update
    };
    let day = protocol::MAX_AHEAD_MS;
    for (wall_ms, says) in
        [(i64::MAX, "ahead of this clock"), (START_MS + day + 1, "more than the 24 h"), (-1, "epoch")]
    {
        let message = server
            .refuses(valid_then(&phone, stamped(wall_ms)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
            .await;
        assert!(message.contains("mutations[1]: hlc.wall_ms") && message.contains(says), "{wall_ms}: {message}");
    }
    // A clock hours off, as phones have, is not refused.
    let hours_ahead = server.push_one(&phone, stamped(START_MS + day - 60_000)).await;
    assert_eq!(accepted(hours_ahead).fields["title"], "from the future");
}

#[tokio::test]
async fn an_unknown_field_is_refused_with_422() {
    let (server, phone) = seeded().await;
    let colour = phone.update(Entity::Task, &id(2), 2).field("colour", "red");

    server.refuses(valid_then(&phone, colour), StatusCode::UNPROCESSABLE_ENTITY, "unknown_field").await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_refused_with_422() {
    let (server, phone) = seeded().await;
    let done = phone.update(Entity::Task, &id(2), 2).field("done", "yes");

    server.refuses(valid_then(&phone, done), StatusCode::UNPROCESSABLE_ENTITY, "wrong_type").await;
}

#[tokio::test]
async fn an_increment_of_a_text_field_is_a_wrong_type() {
    let (server, phone) = seeded().await;
    let bump = phone.update(Entity::Task, &id(2), 2).increment("title", 1);

    server.refuses(valid_then(&phone, bump), StatusCode::UNPROCESSABLE_ENTITY, "wrong_type").await;
}

#[tokio::test]
async fn a_create_without_a_required_field_is_refused_with_422() {
    let (server, phone) = seeded().await;
    let mut untitled = phone.create_task(&id(3), &id(1), "title");
    untitled.changes.fields.remove("title");

    let message = server.refuses(valid_then(&phone, untitled), StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;

    assert!(message.contains("title"), "{message}");
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_an_invalid_value() {
    let (server, phone) = seeded().await;
    let bad_id = phone.create_project("project-1", "home");

    server.refuses(valid_then(&phone, bad_id), StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}

#[tokio::test]
async fn an_empty_device_name_is_an_invalid_value() {
    let (server, phone) = seeded().await;

    let body = push_body("", vec![phone.create_project(&id(10), "valid")]);
    server.refuses(push(body), StatusCode::BAD_REQUEST, "invalid_value").await;
}

#[tokio::test]
async fn one_invalid_mutation_in_a_batch_of_five_applies_nothing_of_the_batch() {
    let (server, phone) = seeded().await;
    let batch = vec![
        phone.create_project(&id(10), "garden"),
        phone.create_task(&id(11), &id(10), "dig"),
        phone.update(Entity::Task, &id(2), 2).field("done", 1),
        phone.update(Entity::Task, &id(2), 2).increment("pomodoros", 3),
        phone.delete(Entity::Project, &id(1), 1),
    ];

    let message =
        server.refuses(push(push_body(&phone.name, batch)), StatusCode::UNPROCESSABLE_ENTITY, "wrong_type").await;

    assert!(message.starts_with("mutations[2]"), "{message}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let (server, phone) = seeded().await;
    let huge = phone.create_project(&id(10), "home").field("description", "x".repeat(MAX_BODY_BYTES));

    server.refuses(valid_then(&phone, huge), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
}

#[tokio::test]
async fn a_gzip_body_that_inflates_over_the_limit_is_refused_with_413() {
    let (server, phone) = seeded().await;
    let huge = phone.create_project(&id(10), "home").field("description", "x".repeat(MAX_BODY_BYTES));
    let bomb = gzip(&push_body(&phone.name, vec![huge]));
    assert!(bomb.len() < MAX_BODY_BYTES / 100, "the compressed body itself is small");

    let request = request(Method::POST, PUSH_PATH, ALICE_TOKEN).header(CONTENT_ENCODING, "gzip");
    server.refuses(request.body(bomb.into()).unwrap(), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
}

#[tokio::test]
async fn a_corrupt_gzip_body_is_malformed() {
    let (server, phone) = seeded().await;
    let mut zipped = gzip(&push_body(&phone.name, vec![phone.create_project(&id(10), "valid")]));
    zipped.truncate(zipped.len() / 2);

    let request = request(Method::POST, PUSH_PATH, ALICE_TOKEN).header(CONTENT_ENCODING, "gzip");
    server.refuses(request.body(zipped.into()).unwrap(), StatusCode::BAD_REQUEST, "malformed_request").await;
}

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_with_413_and_a_full_batch_is_accepted() {
    let (server, phone) = seeded().await;
    let batch = |n: u32| (0..n).map(|i| phone.create_project(&id(100 + i), "p")).collect::<Vec<_>>();

    let too_many = push(push_body(&phone.name, batch(MAX_BATCH as u32 + 1)));
    server.refuses(too_many, StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large").await;

    let results = server.push(&phone, batch(MAX_BATCH as u32)).await;
    assert_eq!(results.len(), MAX_BATCH, "exactly MAX_BATCH is within the limit");
}

#[tokio::test]
async fn a_cursor_that_is_not_a_number_is_a_bad_cursor() {
    let (server, _) = seeded().await;

    for since in ["abc", "-1", "1.5", ""] {
        let uri = format!("{PULL_PATH}?entity=task&since={since}&limit=10");
        server.refuses(get(&uri), StatusCode::BAD_REQUEST, "bad_cursor").await;
    }
}

#[tokio::test]
async fn a_cursor_ahead_of_the_last_change_is_a_bad_cursor() {
    let (server, _) = seeded().await;
    let last = server.last_seq();

    let message =
        server.refuses(get(&pull_uri(Entity::Task, last + 1, 10)), StatusCode::BAD_REQUEST, "bad_cursor").await;

    assert!(message.contains("ahead"), "{message}");
    assert_eq!(server.pull(ALICE_TOKEN, Entity::Task, last, 10).await.changes, [], "the last cursor itself is fine");
}

#[tokio::test]
async fn a_limit_out_of_range_is_a_bad_query() {
    let (server, _) = seeded().await;

    for limit in ["0", &(MAX_PAGE + 1).to_string(), "ten", "-5"] {
        let uri = format!("{PULL_PATH}?entity=task&since=0&limit={limit}");
        server.refuses(get(&uri), StatusCode::BAD_REQUEST, "bad_query").await;
    }
}

#[tokio::test]
async fn a_pull_without_a_known_entity_or_with_an_unknown_parameter_is_a_bad_query() {
    let (server, _) = seeded().await;

    for query in ["since=0", "entity=invoice", "entity=task&page=2"] {
        server.refuses(get(&format!("{PULL_PATH}?{query}")), StatusCode::BAD_REQUEST, "bad_query").await;
    }
}

#[tokio::test]
async fn a_missing_protocol_version_is_refused_with_400() {
    let (server, _) = seeded().await;
    let mut request = get(&pull_uri(Entity::Task, 0, 10));
    request.headers_mut().remove(VERSION_HEADER);

    server.refuses(request, StatusCode::BAD_REQUEST, "unsupported_version").await;
}

#[tokio::test]
async fn an_unsupported_protocol_version_is_refused_with_400() {
    let (server, phone) = seeded().await;

    for version in ["4", "0", "one"] {
        let mut request = valid_then(&phone, phone.create_project(&id(11), "also valid"));
        request.headers_mut().insert(VERSION_HEADER, version.parse().unwrap());
        let message = server.refuses(request, StatusCode::BAD_REQUEST, "unsupported_version").await;
        assert!(message.contains("[1, 2, 3]"), "the refusal names the versions served: {message}");
    }
}

#[tokio::test]
async fn an_unsupported_content_encoding_is_refused_with_415() {
    let (server, phone) = seeded().await;
    let mut request = valid_then(&phone, phone.create_project(&id(11), "also valid"));
    request.headers_mut().insert(CONTENT_ENCODING, "br".parse().unwrap());

    server.refuses(request, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding").await;
}

#[tokio::test]
async fn an_unknown_path_is_a_404() {
    let (server, _) = seeded().await;

    server.refuses(get("/api/sync/everything"), StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_405() {
    let (server, _) = seeded().await;

    let message = server.refuses(get(PUSH_PATH), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert!(message.contains("GET is not allowed on /api/sync/push"), "{message}");
    let reply = server.send(get(PUSH_PATH)).await;
    assert_eq!(reply.headers.get(http::header::ALLOW).map(|v| v.to_str().unwrap()), Some("POST"), "allow names it");
}
