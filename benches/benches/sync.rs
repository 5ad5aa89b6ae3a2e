//! Sync work in virtual time and local database sizes: the figures criterion cannot take.
//!
//! Each piece of sync work runs in a `syncsim::rig` (the reference client and server, the
//! harness's paced links, no faults) on slow-4g, 3g and lte, with gzip, and on slow-4g
//! without; each figure is the median over the seeds (one with `--quick`). Virtual time
//! does not depend on the machine, so the figures are exact, not sampled. They are printed
//! and written to `target/syncsim-bench/figures.json` for `syncsim bench-report`.

use benches::{perform, Loopback};
use reference_client::Replica;
use scenarios::figures::{self, Figures, SizeFigure, SizePart, SyncFigure, PROFILES};
use scenarios::reference::{ReferenceClient, ReferenceServer};
use syncsim::rig::{Rig, SyncWork};
use syncsim::Profile;

/// The work timed, in the order of the report.
const WORK: [SyncWork; 4] = [SyncWork::Pull(500), SyncWork::Push(50), SyncWork::Pull(10_000), SyncWork::Push(1_000)];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`, and any filter meant for the criterion benches.
    let quick = args.iter().any(|a| a == "--quick");
    let seeds: Vec<u64> = if quick { vec![1] } else { vec![1, 2, 3] };
    let mut sync = Vec::new();
    for work in WORK {
        for profile in PROFILES {
            sync.push(median(&seeds, work, profile, true));
        }
        sync.push(median(&seeds, work, Profile::SLOW_4G, false));
    }
    let figures = Figures { schema: figures::SCHEMA.to_owned(), version: figures::VERSION, seeds, sync, size: sizes() };
    let target = figures::target_dir();
    let path = figures::figures_path(&target);
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).expect("the figures' directory");
    let json = serde_json::to_string_pretty(&figures).expect("figures serialize");
    std::fs::write(&path, json + "\n").unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    let measured = figures::Measured { sync: Some(figures), ..figures::Measured::default() };
    println!("{}", figures::report(&target, &measured));
    println!("written to {}", path.display());
}

/// `work` on `profile` over `seeds`: the run with the median virtual time.
fn median(seeds: &[u64], work: SyncWork, profile: Profile, gzip: bool) -> SyncFigure {
    let client = ReferenceClient {
        gzip,
        page_size: benches::PAGE,
        batch_size: benches::PAGE as usize,
        ..ReferenceClient::default()
    };
    let mut runs: Vec<_> = seeds
        .iter()
        .map(|&seed| {
            #[allow(clippy::disallowed_methods)]
            let started = std::time::Instant::now(); // allowed: the wall time a rig takes, printed as progress
            let timing = Rig::new(profile, seed).time(&client, &ReferenceServer::default(), work);
            let gz = if gzip { "gzip" } else { "no gzip" };
            eprintln!(
                "{work} on {} ({gz}), seed {seed}: {:?} virtual, {} requests, {} B up, {} B down ({:.1} s wall)",
                profile.name,
                timing.elapsed,
                timing.requests,
                timing.bytes_up,
                timing.bytes_down,
                started.elapsed().as_secs_f64()
            );
            timing
        })
        .collect();
    runs.sort_by_key(|t| t.elapsed);
    let timing = runs[runs.len() / 2];
    let (name, count) = match work {
        SyncWork::Pull(n) => ("pull", n),
        SyncWork::Push(n) => ("push", n),
    };
    let moved = if name == "pull" { timing.pulled } else { timing.pushed };
    assert_eq!(moved, count as u64, "{work} on {}: every record moved once", profile.name);
    SyncFigure {
        work: name.to_owned(),
        count,
        profile: profile.name.to_owned(),
        gzip,
        elapsed_ms: timing.elapsed.as_millis() as u64,
        wire_limit_ms: timing.wire_limit(&profile).as_millis() as u64,
        rounds: timing.rounds,
        requests: timing.requests,
        bytes_up: timing.bytes_up,
        bytes_down: timing.bytes_down,
    }
}

/// The local schema before records and the queue were packed: measured beside the latest.
const UNPACKED: u32 = 6;

/// The database sizes at the latest local schema, and where their bytes go at it and at
/// [`UNPACKED`].
fn sizes() -> SizeFigure {
    let latest = reference_client::schema::LATEST_VERSION;
    let mut figure = SizeFigure { synced: 0, queued: 0, parts: Vec::new() };
    for schema in [UNPACKED, latest] {
        for queued in [false, true] {
            let (total, parts) = database(schema, queued);
            if schema == latest {
                *(if queued { &mut figure.queued } else { &mut figure.synced }) = total;
            }
            let parts = parts.into_iter().map(|(part, bytes)| SizePart { schema, queued, part, bytes });
            figure.parts.extend(parts);
        }
    }
    figure
}

/// A device's database at local schema `schema` holding 1,000 records, pulled or (`queued`)
/// written offline with their 1,000 queue entries: its bytes on disk, and where they go.
fn database(schema: u32, queued: bool) -> (u64, Vec<(String, u64)>) {
    let loopback = Loopback::start();
    let config = |name: &str, token: &str| {
        let mut config = loopback.config(name, token);
        config.schema_version = schema;
        config
    };
    let device = if queued {
        let device = Replica::open(config("device", "a1")).expect("the device opens");
        syncsim::rig::creates(benches::SEED, 1_000).iter().for_each(|op| perform(&device, op));
        assert_eq!(device.queue(None).expect("the queue").len(), 1_000);
        device
    } else {
        let writer = Replica::open(config("writer", "a1")).expect("the writer opens");
        syncsim::rig::creates(benches::SEED, 1_000).iter().for_each(|op| perform(&writer, op));
        loopback.sync_until_idle(&writer);
        let device = Replica::open(config("device", "a2")).expect("the device opens");
        loopback.sync_until_idle(&device);
        device
    };
    drop(device);
    let dir = loopback.dir.path().join("device");
    (benches::disk_bytes(&dir), benches::parts(&dir.join(reference_client::DB_FILE)))
}
