//! A bare turmoil HTTP echo of a run's traffic: what the simulated network costs without
//! the harness (pacing, faults, history, invariants) or the implementation (SQLite, sync
//! logic). The harness benchmark divides a run's wall time by its echo's.
//!
//! The traffic is read off the run's history: each completed sync round of each device,
//! at the virtual time it started, with its requests and its bytes each way. The echo
//! replays it: every device host opens one connection per round at that time and sends
//! the round's requests one after the other, each with its share of the round's bytes up,
//! and the server answers each with its share of the bytes down.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use syncsim::history::EventKind;
use syncsim::history::History;
use syncsim::net::{PORT, SERVER};

/// One completed sync round of one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    /// Virtual time of its start, since the start of the run.
    pub at: Duration,
    /// Its HTTP requests (at least one).
    pub requests: u64,
    /// Bytes it sent.
    pub up: u64,
    /// Bytes it received.
    pub down: u64,
}

/// The completed sync rounds of each device of `history`, in order. Rounds that failed
/// or were cut are left out: a run without faults has none.
pub fn traffic(history: &History) -> BTreeMap<String, Vec<Round>> {
    let mut started: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut rounds: BTreeMap<String, Vec<Round>> = BTreeMap::new();
    for event in &history.events {
        let host = event.host.as_str();
        match &event.kind {
            EventKind::SyncStart { .. } => {
                started.insert(host, (event.t_ms, 0));
            }
            EventKind::Request { .. } => {
                if let Some((_, requests)) = started.get_mut(host) {
                    *requests += 1;
                }
            }
            EventKind::SyncOk { outcome, .. } => {
                if let Some((at, requests)) = started.remove(host) {
                    rounds.entry(host.to_owned()).or_default().push(Round {
                        at: Duration::from_millis(at),
                        requests: requests.max(1),
                        up: outcome.bytes_sent,
                        down: outcome.bytes_received,
                    });
                }
            }
            EventKind::SyncFail { .. } | EventKind::SyncCut { .. } => {
                started.remove(host);
            }
            _ => {}
        }
    }
    rounds
}

/// The header that tells the echo server how many bytes to answer with.
const DOWN: &str = "x-echo-bytes";

/// Replays `traffic` in a bare turmoil simulation (seeded, the same tick) and returns
/// the bytes the devices received, which equal the traffic's bytes down.
///
/// # Panics
/// If a request fails: nothing in the echo injects faults.
pub fn replay(traffic: &BTreeMap<String, Vec<Round>>, seed: u64, tick: Duration) -> u64 {
    let end = traffic.values().flatten().map(|r| r.at).max().unwrap_or_default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(tick)
        .simulation_duration(end + Duration::from_secs(3_600))
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(4096)
        .build();
    sim.host(SERVER, || async {
        let listener = turmoil::net::TcpListener::bind((IpAddr::from(Ipv4Addr::UNSPECIFIED), PORT)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::task::spawn_local(async move {
                let service = hyper::service::service_fn(echo);
                let _ = hyper::server::conn::http1::Builder::new()
                    .auto_date_header(false)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let received = std::rc::Rc::new(std::cell::Cell::new(0u64));
    for (host, rounds) in traffic {
        let (rounds, received) = (rounds.clone(), received.clone());
        sim.client(host.as_str(), async move {
            for round in rounds {
                tokio::time::sleep(round.at.saturating_sub(turmoil::elapsed())).await;
                let bytes = send_round(&round).await?;
                received.set(received.get() + bytes);
            }
            Ok(())
        });
    }
    sim.run().expect("the echo completes");
    received.get()
}

/// Sends one round's requests over one connection; returns the bytes received.
async fn send_round(round: &Round) -> Result<u64, Box<dyn std::error::Error>> {
    let stream = turmoil::net::TcpStream::connect((SERVER, PORT)).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn_local(connection);
    let mut received = 0;
    for k in 0..round.requests {
        let up = share(round.up, round.requests, k);
        let down = share(round.down, round.requests, k);
        let request = http::Request::post("/echo")
            .header("host", SERVER)
            .header(DOWN, down)
            .body(Full::new(Bytes::from(vec![b'u'; up as usize])))?;
        let body = sender.send_request(request).await?.into_body().collect().await?.to_bytes();
        received += body.len() as u64;
    }
    Ok(received)
}

/// Request `k`'s share of `total` bytes split over `n` requests (the first ones take the
/// remainder).
fn share(total: u64, n: u64, k: u64) -> u64 {
    total / n + u64::from(k < total % n)
}

/// Answers with as many bytes as the request's header asks, after reading its body.
async fn echo(request: http::Request<hyper::body::Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let down = request.headers().get(DOWN).and_then(|v| v.to_str().ok()?.parse::<usize>().ok()).unwrap_or(0);
    let _ = request.into_body().collect().await;
    Ok(http::Response::new(Full::new(Bytes::from(vec![b'd'; down]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        assert_eq!((0..3).map(|k| share(10, 3, k)).collect::<Vec<_>>(), [4, 3, 3]);
    }

    #[test]
    fn the_echo_moves_every_byte_down() {
        let round = |at, requests, up, down| Round { at: Duration::from_millis(at), requests, up, down };
        let traffic = BTreeMap::from([
            ("device0".to_owned(), vec![round(0, 2, 300, 5_000), round(2_000, 1, 10, 20)]),
            ("device1".to_owned(), vec![round(0, 3, 0, 7_000)]),
        ]);
        assert_eq!(replay(&traffic, 1, Duration::from_millis(1)), 12_020, "rounds at the same time add up");
    }
}
