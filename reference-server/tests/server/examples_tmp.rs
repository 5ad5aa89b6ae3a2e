use crate::support::*;
use axum::body::Body;
use http::Method;
use protocol::*;
use std::collections::BTreeSet;

fn show(title: &str, v: &impl serde::Serialize) {
    println!("### {title}\n{}\n", serde_json::to_string_pretty(v).unwrap());
}

async fn raw(server: &Server, req: http::Request<Body>, title: &str) {
    let reply = server.send(req).await;
    let v: serde_json::Value = serde_json::from_slice(&reply.plain_body()).unwrap();
    println!("### {title} -> {}\n{}\n", reply.status, serde_json::to_string_pretty(&v).unwrap());
}

#[tokio::test]
async fn print_examples() {
    let server = Server::with_strategies(Strategies::default());
    let phone = Device::alice("phone");
    let laptop = Device::alice("laptop");
    let p = id(1);
    let t = id(2);
    let create_p = phone.create_project(&p, "Home");
    let create_t = phone.create_task(&t, &p, "Water plants").add("labels", "garden").increment("pomodoros", 1);
    let edit = phone.update(Entity::Task, &t, 0).after(&create_t.key).field("done", true);
    let batch = vec![create_p, create_t, edit];
    show("push request", &PushRequest { device: "phone".into(), mutations: batch.clone() });
    let results = server.push(&phone, batch).await;
    show("push response", &PushResponse { results });

    let req = request(Method::GET, &pull_uri(Entity::Task, 0, 2), ALICE_TOKEN).body(Body::empty()).unwrap();
    raw(&server, req, "pull task since 0 limit 2").await;
    let req = request(Method::GET, &pull_uri(Entity::Project, 0, 1), ALICE_TOKEN).body(Body::empty()).unwrap();
    raw(&server, req, "pull project since 0 limit 1").await;

    // field merge on project: laptop stale edit of name + description
    let r = server.record(ALICE, &p);
    let a = phone.update(Entity::Project, &p, r.version).field("name", "Home & garden");
    server.push_one(&phone, a).await;
    let stale = laptop.update(Entity::Project, &p, r.version).field("name", "House").field("description", "Chores");
    show("stale project update", &stale);
    let out = server.push_one(&laptop, stale).await;
    show("field-merge conflict", &out);

    // OR-set remove with observed tags
    let rt = server.record(ALICE, &t);
    let obs: BTreeSet<Tag> = rt.sets["labels"].tags("garden");
    let rm = laptop.update(Entity::Task, &t, rt.version).remove("labels", "garden", obs).add("labels", "weekly");
    show("set remove request", &rm);
    let out = server.push_one(&laptop, rm).await;
    show("set remove result", &out);

    let orphan = phone.create_task(&id(3), &id(9), "Orphan");
    show("missing parent", &server.push_one(&phone, orphan).await);
    let wait = phone.update(Entity::Task, &id(3), 0).after("phone-99").field("title", "x");
    show("waiting", &server.push_one(&phone, wait).await);
    let dup = laptop.create_project(&p, "Again");
    show("already exists", &server.push_one(&laptop, dup).await);

    let up = Server::with_strategies(Strategies::uniform(Strategy::UserPrompted));
    project_with_task(&up, &phone, &id(1), &id(2)).await;
    let seen = up.record(ALICE, &id(2)).version;
    up.push_one(&phone, phone.update(Entity::Task, &id(2), seen).field("title", "A")).await;
    let st = laptop.update(Entity::Task, &id(2), seen).field("title", "B").increment("pomodoros", 1);
    show("needs user", &up.push_one(&laptop, st).await);

    // errors
    let mut bad = phone.update(Entity::Task, &t, 1).field("colour", "red");
    bad.key = "phone-50".into();
    let req = request(Method::POST, protocol::PUSH_PATH, ALICE_TOKEN).body(push_body("phone", vec![bad]).into()).unwrap();
    raw(&server, req, "unknown field").await;
    let req = request(Method::GET, &pull_uri(Entity::Task, 999, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
    raw(&server, req, "bad cursor").await;
    let req = request(Method::GET, &pull_uri(Entity::Task, 0, 10), "nope").body(Body::empty()).unwrap();
    raw(&server, req, "unauthorized").await;
    let mut req = request(Method::GET, &pull_uri(Entity::Task, 0, 10), ALICE_TOKEN).body(Body::empty()).unwrap();
    req.headers_mut().insert(VERSION_HEADER, "2".parse().unwrap());
    raw(&server, req, "version").await;
    let req = request(Method::GET, "/api/sync/nope", ALICE_TOKEN).body(Body::empty()).unwrap();
    raw(&server, req, "404").await;
    let req = request(Method::POST, protocol::PUSH_PATH, ALICE_TOKEN).body(Body::from("{\"device\":")).unwrap();
    raw(&server, req, "malformed").await;

    // purge
    let ps = Server::configured(|c| c.tombstone_horizon(std::time::Duration::from_secs(3600)));
    ps.push(&phone, vec![phone.create_project(&id(1), "Old"), phone.create_project(&id(2), "Kept")]).await;
    show("delete", &ps.push_one(&phone, phone.delete(Entity::Project, &id(1), 1)).await);
    ps.clock.advance(std::time::Duration::from_secs(7200));
    ps.push_one(&phone, phone.create_project(&id(3), "New")).await;
    let req = request(Method::GET, &pull_uri(Entity::Project, 1, 100), ALICE_TOKEN).body(Body::empty()).unwrap();
    raw(&ps, req, "reset pull").await;
}
