//! The scheduler decides when rounds run. These tests use real (short) time: the server is
//! on real loopback sockets, which a paused tokio clock would race past.

use crate::support::{TestClock, TestServer};
use protocol::Entity;
use reference_client::scheduler::{run, Conditions, Policy};
use reference_client::{Changes, Replica};
use reference_server::ServerConfig;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::watch;

fn quick_policy() -> Policy {
    Policy {
        debounce: Duration::from_millis(20),
        period: Duration::from_secs(3_600),
        background_budget: Duration::from_secs(30),
        metered_upload_limit: 2_000,
    }
}

/// Polls `check` every 10 ms for up to 3 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen within 3 s");
}

fn start(client: &Replica, conditions: Conditions) -> (watch::Sender<Conditions>, tokio::task::LocalSet) {
    let (tx, rx) = watch::channel(conditions);
    let set = tokio::task::LocalSet::new();
    set.spawn_local(run(client.clone(), rx, quick_policy()));
    (tx, set)
}

#[tokio::test]
async fn a_local_write_is_pushed_after_the_debounce() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let (_conditions, set) = start(&phone, Conditions::default());
    set.run_until(async {
        let id = phone.create(Entity::Project, Changes::new().set("name", "Auto")).unwrap();
        eventually("the debounced push", || server.visible("alice").contains_key(&(Entity::Project, id.clone()))).await;
    })
    .await;
}

#[tokio::test]
async fn low_battery_skips_background_rounds_and_foreground_syncs_anyway() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let phone = server.device(&dir, "phone", "a1");
    let background = Conditions { foreground: false, battery_low: true, ..Conditions::default() };
    let (conditions, set) = start(&phone, background);
    set.run_until(async {
        let id = phone.create(Entity::Project, Changes::new().set("name", "Later")).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(server.records("alice").is_empty(), "a low-battery background round must be skipped");
        conditions.send(Conditions { foreground: true, ..background }).unwrap();
        eventually("the foreground round", || server.visible("alice").contains_key(&(Entity::Project, id.clone())))
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_metered_network_defers_the_rest_of_a_large_queue() {
    let server = TestServer::with_users(ServerConfig::default()).await;
    let dir = TempDir::new().unwrap();
    let mut config = server.config(&dir, "phone", "a1");
    config.batch_size = 5;
    config.clock = TestClock::at(1_000_000);
    let phone_small = Replica::open(config).unwrap();
    for i in 0..40 {
        phone_small.create(Entity::Project, Changes::new().set("name", format!("p{i}"))).unwrap();
    }
    phone_small.set_upload_limit(Some(2_000));
    let report = phone_small.sync().await.unwrap();
    assert!(report.deferred, "40 creates do not fit in 2,000 bytes");
    let pushed = server.records("alice").len();
    assert!(pushed > 0 && pushed < 40, "some pushed, the rest deferred: {pushed}");
    phone_small.set_upload_limit(None);
    phone_small.sync().await.unwrap();
    assert_eq!(server.records("alice").len(), 40, "an unmetered round sends the rest");
}
