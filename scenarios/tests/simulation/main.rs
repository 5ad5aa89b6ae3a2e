//! The reference server and client inside turmoil: the first check that the reference is
//! simulation-ready (runs on turmoil's network and virtual time, converges after a
//! partition, and gives the same trace for the same seed).

use protocol::{Clock, Entity, Strategies};
use reference_client::{BoxStream, Changes, Client, ClientConfig, Connector, Timeouts};
use reference_server::{app, serve, ServerConfig, Store};
use std::cell::RefCell;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use tempfile::TempDir;

const SERVER: &str = "server";
const PORT: u16 = 8080;
const DEVICES: usize = 3;

fn device(i: usize) -> String {
    format!("device{i}")
}

struct TurmoilListener(turmoil::net::TcpListener);

impl axum::serve::Listener for TurmoilListener {
    type Io = turmoil::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok(accepted) = self.0.accept().await {
                return accepted;
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

struct TurmoilConnector;

impl Connector for TurmoilConnector {
    fn connect(&self) -> Pin<Box<dyn Future<Output = std::io::Result<BoxStream>> + '_>> {
        Box::pin(async {
            let stream = turmoil::net::TcpStream::connect((SERVER, PORT)).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// Wall clock of the simulation (every host agrees; skew is the harness's later work).
struct SimClock;

impl Clock for SimClock {
    fn now_ms(&self) -> i64 {
        turmoil::since_epoch().expect("called inside a simulated host").as_millis() as i64
    }
}

fn client_config(dir: &Path, i: usize) -> ClientConfig {
    let mut config =
        ClientConfig::new(dir.join(device(i)), &device(i), &format!("token{i}"), Rc::new(TurmoilConnector));
    config.clock = Arc::new(SimClock);
    config.seed = i as u64;
    config.timeouts = Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) };
    config
}

/// One device: a write and a sync round every second; each round's outcome goes to `trace`.
async fn app_loop(dir: PathBuf, i: usize, trace: Rc<RefCell<Vec<String>>>) -> turmoil::Result {
    let client = Client::open(client_config(&dir, i))?;
    let project = client.create(Entity::Project, Changes::new().set("name", format!("p{i}")))?;
    for round in 0.. {
        if round < 20 {
            client.update(Entity::Project, &project, Changes::new().set("description", format!("r{round}")))?;
        }
        let outcome = match client.sync().await {
            Ok(r) => format!(
                "ok pulled={} pushed={} sent={} received={}",
                r.pulled, r.pushed, r.bytes_sent, r.bytes_received
            ),
            Err(e) => format!("err {e}"),
        };
        let at = turmoil::sim_elapsed().unwrap_or_default().as_millis();
        trace.borrow_mut().push(format!("{at} {} {outcome}", device(i)));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// Runs 3 devices of one user against the server, with device0 partitioned from 5 s to
/// 25 s, for 60 virtual seconds. Returns the trace and each device's and the server's state.
fn run(seed: u64) -> (Vec<String>, Vec<String>) {
    let dir = TempDir::new().unwrap();
    let trace = Rc::new(RefCell::new(Vec::new()));
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .min_message_latency(Duration::from_millis(10))
        .max_message_latency(Duration::from_millis(80))
        .simulation_duration(Duration::from_secs(120))
        .build();
    let server_db = dir.path().join("server.db");
    sim.host(SERVER, move || {
        let path = server_db.clone();
        async move {
            let mut config = ServerConfig::default().strategies(Strategies::default()).clock(Arc::new(SimClock));
            for i in 0..DEVICES {
                config = config.token("alice", format!("token{i}"));
            }
            let store = Store::open(&path)?;
            let listener = turmoil::net::TcpListener::bind((IpAddr::from(Ipv4Addr::UNSPECIFIED), PORT)).await?;
            serve(TurmoilListener(listener), app(store, config)).await;
            Ok(())
        }
    });
    for i in 0..DEVICES {
        let (dir, trace) = (dir.path().to_owned(), trace.clone());
        sim.host(device(i), move || app_loop(dir.clone(), i, trace.clone()));
    }
    while sim.elapsed() < Duration::from_secs(60) {
        match sim.elapsed().as_millis() {
            5_000 => sim.partition(device(0), SERVER),
            25_000 => sim.repair(device(0), SERVER),
            _ => {}
        }
        sim.step().unwrap();
    }
    drop(sim);
    let server = Store::open(&dir.path().join("server.db")).unwrap().records("alice").unwrap();
    let server_view: std::collections::BTreeMap<_, _> =
        server.iter().filter(|r| !r.deleted).map(|r| ((r.entity, r.id.clone()), r.visible())).collect();
    let mut states = vec![serde_json::to_string(&server_view.iter().collect::<Vec<_>>()).unwrap()];
    for i in 0..DEVICES {
        let config = client_config(dir.path(), i);
        let client = Client::open(config).unwrap();
        let view = client.visible_state().unwrap();
        assert_eq!(view, server_view, "seed {seed}: {} diverged from the server", device(i));
        assert_eq!(client.status().unwrap().pending, 0, "seed {seed}: {}'s queue did not drain", device(i));
        states.push(serde_json::to_string(&view.iter().collect::<Vec<_>>()).unwrap());
    }
    let trace = trace.borrow().clone();
    (trace, states)
}

#[test]
fn devices_partitioned_from_the_server_converge_after_repair() {
    let (trace, _) = run(1);
    if std::env::var_os("SYNCSIM_PRINT_TRACE").is_some() {
        println!("{}", trace.join("\n"));
    }
    let partitioned = trace.iter().filter(|l| l.contains("device0 err")).count();
    assert!(partitioned >= 10, "device0 should fail its rounds while partitioned; trace:\n{}", trace.join("\n"));
}

#[test]
fn the_same_seed_gives_the_same_trace_and_another_seed_another() {
    let first = run(7);
    assert_eq!(first, run(7), "same seed, same trace and states");
    assert_ne!(first.0, run(8).0, "a different seed changes latencies, so the trace");
}
