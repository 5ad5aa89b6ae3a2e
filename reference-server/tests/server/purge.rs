//! Tombstones older than the horizon are purged on pushes and pulls, and a client whose cursor is older than a
//! purge is told to re-sync instead of silently missing the deletion.

use crate::support::{accepted, id, rejected, Device, Edit, Server, ALICE, ALICE_TOKEN};
use protocol::{Entity, Mutation, RejectCode};
use std::time::Duration;

const HORIZON: Duration = Duration::from_secs(60 * 60);

/// Alice's projects `id(1)` (change 1, deleted as change 3) and `id(2)` (change 2), on a
/// server with a one-hour horizon; returns the create of `id(1)`.
async fn deleted_project(server: &Server, phone: &Device) -> Mutation {
    let create = phone.create_project(&id(1), "old");
    server.push(phone, vec![create.clone(), phone.create_project(&id(2), "kept")]).await;
    accepted(server.push_one(phone, phone.delete(Entity::Project, &id(1), 1)).await);
    assert_eq!(server.last_seq(), 3);
    create
}

/// The server after the tombstone of `id(1)` outlived the horizon and a push purged it.
async fn purged() -> (Server, Device, Mutation) {
    let server = Server::configured(|config| config.tombstone_horizon(HORIZON));
    let phone = Device::alice("phone");
    let create = deleted_project(&server, &phone).await;
    server.clock.advance(HORIZON * 2);
    server.push_one(&phone, phone.create_project(&id(3), "new")).await;
    (server, phone, create)
}

fn ids(server: &Server) -> Vec<String> {
    server.records(ALICE).into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn a_tombstone_older_than_the_horizon_is_purged_on_the_next_push() {
    let server = Server::configured(|config| config.tombstone_horizon(HORIZON));
    let phone = Device::alice("phone");
    deleted_project(&server, &phone).await;
    server.clock.advance(HORIZON * 2);
    assert!(server.record(ALICE, &id(1)).deleted, "nothing is purged until a request");

    server.push_one(&phone, phone.create_project(&id(3), "new")).await;

    assert_eq!(ids(&server), [id(2), id(3)]);
}

#[tokio::test]
async fn a_pull_purges_too_so_that_a_device_back_after_the_horizon_is_told_to_re_sync() {
    let server = Server::configured(|config| config.tombstone_horizon(HORIZON));
    let phone = Device::alice("phone");
    deleted_project(&server, &phone).await;
    server.clock.advance(HORIZON * 2);

    let page = server.pull(ALICE_TOKEN, Entity::Project, 1, 100).await;

    assert!(page.reset, "nobody pushed since the deletion aged, and the pull still purged it");
    assert_eq!(ids(&server), [id(2)]);
}

#[tokio::test]
async fn a_re_sync_ends_past_the_purge_and_is_not_told_to_re_sync_again() {
    let server = Server::configured(|config| config.tombstone_horizon(HORIZON));
    let phone = Device::alice("phone");
    deleted_project(&server, &phone).await;
    server.clock.advance(HORIZON * 2);
    assert!(server.pull(ALICE_TOKEN, Entity::Project, 1, 100).await.reset);

    let resync = server.pull(ALICE_TOKEN, Entity::Project, 0, 100).await;

    assert_eq!(resync.changes.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id(2)]);
    assert_eq!(resync.cursor, 3, "past the purged deletion (change 3), not at the last live record (change 2)");
    let next = server.pull(ALICE_TOKEN, Entity::Project, resync.cursor, 100).await;
    assert!(!next.reset && next.changes.is_empty(), "a re-synced device is done");
}

#[tokio::test]
async fn a_tombstone_younger_than_the_horizon_is_kept() {
    let server = Server::configured(|config| config.tombstone_horizon(HORIZON));
    let phone = Device::alice("phone");
    deleted_project(&server, &phone).await;
    server.clock.advance(HORIZON - Duration::from_secs(1));

    server.push_one(&phone, phone.create_project(&id(3), "new")).await;

    assert_eq!(ids(&server), [id(1), id(2), id(3)]);
    assert!(server.record(ALICE, &id(1)).deleted);
    assert!(!server.pull(ALICE_TOKEN, Entity::Project, 1, 100).await.reset);
}

#[tokio::test]
async fn a_cursor_older_than_the_purge_gets_a_reset() {
    let (server, _, _) = purged().await;

    let page = server.pull(ALICE_TOKEN, Entity::Project, 1, 100).await;

    assert!(page.reset, "cursor 1 never saw the deletion at change 3, which is gone");
    assert_eq!(page.purged_through, Some(3), "the page says how far the purge reached");
}

#[tokio::test]
async fn a_cursor_that_saw_the_deletion_gets_no_reset() {
    let (server, _, _) = purged().await;

    let page = server.pull(ALICE_TOKEN, Entity::Project, 3, 100).await;

    assert!(!page.reset);
    assert_eq!(page.changes.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id(3)]);
    let tasks = server.pull(ALICE_TOKEN, Entity::Task, 1, 100).await;
    assert!(!tasks.reset, "tasks lost no tombstone");
    assert_eq!(tasks.purged_through, Some(0), "nothing purged is 0, not absent");
}

#[tokio::test]
async fn a_full_pull_after_the_purge_does_not_return_the_purged_record() {
    let (server, _, _) = purged().await;

    let page = server.pull(ALICE_TOKEN, Entity::Project, 0, 100).await;

    assert!(!page.reset, "a pull from 0 is already the re-sync");
    assert_eq!(page.changes.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id(2), id(3)]);
}

#[tokio::test]
async fn a_purged_record_is_not_resurrected_by_a_replay_or_an_update() {
    let (server, phone, create) = purged().await;
    let seq = server.last_seq();

    let replay = accepted(server.push_one(&phone, create).await);
    let update = server.push_one(&phone, phone.update(Entity::Project, &id(1), 1).field("name", "back?")).await;

    assert_eq!(replay.version, 1, "the replay is answered from the idempotency table");
    assert_eq!(rejected(update), (RejectCode::NotFound, false));
    assert_eq!(ids(&server), [id(2), id(3)]);
    assert_eq!(server.last_seq(), seq);
}
