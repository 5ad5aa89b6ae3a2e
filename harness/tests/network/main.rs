//! The simulated network on a minimal implementation that downloads a blob: pacing makes
//! a transfer take about size / rate of virtual time, and the profile decides the rate.

use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use syncsim::invariant::Invariant;
use syncsim::{
    history::EventKind, BoxError, DeviceEnv, DeviceState, Operation, Profile, Scenario, ServerEnv, ServerState,
    SyncOutcome, Workload,
};

const BLOB: usize = 1_000_000;

/// Serves `BLOB` bytes at `/blob`.
#[derive(Clone)]
struct BlobServer;

impl syncsim::Server for BlobServer {
    fn router(&self, _: &ServerEnv) -> Result<axum::Router, BoxError> {
        Ok(axum::Router::new().route("/blob", get(|| async { vec![7u8; BLOB] })))
    }

    fn state(&self, _: &ServerEnv) -> Result<ServerState, BoxError> {
        Ok(ServerState::default())
    }
}

/// A "sync" downloads the blob once over a fresh connection.
#[derive(Clone)]
struct BlobClient;

struct BlobApp(DeviceEnv);

impl syncsim::Client for BlobClient {
    type App = BlobApp;

    async fn open(&self, env: DeviceEnv) -> Result<BlobApp, BoxError> {
        Ok(BlobApp(env))
    }
}

impl syncsim::App for BlobApp {
    async fn perform(&self, _: &Operation) -> Result<(), BoxError> {
        Ok(())
    }

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        let stream = self.0.connector.connect().await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::task::spawn_local(connection);
        let request = http::Request::get("/blob").header("host", "server").body(Empty::<Bytes>::new())?;
        let body = sender.send_request(request).await?.into_body().collect().await?.to_bytes();
        Ok(SyncOutcome { pulled: 1, bytes_received: body.len() as u64, ..SyncOutcome::default() })
    }

    fn state(&self) -> Result<DeviceState, BoxError> {
        Ok(DeviceState::default())
    }
}

/// The virtual time of the first sync round of a one-device run on `profile`.
fn first_round(profile: Profile) -> Duration {
    let scenario = Scenario::builder("blob_download")
        .devices(1)
        .profile(profile)
        .workload(Workload::idle())
        .duration(Duration::from_secs(30))
        .invariants(Vec::<std::rc::Rc<dyn Invariant>>::new())
        .build();
    let history = scenario.history(&BlobClient, &BlobServer, 1);
    let mut start = None;
    for event in &history.events {
        match event.kind {
            EventKind::SyncStart { .. } => start = Some(event.t_ms),
            EventKind::SyncOk { ref outcome, .. } => {
                assert_eq!(outcome.bytes_received, BLOB as u64, "the whole blob arrives");
                return Duration::from_millis(event.t_ms - start.expect("a round starts before it ends"));
            }
            _ => {}
        }
    }
    panic!("no sync round completed:\n{}", history.to_jsonl());
}

#[test]
fn a_megabyte_on_slow_4g_takes_size_over_rate() {
    let p = Profile::SLOW_4G;
    let transfer = p.down.serialization(BLOB);
    let round_trips = 2 * (p.up.latency + p.down.latency);
    let expected = transfer + round_trips;
    let took = first_round(p);
    let tolerance = expected / 20;
    assert!(
        took.abs_diff(expected) <= tolerance,
        "1 MB at 1.6 Mbit/s is {transfer:?} plus a connect and a request round trip ({round_trips:?}): \
         expected {expected:?} ± 5%, took {took:?}"
    );
}

#[test]
fn a_faster_profile_moves_the_same_megabyte_faster() {
    let slow = first_round(Profile::EDGE);
    let fast = first_round(Profile::LTE);
    assert!(slow > fast * 20, "edge (240 kbit/s) against LTE (50 Mbit/s): {slow:?} vs {fast:?}");
}

/// Regression: a device whose scenario profile is `offline` from the start used to get a
/// healthy, unpaced link, because only profile changes cut the link.
#[test]
fn a_device_offline_from_the_start_never_reaches_the_server() {
    let scenario = Scenario::builder("offline_from_the_start")
        .devices(1)
        .profile(Profile::OFFLINE)
        .workload(Workload::idle())
        .duration(Duration::from_secs(20))
        .converge_within(Duration::from_secs(1))
        .invariants(Vec::<std::rc::Rc<dyn Invariant>>::new())
        .build();
    let history = scenario.history(&BlobClient, &BlobServer, 1);
    let fault_phase = history.events.iter().filter(|e| e.t_ms < 20_000);
    let (ok, failed) = fault_phase.fold((0, 0), |(ok, failed), e| match e.kind {
        EventKind::SyncOk { .. } => (ok + 1, failed),
        EventKind::SyncFail { .. } => (ok, failed + 1),
        _ => (ok, failed),
    });
    assert_eq!(ok, 0, "no round reaches the server while the device is offline");
    assert!(failed >= 3, "the OS keeps trying every 5 s and each attempt fails at once; {failed} failed");
}
