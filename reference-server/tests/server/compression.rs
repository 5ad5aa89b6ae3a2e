use crate::support::{id, pull_uri, push_body, request, Device, Edit, Server, ALICE, ALICE_TOKEN};
use axum::body::Body;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use http::Method;
use protocol::{Entity, MutationOutcome, PullResponse, PushResponse, GZIP_THRESHOLD, PUSH_PATH};
use reference_server::gzip;

/// Enough tasks with long notes that a full pull is well over the gzip threshold.
async fn tasks_worth_a_big_page(server: &Server) {
    let phone = Device::alice("phone");
    let notes = "buy soil, repot the fern, water twice a week. ".repeat(8);
    let mut batch = vec![phone.create_project(&id(1), "home")];
    batch.extend((0..60).map(|n| phone.create_task(&id(100 + n), &id(1), "chore").field("notes", notes.as_str())));
    server.push(&phone, batch).await;
}

#[tokio::test]
async fn a_gzip_push_body_is_accepted() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let body = gzip(&push_body(&phone.name, vec![phone.create_project(&id(1), "home")]));

    let request = request(Method::POST, PUSH_PATH, ALICE_TOKEN).header(CONTENT_ENCODING, "gzip");
    let reply = server.send(request.body(Body::from(body)).unwrap()).await;

    let response: PushResponse = reply.ok();
    assert!(matches!(response.results[0].outcome, MutationOutcome::Accepted { .. }), "{response:?}");
    assert_eq!(server.record(ALICE, &id(1)).fields["name"], "home");
}

#[tokio::test]
async fn a_large_pull_response_is_gzipped_only_when_the_client_accepts_gzip() {
    let server = Server::new();
    tasks_worth_a_big_page(&server).await;
    let uri = pull_uri(Entity::Task, 0, 100);

    let plain = server.send(request(Method::GET, &uri, ALICE_TOKEN).body(Body::empty()).unwrap()).await;
    let accepting = request(Method::GET, &uri, ALICE_TOKEN).header(ACCEPT_ENCODING, "br, gzip");
    let zipped = server.send(accepting.body(Body::empty()).unwrap()).await;

    assert_eq!(plain.headers.get(CONTENT_ENCODING), None, "no accept-encoding, no compression");
    assert!(plain.body.len() > GZIP_THRESHOLD, "the page is {} bytes, over the threshold", plain.body.len());
    assert_eq!(zipped.headers[CONTENT_ENCODING], "gzip");
    assert!(zipped.body.len() < plain.body.len() / 2, "{} gzipped bytes", zipped.body.len());
    assert_eq!(zipped.plain_body(), plain.body, "the same page, compressed");
    assert_eq!(zipped.ok::<PullResponse>().changes.len(), 60);
}

#[tokio::test]
async fn gzip_with_a_quality_of_zero_is_refused_and_a_wildcard_accepts_it() {
    let server = Server::new();
    tasks_worth_a_big_page(&server).await;
    let uri = pull_uri(Entity::Task, 0, 100);
    for (accept, gzipped) in
        [("gzip;q=0", false), ("gzip; q=0.0, br", false), ("identity, gzip;q=0.5", true), ("*", true), ("GZIP", true)]
    {
        let request = request(Method::GET, &uri, ALICE_TOKEN).header(ACCEPT_ENCODING, accept);
        let reply = server.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(reply.headers.get(CONTENT_ENCODING).is_some(), gzipped, "accept-encoding: {accept}");
    }
}

#[tokio::test]
async fn a_small_pull_response_is_plain_even_when_the_client_accepts_gzip() {
    let server = Server::new();
    let phone = Device::alice("phone");
    server.push(&phone, vec![phone.create_project(&id(1), "home")]).await;

    let accepting =
        request(Method::GET, &pull_uri(Entity::Project, 0, 100), ALICE_TOKEN).header(ACCEPT_ENCODING, "gzip");
    let reply = server.send(accepting.body(Body::empty()).unwrap()).await;

    assert_eq!(reply.headers.get(CONTENT_ENCODING), None);
    assert!(reply.body.len() < GZIP_THRESHOLD);
    assert_eq!(reply.ok::<PullResponse>().changes.len(), 1);
}
