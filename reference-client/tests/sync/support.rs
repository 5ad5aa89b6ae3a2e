//! A reference server on real loopback TCP, inside the test's runtime, and devices for it.

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use protocol::{Clock, Entity, Record};
use reference_client::{ClientConfig, Replica, SyncHook, SyncStep, TcpConnector};
use reference_server::{app_with_shared_store, serve, ServerConfig, Store};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use tokio::sync::Notify;

/// A wall clock the test sets by hand.
#[derive(Debug)]
pub(crate) struct TestClock(AtomicI64);

impl TestClock {
    pub(crate) fn at(ms: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(ms)))
    }

    pub(crate) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub(crate) struct TestServer {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) clock: Arc<TestClock>,
    /// While set, every push is answered 503 with `retry-after: 1` (pulls still work).
    pub(crate) push_unavailable: Arc<AtomicBool>,
}

async fn maybe_unavailable(State(flag): State<Arc<AtomicBool>>, request: Request, next: Next) -> Response {
    if flag.load(Ordering::SeqCst) && request.method() == http::Method::POST {
        let body = r#"{"error":"internal","message":"injected outage"}"#;
        return (http::StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], body).into_response();
    }
    next.run(request).await
}

impl TestServer {
    pub(crate) async fn start(config: ServerConfig) -> Self {
        let clock = TestClock::at(1_000_000);
        let config = config.clock(clock.clone());
        let store = Arc::new(Mutex::new(Store::in_memory().unwrap()));
        let unavailable = Arc::new(AtomicBool::new(false));
        let router = app_with_shared_store(store.clone(), config)
            .layer(from_fn_with_state(unavailable.clone(), maybe_unavailable));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, router));
        Self { addr, store, clock, push_unavailable: unavailable }
    }

    /// A server whose users are alice (tokens a1, a2) and bob (token b1).
    pub(crate) async fn with_users(config: ServerConfig) -> Self {
        Self::start(config.token("alice", "a1").token("alice", "a2").token("bob", "b1")).await
    }

    pub(crate) fn records(&self, user: &str) -> Vec<Record> {
        self.store.lock().unwrap().records(user).unwrap()
    }

    /// What a user should see: every live record's visible fields.
    pub(crate) fn visible(&self, user: &str) -> BTreeMap<(Entity, String), BTreeMap<String, Value>> {
        self.records(user).into_iter().filter(|r| !r.deleted).map(|r| ((r.entity, r.id.clone()), r.visible())).collect()
    }

    pub(crate) fn config(&self, dir: &TempDir, device: &str, token: &str) -> ClientConfig {
        let mut config =
            ClientConfig::new(dir.path().join(device), device, token, Rc::new(TcpConnector::new(self.addr)));
        config.clock = TestClock::at(1_000_000);
        config
    }

    pub(crate) fn device(&self, dir: &TempDir, device: &str, token: &str) -> Replica {
        Replica::open(self.config(dir, device, token)).unwrap()
    }
}

/// Syncs until a round finds nothing to do; panics if that takes more than `max` rounds.
pub(crate) async fn sync_until_idle(client: &Replica, max: usize) {
    for _ in 0..max {
        if client.sync().await.unwrap().idle() {
            return;
        }
    }
    panic!("{} did not reach an idle round in {max} rounds", client.device());
}

/// Freezes the round forever at the `nth` time `step` is reached (the app is killed there).
pub(crate) struct KillAt {
    pub(crate) step: &'static str,
    pub(crate) nth: usize,
    seen: Cell<usize>,
    pub(crate) killed: Rc<Notify>,
}

impl KillAt {
    pub(crate) fn new(step: &'static str, nth: usize) -> Rc<Self> {
        Rc::new(Self { step, nth, seen: Cell::new(0), killed: Rc::new(Notify::new()) })
    }
}

/// Runs one round of `app`, opened with `hook`, until the hook kills it (the app is then as
/// the OS leaves it: drop it and open it again). Panics if the round ends first.
pub(crate) async fn until_killed(app: &Replica, hook: &KillAt) {
    tokio::select! {
        biased;
        () = hook.killed.notified() => {}
        round = app.sync() => {
            panic!("the round should have been killed at reach {} of {}, it ended with {round:?}", hook.nth, hook.step)
        }
    }
}

impl SyncHook for KillAt {
    fn reached(&self, step: &SyncStep) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        if step.name() == self.step {
            self.seen.set(self.seen.get() + 1);
            if self.seen.get() == self.nth {
                self.killed.notify_one();
                return Box::pin(std::future::pending());
            }
        }
        Box::pin(std::future::ready(()))
    }
}
