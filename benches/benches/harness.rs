//! The harness itself, in wall time: how many virtual seconds it simulates per wall second
//! with 1, 3, 10 and 50 devices; what that costs beside a bare turmoil HTTP echo of the
//! same traffic; and how long checking a history takes against its length.
//!
//! Each device count runs one scenario of the reference ([`scenario`]) with seed 1; its
//! history's completed rounds are replayed by [`benches::echo`], and the history is checked
//! against every invariant (the median of five repeats). The figures are printed and
//! written to `target/syncsim-bench/harness.json` for `syncsim bench-report`. `--quick`
//! checks each history once.

use benches::echo;
use scenarios::figures::{self, HarnessFigures, HarnessRun, Measured};
use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::history::EventKind;
use syncsim::{Profile, Scenario, Workload};

/// Every run's seed.
const SEED: u64 = 1;

/// The simulation's tick: the harness's default.
const TICK: Duration = Duration::from_millis(1);

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeats = if quick { 1 } else { 5 };
    let runs: Vec<HarnessRun> = [1, 3, 10, 50].into_iter().map(|devices| measure(devices, repeats)).collect();
    let harness =
        HarnessFigures { schema: figures::HARNESS_SCHEMA.to_owned(), version: figures::VERSION, seed: SEED, runs };
    let target = figures::target_dir();
    let path = figures::harness_path(&target);
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).expect("the figures' directory");
    let json = serde_json::to_string_pretty(&harness).expect("figures serialize");
    std::fs::write(&path, json + "\n").unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    let measured = Measured { harness: Some(harness), ..Measured::default() };
    println!("{}", figures::report(&target, &measured));
    println!("written to {}", path.display());
}

/// The benchmark scenario with `devices` devices: five devices per user, each making 30
/// operations of the balanced mix two seconds apart on lte, then the harness's final
/// phase (heal, sync until idle, converge).
fn scenario(devices: usize) -> Scenario {
    Scenario::builder(&format!("harness_{devices}_devices"))
        .devices(devices)
        .users(devices.div_ceil(5))
        .profile(Profile::LTE)
        .workload(Workload::mixed(30))
        .duration(Duration::from_secs(90))
        .build()
}

/// Runs, echoes and checks the scenario with `devices` devices.
#[allow(clippy::disallowed_methods)] // wall time is what this benchmark measures
fn measure(devices: usize, repeats: usize) -> HarnessRun {
    let scenario = scenario(devices);
    let started = std::time::Instant::now();
    let history = scenario.history(&ReferenceClient::default(), &ReferenceServer::default(), SEED);
    let wall = started.elapsed();

    let traffic = echo::traffic(&history);
    let down: u64 = traffic.values().flatten().map(|r| r.down).sum();
    let started = std::time::Instant::now();
    let echoed = echo::replay(&traffic, SEED, TICK);
    let echo_wall = started.elapsed();
    assert_eq!(echoed, down, "the echo moves the run's bytes");

    let mut checks: Vec<Duration> = (0..repeats)
        .map(|_| {
            let history = history.clone();
            let started = std::time::Instant::now();
            let report = scenario.check(history);
            let took = started.elapsed();
            assert!(report.ok(), "the reference passes its own benchmark scenario: {report:?}");
            took
        })
        .collect();
    checks.sort();
    let run = HarnessRun {
        devices,
        events: history.events.len(),
        requests: history.events.iter().filter(|e| matches!(e.kind, EventKind::Request { .. })).count() as u64,
        virtual_ms: history.events.last().map_or(0, |e| e.t_ms),
        wall_us: wall.as_micros() as u64,
        echo_wall_us: echo_wall.as_micros() as u64,
        check_us: checks[checks.len() / 2].as_micros() as u64,
    };
    eprintln!(
        "{devices} devices: {} events, {} requests, {:.1} s virtual in {:.2} s wall; echo {:.2} s; check {:.1} ms",
        run.events,
        run.requests,
        run.virtual_ms as f64 / 1e3,
        wall.as_secs_f64(),
        echo_wall.as_secs_f64(),
        run.check_us as f64 / 1e3
    );
    run
}
