//! The fault proxy on loopback: pacing by profile, refused and held connections, and the
//! HTTP faults, each seen from a client on one side and the server on the other.

use axum::routing::{get, post};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use syncsim::fault::Ways;
use syncsim::history::EventKind;
use syncsim::live::Proxy;
use syncsim::net::{HttpFault, Route};
use syncsim::Profile;
use tokio::net::TcpStream;
use tokio::time::Instant;

const MEGABYTE: usize = 1_000_000;

/// A server on loopback that counts the pushes it handled and serves a megabyte.
struct Upstream {
    addr: SocketAddr,
    pushes: Arc<AtomicUsize>,
}

async fn upstream() -> Upstream {
    let pushes = Arc::new(AtomicUsize::new(0));
    let counted = pushes.clone();
    let router = axum::Router::new()
        .route(
            "/push",
            post(move || {
                let counted = counted.clone();
                async move { format!("applied {}", counted.fetch_add(1, Ordering::SeqCst) + 1) }
            }),
        )
        .route("/big", get(|| async { vec![7u8; MEGABYTE] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    Upstream { addr, pushes }
}

/// What a client got: the status and the whole body, or the error that cut it.
async fn request(proxy: SocketAddr, method: &str, path: &str) -> Result<(StatusCode, http::HeaderMap, Bytes), String> {
    let stream = TcpStream::connect(proxy).await.map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::task::spawn_local(connection);
    let request = Request::builder().method(method).uri(path).header("host", "proxy").body(Empty::<Bytes>::new());
    let response = sender.send_request(request.expect("a request")).await.map_err(|e| format!("request: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    Ok((parts.status, parts.headers, body))
}

/// Runs `test` on a current-thread runtime, where the proxy lives.
fn live<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    tokio::task::LocalSet::new().block_on(&runtime, test());
}

async fn proxy_for(upstream: &Upstream, profile: Profile) -> Proxy {
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("loopback");
    Proxy::bind(listen, upstream.addr, profile, 1).await.expect("the proxy listens")
}

/// How long a megabyte takes to come down through the proxy on `profile`.
async fn download(profile: Profile) -> Duration {
    let upstream = upstream().await;
    let proxy = proxy_for(&upstream, profile).await;
    let start = Instant::now();
    let (status, _, body) = request(proxy.local_addr(), "GET", "/big").await.expect("the download");
    assert_eq!((status, body.len()), (StatusCode::OK, MEGABYTE));
    start.elapsed()
}

#[test]
fn a_megabyte_takes_at_least_its_time_on_the_wire_and_a_faster_profile_is_faster() {
    live(|| async {
        for profile in [Profile::SLOW_4G, Profile::LTE] {
            let wire = profile.down.serialization(MEGABYTE);
            let trips = (profile.up.latency + profile.down.latency) * 2;
            let took = download(profile).await;
            eprintln!("{}: 1 MB in {took:?}; size / rate {wire:?} plus two round trips {trips:?}", profile.name);
            assert!(
                took >= wire,
                "{}: the proxy cannot deliver faster than the profile's rate: {took:?}",
                profile.name
            );
            assert!(
                took < (wire + trips) * 4,
                "{}: {took:?} is far beyond size / rate plus the round trips; pacing waits too long",
                profile.name
            );
        }
    });
}

#[test]
fn a_lost_response_cuts_the_connection_after_the_server_handled_the_request() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.set_http(HttpFault::LoseResponse, Route::Path("/push"), 1000);
        let error = request(proxy.local_addr(), "POST", "/push").await.expect_err("the answer is lost");
        assert!(error.starts_with("request") || error.starts_with("body"), "a cut connection, not {error}");
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 1, "the server handled the push");
        let (status, _, body) = request(proxy.local_addr(), "GET", "/big").await.expect("other paths pass");
        assert_eq!((status, body.len()), (StatusCode::OK, MEGABYTE));
        let kinds: Vec<EventKind> = proxy.timeline().into_iter().map(|e| e.kind).collect();
        assert!(
            kinds.contains(&EventKind::Edge { fault: "lose_response".into(), path: "/push".into() }),
            "the fault is on the proxy's timeline: {kinds:?}"
        );
    });
}

#[test]
fn a_duplicated_push_reaches_the_server_twice_and_the_client_gets_one_answer() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.set_http(HttpFault::Duplicate, Route::Path("/push"), 1000);
        let (status, _, body) = request(proxy.local_addr(), "POST", "/push").await.expect("an answer");
        assert_eq!(status, StatusCode::OK);
        assert!([&b"applied 1"[..], &b"applied 2"[..]].contains(&&body[..]), "one of the two answers: {body:?}");
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 2, "the server handled the push twice");
        let kinds: Vec<EventKind> = proxy.timeline().into_iter().map(|e| e.kind).collect();
        assert!(
            kinds.contains(&EventKind::Edge { fault: "duplicate".into(), path: "/push".into() }),
            "the fault is on the proxy's timeline: {kinds:?}"
        );
    });
}

#[test]
fn a_storm_of_429_answers_with_retry_after_and_never_reaches_the_server() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.set_http(HttpFault::TooManyRequests { retry_after: Duration::from_secs(3) }, Route::Any, 1000);
        let (status, headers, _) = request(proxy.local_addr(), "POST", "/push").await.expect("an answer");
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers.get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("3"));
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 0);
        proxy.calm();
        let (status, _, body) = request(proxy.local_addr(), "POST", "/push").await.expect("an answer");
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"applied 1"[..]), "calm again: the push goes through");
    });
}

#[test]
fn a_reset_in_the_middle_of_a_body_delivers_part_of_it_then_fails() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.set_http(HttpFault::ResetMidBody, Route::Path("/big"), 1000);
        let error = request(proxy.local_addr(), "GET", "/big").await.expect_err("the body breaks");
        assert!(error.starts_with("body"), "the head arrived and the body broke: {error}");
    });
}

#[test]
fn a_partition_refuses_connections_and_the_repair_opens_the_port_again() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.partition(Ways::Both);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = TcpStream::connect(proxy.local_addr()).await.expect_err("refused while partitioned");
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        proxy.repair(Ways::Both);
        let (status, _, _) = request(proxy.local_addr(), "POST", "/push").await.expect("repaired");
        assert_eq!(status, StatusCode::OK);
        proxy.set_profile(Profile::OFFLINE);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(proxy.local_addr()).await.is_err(), "offline is a partition both ways");
    });
}

#[test]
fn a_hold_accepts_the_connection_and_keeps_the_request_until_the_release() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.hold();
        let addr = proxy.local_addr();
        let pending = tokio::task::spawn_local(async move { request(addr, "POST", "/push").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!pending.is_finished(), "held: no answer");
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 0, "held: the server has not seen the push");
        proxy.release();
        let (status, _, _) = pending.await.expect("the task").expect("released: the push goes through");
        assert_eq!((status, upstream.pushes.load(Ordering::SeqCst)), (StatusCode::OK, 1));
    });
}

#[test]
fn a_one_way_partition_to_the_server_stalls_and_the_repair_fails_the_stalled_connection() {
    live(|| async {
        let upstream = upstream().await;
        let proxy = proxy_for(&upstream, Profile::WIFI).await;
        proxy.partition(Ways::ToServer);
        let addr = proxy.local_addr();
        let pending = tokio::task::spawn_local(async move { request(addr, "POST", "/push").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!pending.is_finished(), "the request went nowhere");
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 0);
        proxy.repair(Ways::ToServer);
        let outcome = tokio::time::timeout(Duration::from_secs(5), pending).await.expect("the repair ends the stall");
        assert!(outcome.expect("the task").is_err(), "the stalled connection is dead");
        assert_eq!(upstream.pushes.load(Ordering::SeqCst), 0, "what was lost stays lost");
        let (status, _, _) = request(addr, "POST", "/push").await.expect("a new connection goes through");
        assert_eq!(status, StatusCode::OK);
    });
}
