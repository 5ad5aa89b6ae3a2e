//! Skipped time on a minimal implementation whose sync reads both wall clocks: a skip moves
//! every wall clock and the timeline by exactly its span, while the simulation steps only
//! the time around it.

use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use protocol::Clock;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use syncsim::history::{EventKind, History};
use syncsim::invariant::Invariant;
use syncsim::sim::EPOCH_SECS;
use syncsim::{
    BoxError, DeviceEnv, DeviceState, Fault, Operation, Profile, Scenario, ServerEnv, ServerState, SyncOutcome,
    Workload,
};

const SKIP: Duration = Duration::from_secs(3 * 86_400);
const SKIP_AT: Duration = Duration::from_secs(10);
const OFFSET_MS: i64 = 5_000;

/// One sync round's view of time: on each side, turmoil's stepped time and the wall clock.
#[derive(Clone, Copy, Debug)]
struct Reading {
    device_stepped_ms: i64,
    device_ms: i64,
    server_stepped_ms: i64,
    server_ms: i64,
}

impl Reading {
    /// How far each wall clock is ahead of the epoch plus stepped time (and the device's
    /// offset): the time skipped, as each side sees it.
    fn skipped_ms(&self) -> (i64, i64) {
        let epoch_ms = EPOCH_SECS as i64 * 1_000;
        (
            self.device_ms - epoch_ms - OFFSET_MS - self.device_stepped_ms,
            self.server_ms - epoch_ms - self.server_stepped_ms,
        )
    }
}

fn stepped_ms() -> i64 {
    turmoil::sim_elapsed().expect("inside a host").as_millis() as i64
}

/// Answers `/now` with its stepped time and its wall clock.
#[derive(Clone)]
struct ClockServer;

impl syncsim::Server for ClockServer {
    fn router(&self, env: &ServerEnv) -> Result<axum::Router, BoxError> {
        let clock = env.clock;
        Ok(axum::Router::new()
            .route("/now", get(move || async move { format!("{} {}", stepped_ms(), clock.now_ms()) })))
    }

    fn state(&self, _: &ServerEnv) -> Result<ServerState, BoxError> {
        Ok(ServerState::default())
    }
}

/// A "sync" asks the server for its clock and notes both clocks.
#[derive(Clone, Default)]
struct ClockClient {
    readings: Rc<RefCell<Vec<Reading>>>,
}

struct ClockApp {
    env: DeviceEnv,
    readings: Rc<RefCell<Vec<Reading>>>,
}

impl syncsim::Client for ClockClient {
    type App = ClockApp;

    async fn open(&self, env: DeviceEnv) -> Result<ClockApp, BoxError> {
        Ok(ClockApp { env, readings: self.readings.clone() })
    }
}

impl syncsim::App for ClockApp {
    async fn perform(&self, _: &Operation) -> Result<(), BoxError> {
        Ok(())
    }

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let (device_stepped_ms, device_ms) = (stepped_ms(), self.env.clock.now_ms());
        let stream = self.env.connector.connect().await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::task::spawn_local(connection);
        let request = http::Request::get("/now").header("host", "server").body(Empty::<Bytes>::new())?;
        let body = sender.send_request(request).await?.into_body().collect().await?.to_bytes();
        let text = String::from_utf8(body.to_vec())?;
        let (stepped, wall) = text.split_once(' ').ok_or("the server answers `<stepped ms> <wall ms>`")?;
        let (server_stepped_ms, server_ms) = (stepped.parse()?, wall.parse()?);
        self.readings.borrow_mut().push(Reading { device_stepped_ms, device_ms, server_stepped_ms, server_ms });
        Ok(SyncOutcome::default())
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        Ok(DeviceState::default())
    }
}

/// One device on wifi, skipping 3 days at 10 s, the fault phase ending 30 s after the skip.
fn three_days_skipped(workload: Workload) -> Scenario {
    Scenario::builder("three_days_skipped")
        .devices(1)
        .profile(Profile::WIFI)
        .clock_offset(0, OFFSET_MS)
        .workload(workload)
        .at(SKIP_AT, Fault::skip(SKIP))
        .duration(SKIP_AT + SKIP + Duration::from_secs(30))
        .converge_within(Duration::from_secs(5))
        .invariants(Vec::<Rc<dyn Invariant>>::new())
        .build()
}

fn run(workload: Workload) -> (History, Vec<Reading>) {
    let client = ClockClient::default();
    let history = three_days_skipped(workload).history(&client, &ClockServer, 1);
    let readings = client.readings.borrow().clone();
    (history, readings)
}

#[test]
fn a_skip_moves_the_device_and_server_clocks_by_exactly_the_skip() {
    let (_, readings) = run(Workload::idle());
    let skip_ms = SKIP.as_millis() as i64;
    let (mut before, mut after) = (0, 0);
    for reading in &readings {
        let expected = if reading.device_stepped_ms < SKIP_AT.as_millis() as i64 { 0 } else { skip_ms };
        assert_eq!(
            reading.skipped_ms(),
            (expected, expected),
            "device and server clocks agree on the skip: {reading:?}"
        );
        if expected == 0 {
            before += 1;
        } else {
            after += 1;
        }
    }
    assert!(before >= 1 && after >= 5, "rounds every 5 s on both sides of the skip: {before} before, {after} after");
}

#[test]
fn a_skip_costs_no_steps() {
    let (history, readings) = run(Workload::idle());
    let stepped = readings.iter().map(|r| r.device_stepped_ms).max().unwrap_or_default();
    let timeline = history.events.last().map_or(0, |e| e.t_ms);
    // Steps are what a run costs (about 290,000 idle steps per wall second): stepping 3
    // days would take a quarter of an hour; this run steps about a minute.
    assert!(stepped < 120_000, "the run stepped {stepped} ms, the fault phase around the skip and the final phase");
    assert!(timeline >= SKIP.as_millis() as u64, "its timeline spans the 3 days: it ends at {timeline} ms");
}

#[test]
fn the_timeline_jumps_at_the_skip_and_every_later_event_includes_it() {
    let (history, _) = run(Workload::idle());
    let at = history
        .events
        .iter()
        .position(|e| {
            matches!(&e.kind, EventKind::Fault { fault: syncsim::fault::FaultRecord::Skip { ms: 259_200_000 }, .. })
        })
        .expect("the skip is one fault event on the timeline");
    assert_eq!(history.events[at].t_ms, SKIP_AT.as_millis() as u64, "stamped with the moment it starts");
    let times: Vec<u64> = history.events.iter().map(|e| e.t_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time never goes back along the history");
    let (start, end) = (SKIP_AT.as_millis() as u64, (SKIP_AT + SKIP).as_millis() as u64);
    assert!(times[at + 1..].iter().all(|t| *t >= end), "every event after the skip is at least 3 days later");
    assert!(!times.iter().any(|t| (start + 1..end).contains(t)), "nothing happens inside the skip");
}

#[test]
fn a_workload_after_a_skip_starts_on_time() {
    let start = SKIP_AT + SKIP + Duration::from_secs(5);
    let (history, _) = run(Workload::mixed(3).start(start).every(Duration::from_secs(2)));
    let invoked: Vec<u64> =
        history.events.iter().filter_map(|e| matches!(e.kind, EventKind::Invoke { .. }).then_some(e.t_ms)).collect();
    let due: Vec<u64> = (0..3).map(|k| (start + Duration::from_secs(2 * k)).as_millis() as u64).collect();
    assert_eq!(invoked, due, "a user sleeping across the skip wakes at its operation's time on the timeline");
}
