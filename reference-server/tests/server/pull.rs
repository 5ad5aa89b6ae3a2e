use crate::support::{id, Device, Edit, Server, ALICE_TOKEN};
use protocol::{Entity, PullResponse, Record};
use std::collections::BTreeSet;

const TASKS: u32 = 250;

/// One push, one transaction: a project and 250 tasks in it.
async fn many_tasks_in_one_push(server: &Server) -> Vec<String> {
    let phone = Device::alice("phone");
    let ids: Vec<String> = (1..=TASKS).map(|n| id(1_000 + n)).collect();
    let mut batch = vec![phone.create_project(&id(1), "home")];
    batch.extend(ids.iter().map(|task| phone.create_task(task, &id(1), "chore")));
    let results = server.push(&phone, batch).await;
    assert!(results.iter().all(|r| matches!(r.outcome, protocol::MutationOutcome::Accepted { .. })));
    ids
}

/// Pulls `entity` page by page after `since`, checking each page's cursor and `has_more`,
/// and returns every change and the final cursor.
async fn pull_all(server: &Server, entity: Entity, since: u64, limit: u32) -> (Vec<Record>, u64) {
    let (mut changes, mut cursor) = (Vec::new(), since);
    loop {
        let page: PullResponse = server.pull(ALICE_TOKEN, entity, cursor, limit).await;
        assert!(page.changes.len() <= limit as usize, "a page holds at most `limit` changes");
        assert!(!page.reset);
        let expected_cursor = page.changes.last().map_or(cursor, |r| r.version);
        assert_eq!(page.cursor, expected_cursor, "the cursor is the last change's sequence");
        if page.has_more {
            assert_eq!(page.changes.len(), limit as usize, "only a full page can have more after it");
        }
        changes.extend(page.changes);
        cursor = page.cursor;
        if !page.has_more {
            return (changes, cursor);
        }
    }
}

#[tokio::test]
async fn pages_return_each_change_of_one_big_transaction_exactly_once_in_sequence_order() {
    let server = Server::new();
    let ids = many_tasks_in_one_push(&server).await;

    for limit in [1, 7, 100, 250, 1_000] {
        let (changes, cursor) = pull_all(&server, Entity::Task, 0, limit).await;

        let pulled: Vec<&str> = changes.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(pulled, ids, "limit {limit}: every task once, in commit (= push) order");
        let versions: Vec<u64> = changes.iter().map(|r| r.version).collect();
        assert_eq!(versions, (2..=u64::from(TASKS) + 1).collect::<Vec<_>>(), "limit {limit}: one sequence each");
        assert_eq!(cursor, server.last_seq());
        let after_the_end = server.pull(ALICE_TOKEN, Entity::Task, cursor, limit).await;
        assert_eq!((after_the_end.changes, after_the_end.cursor, after_the_end.has_more), (vec![], cursor, false));
    }
}

#[tokio::test]
async fn a_pull_at_the_final_cursor_returns_an_empty_page() {
    let server = Server::new();
    many_tasks_in_one_push(&server).await;
    let last = server.last_seq();

    let page = server.pull(ALICE_TOKEN, Entity::Task, last, 7).await;

    assert_eq!((page.changes.len(), page.cursor, page.has_more, page.reset), (0, last, false, false));
}

#[tokio::test]
async fn a_page_boundary_exactly_at_the_end_reports_no_more() {
    let server = Server::new();
    many_tasks_in_one_push(&server).await;

    let page = server.pull(ALICE_TOKEN, Entity::Task, 1, TASKS).await;

    assert_eq!(page.changes.len(), TASKS as usize);
    assert!(!page.has_more, "a page that ends exactly at the last change has nothing after it");
}

#[tokio::test]
async fn each_entity_is_pulled_with_its_own_changes_only() {
    let server = Server::new();
    many_tasks_in_one_push(&server).await;

    let (projects, cursor) = pull_all(&server, Entity::Project, 0, 100).await;

    assert_eq!(projects.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [id(1)]);
    assert_eq!(cursor, 1);
}

#[tokio::test]
async fn a_record_changed_after_a_pull_comes_again_after_the_cursor_at_its_latest_state() {
    let server = Server::new();
    let ids = many_tasks_in_one_push(&server).await;
    let laptop = Device::alice("laptop");
    let first_page = server.pull(ALICE_TOKEN, Entity::Task, 0, 7).await;
    let edited = &first_page.changes[0];
    server.push_one(&laptop, laptop.update(Entity::Task, &edited.id, edited.version).field("done", true)).await;

    let (rest, _) = pull_all(&server, Entity::Task, first_page.cursor, 100).await;

    assert_eq!(rest.len(), ids.len() - 7 + 1, "the edited task is pulled again, once");
    let last = rest.last().expect("changes after the first page");
    assert_eq!((last.id.as_str(), &last.fields["done"]), (ids[0].as_str(), &serde_json::json!(true)));
    let seen: BTreeSet<&str> = first_page.changes.iter().chain(&rest).map(|r| r.id.as_str()).collect();
    assert_eq!(seen.len(), ids.len(), "nothing skipped across the concurrent change");
}
