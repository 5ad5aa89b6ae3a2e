//! An in-process server, the devices that push to it, and the requests and replies between
//! them.

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use flate2::read::GzDecoder;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use protocol::{
    Action, Clock, Entity, ErrorBody, HlcClock, Mutation, MutationOutcome, MutationResult, PullResponse, PushRequest,
    PushResponse, Record, RejectCode, Resolution, Strategies, Tag, PROTOCOL_VERSION, PULL_PATH, PUSH_PATH,
    VERSION_HEADER,
};
use reference_server::{app_with_shared_store, ServerConfig, Store};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::io::Read;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

pub(crate) const ALICE: &str = "alice";
pub(crate) const ALICE_TOKEN: &str = "alice-token";
pub(crate) const BOB: &str = "bob";
pub(crate) const BOB_TOKEN: &str = "bob-token";

/// The server's clock when a test starts: 2023-11-14T22:13:20Z.
pub(crate) const START_MS: i64 = 1_700_000_000_000;

/// A server clock that stands still until the test moves it.
#[derive(Debug)]
pub(crate) struct TestClock(AtomicI64);

impl TestClock {
    pub(crate) fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The router over an in-memory store the test can read, with users alice and bob.
pub(crate) struct Server {
    router: Router,
    store: Arc<Mutex<Store>>,
    pub(crate) clock: Arc<TestClock>,
}

/// Everything a request could change: compared before and after a refused request.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    last_seq: u64,
    alice: Vec<Record>,
    bob: Vec<Record>,
}

impl Server {
    /// Default strategies, tombstones kept forever.
    pub(crate) fn new() -> Self {
        Self::configured(|config| config)
    }

    pub(crate) fn with_strategies(strategies: Strategies) -> Self {
        Self::configured(|config| config.strategies(strategies))
    }

    /// A server whose configuration `configure` finishes (tokens and clock are set).
    pub(crate) fn configured(configure: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        let clock = Arc::new(TestClock(AtomicI64::new(START_MS)));
        let config = ServerConfig::default().token(ALICE, ALICE_TOKEN).token(BOB, BOB_TOKEN).clock(clock.clone());
        let store = Arc::new(Mutex::new(Store::in_memory().expect("an in-memory store opens")));
        Self { router: app_with_shared_store(store.clone(), configure(config)), store, clock }
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("an in-process body never fails").to_bytes();
        Reply { status, headers, body }
    }

    /// Pushes `mutations` from `device` and returns one result each; the push must succeed.
    pub(crate) async fn push(&self, device: &Device, mutations: Vec<Mutation>) -> Vec<MutationResult> {
        let body = push_body(&device.name, mutations);
        let reply = self.send(request(Method::POST, PUSH_PATH, device.token).body(body.into()).unwrap()).await;
        reply.ok::<PushResponse>().results
    }

    /// Pushes one mutation and returns its outcome.
    pub(crate) async fn push_one(&self, device: &Device, mutation: Mutation) -> MutationOutcome {
        let mut results = self.push(device, vec![mutation]).await;
        assert_eq!(results.len(), 1, "one result per mutation");
        results.remove(0).outcome
    }

    /// One page of `entity` after `since`, as `token`'s user; the pull must succeed.
    pub(crate) async fn pull(&self, token: &str, entity: Entity, since: u64, limit: u32) -> PullResponse {
        let uri = pull_uri(entity, since, limit);
        self.send(request(Method::GET, &uri, token).body(Body::empty()).unwrap()).await.ok()
    }

    /// Every record of `user`, tombstones included, straight from the store.
    pub(crate) fn records(&self, user: &str) -> Vec<Record> {
        self.store.lock().unwrap().records(user).expect("the store reads")
    }

    /// `user`'s record `id`, which must exist in the store.
    #[track_caller]
    pub(crate) fn record(&self, user: &str, id: &str) -> Record {
        let records = self.records(user);
        records.into_iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{user} has no record {id}"))
    }

    pub(crate) fn last_seq(&self) -> u64 {
        self.store.lock().unwrap().last_seq().expect("the store reads")
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot { last_seq: self.last_seq(), alice: self.records(ALICE), bob: self.records(BOB) }
    }

    /// Sends `request` and checks that it is refused with `status` and the wire error `code`
    /// and that the store is exactly as it was; returns the error message.
    pub(crate) async fn refuses(&self, request: Request<Body>, status: StatusCode, code: &str) -> String {
        let before = self.snapshot();
        let reply = self.send(request).await;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert_eq!((reply.status, reply.error_json()["error"].as_str()), (status, Some(code)), "body: {text}");
        assert_eq!(self.snapshot(), before, "a refused request changes nothing");
        let message = reply.error().message;
        assert!(!message.is_empty(), "every refusal says what is wrong");
        message
    }
}

/// What the router answered.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The body as sent, decompressed if the server gzipped it.
    pub(crate) fn plain_body(&self) -> Vec<u8> {
        match self.headers.get(CONTENT_ENCODING) {
            None => self.body.to_vec(),
            Some(v) if v == "gzip" => {
                let mut out = Vec::new();
                GzDecoder::new(&self.body[..]).read_to_end(&mut out).expect("the server's gzip is valid");
                out
            }
            Some(other) => panic!("the server answered with content-encoding {other:?}"),
        }
    }

    /// The JSON body of a 200.
    #[track_caller]
    pub(crate) fn ok<T: DeserializeOwned>(&self) -> T {
        let text = String::from_utf8_lossy(&self.plain_body()).into_owned();
        assert_eq!(self.status, StatusCode::OK, "body: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("unexpected 200 body ({e}): {text}"))
    }

    /// The error body of a refusal.
    #[track_caller]
    pub(crate) fn error(&self) -> ErrorBody {
        let text = String::from_utf8_lossy(&self.body).into_owned();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an error body ({e}): {text}"))
    }

    /// The error body as raw JSON, to check the wire names of codes.
    #[track_caller]
    pub(crate) fn error_json(&self) -> Value {
        let text = String::from_utf8_lossy(&self.body);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("error bodies are JSON ({e}): {text}"))
    }
}

/// A request with a valid protocol version header and `token` as bearer.
pub(crate) fn request(method: Method, uri: &str, token: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(VERSION_HEADER, PROTOCOL_VERSION.to_string())
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
}

pub(crate) fn push_body(device: &str, mutations: Vec<Mutation>) -> Vec<u8> {
    serde_json::to_vec(&PushRequest { device: device.to_owned(), mutations }).unwrap()
}

pub(crate) fn pull_uri(entity: Entity, since: u64, limit: u32) -> String {
    format!("{PULL_PATH}?entity={entity}&since={since}&limit={limit}")
}

/// A record id: the UUID whose last group is `n`.
pub(crate) fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// One user's device: makes mutations the way a client queues them, each with a fresh
/// idempotency key (`<device>-<n>`) and a fresh stamp from the device's hybrid clock.
pub(crate) struct Device {
    pub(crate) name: String,
    token: &'static str,
    hlc: RefCell<HlcClock>,
    wall_ms: i64,
    made: Cell<u32>,
}

impl Device {
    /// A device of alice's.
    pub(crate) fn alice(name: &str) -> Self {
        Self::of(ALICE_TOKEN, name)
    }

    /// A device of bob's.
    pub(crate) fn bob(name: &str) -> Self {
        Self::of(BOB_TOKEN, name)
    }

    fn of(token: &'static str, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            token,
            hlc: RefCell::new(HlcClock::new(name)),
            wall_ms: START_MS,
            made: Cell::new(0),
        }
    }

    /// Sets the device's wall clock: its next stamps use it (unless it is behind a stamp
    /// already issued).
    pub(crate) fn clock_at(mut self, wall_ms: i64) -> Self {
        self.wall_ms = wall_ms;
        self
    }

    pub(crate) fn create_project(&self, id: &str, name: &str) -> Mutation {
        self.mutation(Action::Create, Entity::Project, id, 0).field("name", name)
    }

    pub(crate) fn create_task(&self, id: &str, project_id: &str, title: &str) -> Mutation {
        self.mutation(Action::Create, Entity::Task, id, 0).field("project_id", project_id).field("title", title)
    }

    pub(crate) fn update(&self, entity: Entity, id: &str, base_version: u64) -> Mutation {
        self.mutation(Action::Update, entity, id, base_version)
    }

    pub(crate) fn delete(&self, entity: Entity, id: &str, base_version: u64) -> Mutation {
        self.mutation(Action::Delete, entity, id, base_version)
    }

    fn mutation(&self, action: Action, entity: Entity, id: &str, base_version: u64) -> Mutation {
        self.made.set(self.made.get() + 1);
        Mutation {
            key: format!("{}-{}", self.name, self.made.get()),
            entity: entity.name().to_owned(),
            id: id.to_owned(),
            action,
            base_version,
            after: None,
            changes: Default::default(),
            hlc: self.hlc.borrow_mut().send(self.wall_ms),
            client_time_ms: self.wall_ms,
        }
    }
}

/// Adds changes to a mutation, the way a user's edits fill a queued write.
pub(crate) trait Edit: Sized {
    fn field(self, name: &str, value: impl Into<Value>) -> Self;
    fn increment(self, counter: &str, delta: i64) -> Self;
    fn add(self, set: &str, element: &str) -> Self;
    fn remove(self, set: &str, element: &str, observed: BTreeSet<Tag>) -> Self;
    fn after(self, key: &str) -> Self;
}

impl Edit for Mutation {
    fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.changes.fields.insert(name.to_owned(), value.into());
        self
    }

    fn increment(mut self, counter: &str, delta: i64) -> Self {
        self.changes.increments.insert(counter.to_owned(), delta);
        self
    }

    fn add(mut self, set: &str, element: &str) -> Self {
        self.changes.set_add.entry(set.to_owned()).or_default().insert(element.to_owned());
        self
    }

    fn remove(mut self, set: &str, element: &str, observed: BTreeSet<Tag>) -> Self {
        self.changes.set_remove.entry(set.to_owned()).or_default().insert(element.to_owned(), observed);
        self
    }

    fn after(mut self, key: &str) -> Self {
        self.after = Some(key.to_owned());
        self
    }
}

/// The record of an accepted outcome.
#[track_caller]
pub(crate) fn accepted(outcome: MutationOutcome) -> Record {
    match outcome {
        MutationOutcome::Accepted { record, .. } => record,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// The resolution, kept fields and record of a conflict.
#[track_caller]
pub(crate) fn conflict(outcome: MutationOutcome) -> (Resolution, Vec<String>, Record) {
    match outcome {
        MutationOutcome::Conflict { resolution, fields_kept, record } => (resolution, fields_kept, record),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The code and retryability of a rejection.
#[track_caller]
pub(crate) fn rejected(outcome: MutationOutcome) -> (RejectCode, bool) {
    match outcome {
        MutationOutcome::Rejected { code, retryable, .. } => (code, retryable),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// A project and one task in it, created by `device`; returns the task's record.
pub(crate) async fn project_with_task(server: &Server, device: &Device, project: &str, task: &str) -> Record {
    let batch = vec![device.create_project(project, "home"), device.create_task(task, project, "water plants")];
    let mut results = server.push(device, batch).await;
    accepted(results.pop().expect("two results").outcome)
}
