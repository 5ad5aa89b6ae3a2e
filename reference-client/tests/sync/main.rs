//! The reference client against the reference server on loopback TCP.

mod model;
mod scheduler;
mod support;

use protocol::{Entity, Strategies, Strategy};
use reference_client::{Changes, Choice, QueueStatus, Replica, SyncStatus};
use reference_server::ServerConfig;
use std::time::Duration;
use support::{sync_until_idle, until_killed, KillAt, TestServer};
use tempfile::TempDir;

const PROJECT: Entity = Entity::Project;
const TASK: Entity = Entity::Task;

/// A project with three tasks, each task's counter incremented, on `client`.
fn offline_work(client: &Replica) -> (String, Vec<String>) {
    let project = client.create(PROJECT, Changes::new().set("name", "Garden").add("tags", "home")).unwrap();
    let tasks = (0..3)
        .map(|i| {
            let id = client
                .create(TASK, Changes::new().set("project_id", project.as_str()).set("title", format!("task {i}")))
                .unwrap();
            client.update(TASK, &id, Changes::new().increment("pomodoros", i + 1).set("done", i % 2 == 0)).unwrap();
            id
        })
        .collect();
    (project, tasks)
}

/// `offline_work` on `phone`, then both devices synced: a shared starting point.
async fn shared_work(phone: &Replica, laptop: &Replica) -> (String, Vec<String>) {
    let work = offline_work(phone);
    sync_until_idle(phone, 3).await;
    sync_until_idle(laptop, 3).await;
    work
}

/// Asserts the device shows exactly the server's state for alice, its queue is drained and
/// no write of it failed (a replayed write must be answered, never refused).
fn assert_converged(server: &TestServer, client: &Replica) {
    let failed = client.queue(Some(QueueStatus::Failed)).unwrap();
    assert!(failed.is_empty(), "{} has failed writes: {failed:#?}", client.device());
    assert_eq!(
        client.visible_state().unwrap(),
        server.visible("alice"),
        "{} diverged from the server",
        client.device()
    );
    let open = client.queue(Some(QueueStatus::Pending)).unwrap().len()
        + client.queue(Some(QueueStatus::InFlight)).unwrap().len();
    assert_eq!(open, 0, "{}'s queue did not drain", client.device());
}

/// Ages every tombstone past a one-hour horizon, and has the laptop push one write (an
/// update of `record`, or a new project) so that the server purges them.
async fn purge_aged_tombstones(server: &TestServer, laptop: &Replica, changes: Changes, record: Option<&str>) {
    server.clock.advance(2 * 3_600_000);
    match record {
        Some(id) => laptop.update(TASK, id, changes).unwrap(),
        None => {
            laptop.create(PROJECT, changes).unwrap();
        }
    }
    sync_until_idle(laptop, 3).await;
}

/// A server with a one-hour tombstone horizon, and the configuration of a phone that pulls
/// pages of two records: a re-sync of a few records takes several pages.
async fn horizon_and_a_phone_of_small_pages(dir: &TempDir) -> (TestServer, reference_client::ClientConfig) {
    let server = TestServer::with_users(ServerConfig::default().tombstone_horizon(Duration::from_secs(3_600))).await;
    let mut config = server.config(dir, "phone", "a1");
    config.page_size = 2;
    (server, config)
}

#[tokio::test]
async fn offline_writes_reach_the_server_once_and_the_device_converges() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let (_, tasks) = offline_work(&phone);
    assert_eq!(phone.status().unwrap().pending, 7, "1 project + 3 creates + 3 updates queued");
    let report = phone.sync().await.unwrap();
    assert_eq!(report.tally.accepted, 7);
    assert!(report.bytes_sent > 0 && report.bytes_received > 0);
    assert_eq!(server.records("alice").len(), 4);
    let task = phone.get(TASK, &tasks[2]).unwrap().unwrap();
    assert_eq!(task.fields["pomodoros"], 3);
    assert_eq!(task.sync_status, SyncStatus::Synced);
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

/// A kill at any named step of a round, then a restart on the same files, loses nothing and
/// applies nothing twice: the counters make a double application visible.
#[tokio::test]
async fn a_kill_at_each_sync_step_loses_nothing_and_duplicates_nothing() {
    let steps = [
        ("pull_starting", 1),
        ("pull_page_received", 2),
        ("pull_page_applied", 2),
        ("push_starting", 1),
        ("push_response_received", 1),
        ("push_acknowledged", 1),
    ];
    for (step, nth) in steps {
        let server = TestServer::with_users(ServerConfig::default()).await;
        let dir = TempDir::new().unwrap();
        let laptop = server.device(&dir, "laptop", "a2");
        offline_work(&laptop);
        laptop.sync().await.unwrap();
        let mut config = server.config(&dir, "phone", "a1");
        config.page_size = 2;
        let hook = KillAt::new(step, nth);
        config.hook = Some(hook.clone());
        let phone = Replica::open(config.clone()).unwrap();
        let (_, tasks) = offline_work(&phone);
        until_killed(&phone, &hook).await;
        drop(phone);
        config.hook = None;
        let phone = Replica::open(config).unwrap();
        sync_until_idle(&phone, 5).await;
        assert_eq!(server.records("alice").len(), 8, "killed at {step}: two projects and six tasks, each once");
        let pomodoros = server.visible("alice")[&(TASK, tasks[1].clone())]["pomodoros"].clone();
        assert_eq!(pomodoros, 2, "killed at {step}: the increment must apply exactly once");
        assert_converged(&server, &phone);
        laptop.sync().await.unwrap();
        assert_converged(&server, &laptop);
    }
}

#[tokio::test]
async fn a_conflict_is_resolved_by_the_declared_strategy_on_every_replica() {
    let strategies = Strategies { project: Strategy::FieldMerge, task: Strategy::LastWriteWinsHlc };
    let server = TestServer::with_users(ServerConfig::default().strategies(strategies)).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let (project, tasks) = offline_work(&phone);
    sync_until_idle(&phone, 3).await;
    let laptop_config = server.config(&dir, "laptop", "a2");
    let laptop_clock = support::TestClock::at(1_000_000);
    let laptop =
        Replica::open(reference_client::ClientConfig { clock: laptop_clock.clone(), ..laptop_config }).unwrap();
    sync_until_idle(&laptop, 3).await;
    // Both edit offline; the laptop's edit is later on its clock, so it wins under lww-hlc
    // even though it reaches the server first... and the phone's, earlier, loses.
    laptop_clock.advance(60_000);
    laptop.update(TASK, &tasks[0], Changes::new().set("title", "laptop title")).unwrap();
    phone.update(TASK, &tasks[0], Changes::new().set("title", "phone title")).unwrap();
    laptop.update(PROJECT, &project, Changes::new().set("description", "from the laptop")).unwrap();
    phone.update(PROJECT, &project, Changes::new().set("name", "Allotment")).unwrap();
    laptop.sync().await.unwrap();
    let report = phone.sync().await.unwrap();
    assert_eq!(report.tally.conflicts, 1, "the phone's stale title loses under lww-hlc");
    sync_until_idle(&laptop, 3).await;
    sync_until_idle(&phone, 3).await;
    let seen = server.visible("alice");
    assert_eq!(seen[&(TASK, tasks[0].clone())]["title"], "laptop title");
    assert_eq!(seen[&(PROJECT, project.clone())]["name"], "Allotment", "field merge keeps disjoint edits");
    assert_eq!(seen[&(PROJECT, project)]["description"], "from the laptop");
    assert_converged(&server, &phone);
    assert_converged(&server, &laptop);
    let conflicts = phone.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1, "the overridden write is surfaced, not silent");
    assert_eq!(conflicts[0].fields_kept, vec!["title".to_owned()]);
}

#[tokio::test]
async fn a_user_prompted_conflict_waits_for_the_user_and_their_choice_wins() {
    let config = ServerConfig::default().strategies(Strategies::uniform(Strategy::UserPrompted));
    let server = TestServer::with_users(config).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let laptop = server.device(&dir, "laptop", "a2");
    let (_, tasks) = shared_work(&phone, &laptop).await;
    laptop.update(TASK, &tasks[1], Changes::new().set("title", "theirs")).unwrap();
    phone.update(TASK, &tasks[1], Changes::new().set("title", "mine").increment("pomodoros", 10)).unwrap();
    laptop.sync().await.unwrap();
    phone.sync().await.unwrap();
    let status = phone.status().unwrap();
    assert_eq!((status.conflicts, status.pending), (1, 0));
    let task = phone.get(TASK, &tasks[1]).unwrap().unwrap();
    assert_eq!(task.sync_status, SyncStatus::Conflict);
    assert_eq!(task.fields["title"], "theirs", "nothing of the conflicting write applies until the user chooses");
    assert_eq!(task.fields["pomodoros"], 12, "counter increments never conflict");
    let conflict = phone.conflicts().unwrap().into_iter().find(|c| c.needs_user).unwrap();
    phone.resolve_conflict(conflict.id, Choice::Mine).unwrap();
    sync_until_idle(&phone, 3).await;
    sync_until_idle(&laptop, 3).await;
    assert_eq!(server.visible("alice")[&(TASK, tasks[1].clone())]["title"], "mine");
    assert_converged(&server, &phone);
    assert_converged(&server, &laptop);
    assert_eq!(phone.status().unwrap().conflicts, 0);
}

#[tokio::test]
async fn server_errors_count_as_retries_until_the_mutation_fails_and_is_surfaced() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let mut config = server.config(&dir, "phone", "a1");
    config.max_retries = 3;
    let phone = Replica::open(config).unwrap();
    let project = phone.create(PROJECT, Changes::new().set("name", "Doomed")).unwrap();
    server.push_unavailable.store(true, std::sync::atomic::Ordering::SeqCst);
    for round in 1..=3 {
        let err = phone.sync().await.expect_err("the server is down");
        assert!(err.to_string().contains("503"), "round {round}: {err}");
        let wait = phone.retry_at().map(|at| at - tokio::time::Instant::now());
        assert!(wait.is_some_and(|w| w >= Duration::from_millis(200 << round)), "round {round} backs off: {wait:?}");
    }
    let status = phone.status().unwrap();
    assert_eq!((status.pending, status.failed), (0, 1), "after 3 retryable errors the write is failed, not dropped");
    server.push_unavailable.store(false, std::sync::atomic::Ordering::SeqCst);
    let later = phone.create(PROJECT, Changes::new().set("name", "Fine")).unwrap();
    sync_until_idle(&phone, 3).await;
    assert!(server.visible("alice").contains_key(&(PROJECT, later)), "a failed write never blocks the rest");
    assert!(phone.get(PROJECT, &project).unwrap().is_none(), "the failed create is not shown as if it were synced");
    assert_eq!(phone.retry_failed().unwrap(), 1);
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
    assert!(server.visible("alice").contains_key(&(PROJECT, project)), "retrying the failed write delivers it");
}

/// Two rounds asked for at once (a background task during a foreground sync) take turns,
/// and the second waits out the backoff the first left when the server refused it: before
/// the fix, the second checked the backoff before it waited for the first, and sent its
/// requests the moment the first was refused.
#[tokio::test]
async fn a_round_asked_for_during_another_waits_for_it_and_for_its_backoff() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = Replica::open(server.config(&dir, "phone", "a1")).unwrap();
    phone.create(PROJECT, Changes::new().set("name", "Twice")).unwrap();
    server.push_unavailable.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    let (first, second) = tokio::join!(phone.sync(), phone.sync());
    let (first, second) = (first.expect_err("the server is down"), second.expect_err("still down"));
    assert!(first.to_string().contains("503") && second.to_string().contains("503"), "{first}; {second}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "the second round waited out the first's backoff: {took:?}");
}

/// A server that no longer accepts the task field `notes` (a deploy that dropped it).
struct NoNotes;

impl reference_server::Validator for NoNotes {
    fn refuses(&self, mutation: &protocol::Mutation) -> Option<String> {
        mutation.changes.fields.contains_key("notes").then(|| "the field notes is no longer accepted".to_owned())
    }
}

/// A write the server refuses outright (a 4xx for its push: a field it no longer accepts)
/// fails alone: the writes chained after it on the same record go on without it (they wait
/// only for what it waited for, here nothing). Before the
/// fix they kept waiting for it, were refused as waiting for a predecessor until they failed
/// at the retry limit, and a delete among them left the record shown for good.
#[tokio::test]
async fn a_write_refused_for_ever_does_not_hold_up_the_writes_chained_after_it() {
    let server = TestServer::with_users(ServerConfig::default().validator(std::sync::Arc::new(NoNotes))).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let project = phone.create(PROJECT, Changes::new().set("name", "Garden")).unwrap();
    let task = phone.create(TASK, Changes::new().set("project_id", project.as_str()).set("title", "Weed")).unwrap();
    phone.update(TASK, &task, Changes::new().set("notes", "by hand")).unwrap();
    phone.update(TASK, &task, Changes::new().set("title", "Weed twice")).unwrap();
    phone.delete(TASK, &task).unwrap();
    sync_until_idle(&phone, 5).await;
    let status = phone.status().unwrap();
    assert_eq!((status.pending, status.failed), (0, 1), "the notes edit failed, alone");
    assert!(phone.get(TASK, &task).unwrap().is_none(), "the delete chained after it applied");
    assert!(!server.visible("alice").contains_key(&(TASK, task)), "on the server too");
    assert_eq!(phone.visible_state().unwrap(), server.visible("alice"), "the device shows what the server has");
}

/// A phone (3 retries at most) with a task created, not yet pushed, in a project the laptop
/// has since deleted, the tombstone purged: the server answers the create "not yet" (its
/// parent may still be on its way) until the phone gives up.
async fn orphaned_task(server: &TestServer, dir: &TempDir) -> (Replica, String) {
    let mut config = server.config(dir, "phone", "a1");
    config.max_retries = 3;
    let phone = Replica::open(config).unwrap();
    let laptop = server.device(dir, "laptop", "a2");
    let (project, _) = shared_work(&phone, &laptop).await;
    let task = phone.create(TASK, Changes::new().set("project_id", project.as_str()).set("title", "Orphan")).unwrap();
    laptop.delete(PROJECT, &project).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(server, &laptop, Changes::new().set("name", "purge trigger"), None).await;
    (phone, task)
}

/// A write the server keeps answering "not yet" fails at the retry limit, and from then on
/// is not shown, like a write the server refused outright. Here its parent project never
/// arrives: another device deleted it and the purge forgot it.
#[tokio::test]
async fn a_write_that_fails_at_the_retry_limit_is_no_longer_shown() {
    let server = TestServer::with_users(ServerConfig::default().tombstone_horizon(Duration::from_secs(3_600))).await;
    let dir = TempDir::new().unwrap();
    let (phone, task) = orphaned_task(&server, &dir).await;
    for round in 1..=3 {
        let report = phone.sync().await.unwrap();
        assert_eq!((report.pushed, report.tally.rejected), (1, 0), "round {round}: retried, not refused");
        assert!(round == 3 || phone.get(TASK, &task).unwrap().is_some(), "round {round}: still pending, still shown");
    }
    let status = phone.status().unwrap();
    assert_eq!((status.pending, status.failed), (0, 1), "failed at the retry limit, not dropped");
    assert!(phone.get(TASK, &task).unwrap().is_none(), "the failed create is not shown as if it were synced");
    assert_eq!(phone.visible_state().unwrap(), server.visible("alice"), "the device shows what the server has");
}

/// A write that fails for good leaves the writes chained after it waiting for what it
/// waited for. Here a task is created in a project deleted elsewhere and purged (the server
/// answers "not yet" until the retry limit), then its notes are edited (refused for ever),
/// then it is deleted: the delete waits for the create, so the task never shows again.
/// (Fuzz campaign 1, case 181: the delete, unchained when the notes edit failed, went on
/// its own, was answered "gone", and the task came back while its create was retried.)
#[tokio::test]
async fn a_write_that_fails_for_good_leaves_the_writes_after_it_waiting_for_its_predecessors() {
    let config = ServerConfig::default().tombstone_horizon(Duration::from_secs(3_600));
    let server = TestServer::with_users(config.validator(std::sync::Arc::new(NoNotes))).await;
    let dir = TempDir::new().unwrap();
    let (phone, task) = orphaned_task(&server, &dir).await;
    phone.update(TASK, &task, Changes::new().set("notes", "by hand")).unwrap();
    phone.delete(TASK, &task).unwrap();
    for round in 1..=5 {
        let _ = phone.sync().await.unwrap();
        assert!(phone.get(TASK, &task).unwrap().is_none(), "round {round}: the deleted task shows again");
    }
    assert_eq!(phone.status().unwrap().pending, 0);
    assert_eq!(phone.visible_state().unwrap(), server.visible("alice"), "the device shows what the server has");
}

#[tokio::test]
async fn an_unreachable_server_leaves_the_device_offline_with_its_queue_intact() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let mut config = server.config(&dir, "phone", "a1");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    config.connector = std::rc::Rc::new(reference_client::TcpConnector::new(closed));
    let phone = Replica::open(config).unwrap();
    offline_work(&phone);
    assert!(phone.sync().await.is_err());
    let status = phone.status().unwrap();
    assert!(!status.online && status.last_error.is_some());
    assert_eq!(status.pending, 7);
}

#[tokio::test]
async fn a_device_offline_past_the_tombstone_horizon_resyncs_without_resurrection() {
    let config = ServerConfig::default().tombstone_horizon(Duration::from_secs(3_600));
    let server = TestServer::with_users(config).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let laptop = server.device(&dir, "laptop", "a2");
    let (_, tasks) = shared_work(&phone, &laptop).await;
    laptop.delete(TASK, &tasks[0]).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(&server, &laptop, Changes::new().set("notes", "purge trigger"), Some(&tasks[1])).await;
    assert!(server.records("alice").iter().all(|r| r.id != tasks[0]), "the tombstone was purged");
    assert!(phone.get(TASK, &tasks[0]).unwrap().is_some(), "the phone has not synced since the delete");
    let report = phone.sync().await.unwrap();
    assert_eq!(report.resets, 1, "the phone's task cursor is older than the horizon");
    assert!(phone.get(TASK, &tasks[0]).unwrap().is_none(), "the purged record must not survive the re-sync");
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

/// The phone's edit of a shared task committed while its answer was lost `losses` times (the
/// app killed as each answer arrived), then the task deleted on the laptop and its tombstone
/// purged: the phone reopened, not yet synced.
struct LostThenPurged {
    server: TestServer,
    phone: Replica,
    task: String,
    /// The version the edit left on the server.
    written: u64,
    _dir: TempDir,
}

async fn lost_then_purged(losses: usize) -> LostThenPurged {
    let config = ServerConfig::default().tombstone_horizon(Duration::from_secs(3_600));
    let server = TestServer::with_users(config).await;
    let dir = TempDir::new().unwrap();
    let mut phone_config = server.config(&dir, "phone", "a1");
    let phone = Replica::open(phone_config.clone()).unwrap();
    let laptop = server.device(&dir, "laptop", "a2");
    let (_, tasks) = shared_work(&phone, &laptop).await;
    phone.update(TASK, &tasks[0], Changes::new().set("notes", format!("answer lost {losses} times"))).unwrap();
    drop(phone);
    for _ in 0..losses {
        let hook = KillAt::new("push_response_received", 1);
        phone_config.hook = Some(hook.clone());
        let killed = Replica::open(phone_config.clone()).unwrap();
        until_killed(&killed, &hook).await;
        drop(killed);
    }
    let written = server.records("alice").into_iter().find(|r| r.id == tasks[0]).expect("the edit was committed");
    sync_until_idle(&laptop, 3).await;
    laptop.delete(TASK, &tasks[0]).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(&server, &laptop, Changes::new().set("notes", "purge trigger"), Some(&tasks[1])).await;
    assert!(server.records("alice").iter().all(|r| r.id != tasks[0]), "the tombstone was purged");
    phone_config.hook = None;
    let phone = Replica::open(phone_config).unwrap();
    LostThenPurged { server, phone, task: tasks[0].clone(), written: written.version, _dir: dir }
}

/// A write whose answer was lost, then its record deleted on another device and the
/// tombstone purged before the device came back: the re-sync keeps the record for the open
/// write, and the server's replayed answer carries the record as the write left it, older
/// than what the re-sync saw. It must not bring the record back.
#[tokio::test]
async fn a_replayed_answer_does_not_bring_back_a_record_deleted_and_purged_since() {
    let LostThenPurged { server, phone, task, .. } = lost_then_purged(1).await;
    let report = phone.sync().await.unwrap();
    assert_eq!((report.resets, report.pushed, report.tally.accepted), (1, 1, 1), "a re-sync, the write replayed");
    assert!(phone.get(TASK, &task).unwrap().is_none(), "the replayed answer brought the purged record back");
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

/// The same, with the answer lost twice (found by fuzz campaign 1, case 528): between the
/// two pushes the device pulled its own write back, so the version the replayed answer
/// carries is one it had seen. The re-sync still did not return the record: the device
/// must not trust what it saw before the re-sync.
#[tokio::test]
async fn a_replayed_answer_the_device_had_pulled_before_the_resync_does_not_bring_back_a_purged_record() {
    let LostThenPurged { server, phone, task, written, .. } = lost_then_purged(2).await;
    let before = phone.get(TASK, &task).unwrap().expect("the phone still shows the record");
    assert_eq!(before.version, written, "the phone had pulled its own write back");
    let report = phone.sync().await.unwrap();
    assert_eq!((report.resets, report.pushed), (1, 1), "a re-sync, the write replayed");
    assert!(phone.get(TASK, &task).unwrap().is_none(), "the replayed answer brought the purged record back");
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

#[tokio::test]
async fn a_resync_longer_than_one_page_finishes_though_its_cursor_is_below_the_purge() {
    let dir = TempDir::new().unwrap();
    let (server, phone_config) = horizon_and_a_phone_of_small_pages(&dir).await;
    let phone = Replica::open(phone_config).unwrap();
    let laptop = server.device(&dir, "laptop", "a2");
    let (project, tasks) = shared_work(&phone, &laptop).await;
    let later: Vec<String> = (0..5)
        .map(|i| {
            let changes = Changes::new().set("project_id", project.as_str()).set("title", format!("later {i}"));
            laptop.create(TASK, changes).unwrap()
        })
        .collect();
    laptop.delete(TASK, &later[4]).unwrap();
    laptop.delete(TASK, &tasks[0]).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(&server, &laptop, Changes::new().set("notes", "purge trigger"), Some(&tasks[1])).await;
    // The purge reaches past the first pages of the phone's re-sync: each of them ends
    // below it, yet none may send the phone back to the start.
    let report = tokio::time::timeout(Duration::from_secs(60), phone.sync())
        .await
        .expect("the re-sync restarted for ever: a page of it was answered with a reset")
        .unwrap();
    assert_eq!(report.resets, 1, "one re-sync, however many pages it takes");
    assert!(phone.get(TASK, &tasks[0]).unwrap().is_none(), "the purged record must not survive the re-sync");
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

/// A re-sync cut short after its first page, and a record of that page deleted and purged
/// before it resumes: the purge overtook the re-sync, which must start over, or the record
/// it already returned would survive.
#[tokio::test]
async fn a_resync_overtaken_by_a_purge_starts_over() {
    let dir = TempDir::new().unwrap();
    let (server, mut phone_config) = horizon_and_a_phone_of_small_pages(&dir).await;
    let phone = Replica::open(phone_config.clone()).unwrap();
    let laptop = server.device(&dir, "laptop", "a2");
    let (project, tasks) = shared_work(&phone, &laptop).await;
    let later = laptop.create(TASK, Changes::new().set("project_id", project.as_str()).set("title", "later")).unwrap();
    laptop.delete(TASK, &tasks[0]).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(&server, &laptop, Changes::new().set("notes", "first purge"), Some(&tasks[1])).await;
    // The project page, then the first task page of the re-sync: tasks[2] and `later`.
    let hook = KillAt::new("pull_page_applied", 2);
    phone_config.hook = Some(hook.clone());
    let killed = Replica::open(phone_config.clone()).unwrap();
    until_killed(&killed, &hook).await;
    assert!(killed.get(TASK, &later).unwrap().is_some(), "the first page of the re-sync returned it");
    laptop.delete(TASK, &later).unwrap();
    sync_until_idle(&laptop, 3).await;
    purge_aged_tombstones(&server, &laptop, Changes::new().set("notes", "second purge"), Some(&tasks[1])).await;
    phone_config.hook = None;
    let phone = Replica::open(phone_config).unwrap();
    let report = phone.sync().await.unwrap();
    assert_eq!(report.resets, 1, "the resumed re-sync starts over once");
    assert!(phone.get(TASK, &later).unwrap().is_none(), "deleted and purged while the re-sync was cut short");
    sync_until_idle(&phone, 3).await;
    assert_converged(&server, &phone);
}

#[tokio::test]
async fn many_pages_of_changes_arrive_exactly_once() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let laptop = server.device(&dir, "laptop", "a2");
    let project = laptop.create(PROJECT, Changes::new().set("name", "Big")).unwrap();
    for i in 0..120 {
        laptop.create(TASK, Changes::new().set("project_id", project.as_str()).set("title", format!("t{i}"))).unwrap();
    }
    sync_until_idle(&laptop, 3).await;
    let mut config = server.config(&dir, "phone", "a1");
    config.page_size = 7;
    let phone = Replica::open(config).unwrap();
    let report = phone.sync().await.unwrap();
    assert_eq!(report.pulled, 121, "every change once");
    assert_eq!(report.pages, 1 + 18, "1 project page, 120 tasks in pages of 7");
    assert_converged(&server, &phone);
}

#[tokio::test]
async fn another_users_records_never_reach_a_device() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let bobs = server.device(&dir, "bobs", "b1");
    offline_work(&phone);
    sync_until_idle(&phone, 3).await;
    let bob_project = bobs.create(PROJECT, Changes::new().set("name", "Private")).unwrap();
    sync_until_idle(&bobs, 3).await;
    sync_until_idle(&phone, 3).await;
    let bob_sees: Vec<String> = bobs.list(PROJECT).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(bob_sees, vec![bob_project.clone()]);
    assert!(bobs.list(TASK).unwrap().is_empty());
    assert!(phone.get(PROJECT, &bob_project).unwrap().is_none());
}

#[tokio::test]
async fn a_local_write_to_a_missing_parent_is_refused_and_changes_nothing() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let ghost = phone.new_id();
    let refused = phone.create(TASK, Changes::new().set("project_id", ghost.as_str()).set("title", "orphan"));
    assert!(matches!(refused, Err(reference_client::Error::MissingParent { .. })), "{refused:?}");
    let refused = phone.create(PROJECT, Changes::new().set("nmae", "typo"));
    assert!(matches!(refused, Err(reference_client::Error::Invalid(_))), "{refused:?}");
    assert!(phone.queue(None).unwrap().is_empty());
    assert!(phone.visible_state().unwrap().is_empty());
}

/// A write chained after one that met a concurrent change keeps the base its device saw.
/// Before the fix, the client rebased it on the conflicted result's version, so under
/// server-wins the second of two offline edits overwrote another device's newer title.
#[tokio::test]
async fn a_chained_write_after_a_conflict_does_not_overwrite_the_change_it_never_saw() {
    let config = ServerConfig::default().strategies(Strategies::uniform(Strategy::ServerWins));
    let server = TestServer::with_users(config).await;
    let dir = TempDir::new().unwrap();
    let mut phone_config = server.config(&dir, "phone", "a1");
    phone_config.batch_size = 1;
    let phone = Replica::open(phone_config).unwrap();
    let laptop = server.device(&dir, "laptop", "a2");
    let (_, tasks) = shared_work(&phone, &laptop).await;
    laptop.update(TASK, &tasks[0], Changes::new().set("title", "laptop")).unwrap();
    sync_until_idle(&laptop, 3).await;
    phone.update(TASK, &tasks[0], Changes::new().set("title", "phone 1")).unwrap();
    phone.update(TASK, &tasks[0], Changes::new().set("title", "phone 2")).unwrap();
    sync_until_idle(&phone, 4).await;
    assert_eq!(
        server.visible("alice")[&(TASK, tasks[0].clone())]["title"],
        "laptop",
        "server-wins: both stale edits lose"
    );
    assert_eq!(phone.conflicts().unwrap().len(), 2, "both overridden edits are surfaced");
    assert_converged(&server, &phone);
}

#[tokio::test]
async fn completed_queue_entries_are_pruned_in_the_next_round() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    offline_work(&phone);
    phone.sync().await.unwrap();
    assert_eq!(phone.queue(Some(QueueStatus::Completed)).unwrap().len(), 7, "acknowledged entries read as completed");
    phone.sync().await.unwrap();
    assert!(phone.queue(None).unwrap().is_empty(), "and are gone after the next round");
}

/// Regression: the simulation (`lost_acknowledgements`, seed 3) showed a device's counter
/// counted twice after a push answer was lost: the next round's pull brought the server's
/// record, which already held the increment, and the still-unacknowledged entry was
/// applied on top of it. Pulled counters now name the last mutation they count per device,
/// and the rebase skips the increments they hold.
#[tokio::test]
async fn a_counter_is_not_counted_twice_after_its_push_answer_was_lost() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let mut config = server.config(&dir, "phone", "a1");
    let phone = Replica::open(config.clone()).unwrap();
    let project = phone.create(PROJECT, Changes::new().set("name", "Garden")).unwrap();
    let task = phone.create(TASK, Changes::new().set("project_id", project.as_str()).set("title", "Dig")).unwrap();
    sync_until_idle(&phone, 3).await;
    phone.update(TASK, &task, Changes::new().increment("pomodoros", 1)).unwrap();
    for step in ["push_response_received", "push_starting"] {
        let hook = KillAt::new(step, 1);
        config.hook = Some(hook.clone());
        let phone = Replica::open(config.clone()).unwrap();
        until_killed(&phone, &hook).await;
    }
    config.hook = None;
    let phone = Replica::open(config).unwrap();
    let shown = phone.get(TASK, &task).unwrap().unwrap().fields["pomodoros"].clone();
    assert_eq!(shown, 1, "the pulled record holds the increment once; the pending entry must not add it again");
    sync_until_idle(&phone, 3).await;
    assert_eq!(server.visible("alice")[&(TASK, task.clone())]["pomodoros"], 1, "applied exactly once");
}
