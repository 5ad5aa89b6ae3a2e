//! The performance figures: what `cargo bench -p benches` measures beside criterion (sync
//! work in virtual time, database sizes), the targets they are held against, and the table
//! `syncsim bench-report` prints from them and from criterion's medians.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use syncsim::Profile;

/// The schema name of the figures file.
pub const SCHEMA: &str = "syncsim-bench-figures";
/// Its version.
pub const VERSION: u32 = 1;

/// Everything the `sync` bench measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    /// [`SCHEMA`].
    pub schema: String,
    /// [`VERSION`].
    pub version: u32,
    /// The rig seeds each sync figure is the median over.
    pub seeds: Vec<u64>,
    /// Sync work in virtual time.
    pub sync: Vec<SyncFigure>,
    /// Local database sizes.
    pub size: SizeFigure,
}

/// One piece of sync work on one profile: its median over the seeds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SyncFigure {
    /// What was timed: `pull` or `push`.
    pub work: String,
    /// Records pulled or mutations pushed.
    pub count: usize,
    /// The profile's name.
    pub profile: String,
    /// Whether bodies were gzipped.
    pub gzip: bool,
    /// Virtual time, in milliseconds.
    pub elapsed_ms: u64,
    /// The wire limit for the same requests and bytes (see `syncsim::rig::Timing::wire_limit`).
    pub wire_limit_ms: u64,
    /// Sync rounds.
    pub rounds: u64,
    /// HTTP requests.
    pub requests: u64,
    /// Bytes on the wire, device to server.
    pub bytes_up: u64,
    /// Bytes on the wire, server to device.
    pub bytes_down: u64,
}

/// Local database bytes per 1,000 records.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SizeFigure {
    /// 1,000 pulled records, the queue empty.
    pub synced: u64,
    /// 1,000 records written offline: each with its queue entry.
    pub queued: u64,
}

/// Where the figures file goes: `syncsim-bench/figures.json` in cargo's target directory.
pub fn figures_path(target: &Path) -> PathBuf {
    target.join("syncsim-bench").join("figures.json")
}

/// The workspace's target directory: `CARGO_TARGET_DIR`, or `target` beside the workspace's
/// manifest (benches and the CLI both run from inside the workspace).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the scenarios crate sits in the workspace").join("target")
}

/// A target of the design documents (the floor) for one local figure, and the criterion
/// benchmark that measures it.
pub struct LocalTarget {
    /// What is measured.
    pub what: &'static str,
    /// The criterion id, `group/function`.
    pub bench: &'static str,
    /// The floor, when the design documents set one.
    pub floor: Option<Duration>,
}

/// The local figures, in the order of the report.
pub const LOCAL: [LocalTarget; 6] = [
    LocalTarget { what: "query of 100 records", bench: "local/query_100", floor: Some(Duration::from_millis(10)) },
    LocalTarget { what: "query of all 10K records", bench: "local/query_10k", floor: Some(Duration::from_millis(50)) },
    LocalTarget { what: "local write with its queue entry", bench: "local/write", floor: None },
    LocalTarget { what: "apply a pull page of 500 records", bench: "local/apply_page_500", floor: None },
    LocalTarget { what: "apply a pull page of 10K records", bench: "local/apply_page_10k", floor: None },
    LocalTarget {
        what: "cold start: open 10K records, read the first screen",
        bench: "local/cold_start",
        floor: Some(Duration::from_millis(500)),
    },
];

/// The floor of a sync figure: pull of 500 records under 2 s and push of 50 mutations
/// under 1 s on 4G (slow-4g); a background sync (the initial sync or a drained queue)
/// under 25 s.
pub fn sync_floor(work: &str, count: usize, profile: &str) -> Option<Duration> {
    match (work, count, profile) {
        ("pull", 500, "slow-4g") => Some(Duration::from_secs(2)),
        ("push", 50, "slow-4g") => Some(Duration::from_secs(1)),
        ("pull", 10_000, _) | ("push", 1_000, _) => Some(Duration::from_secs(25)),
        _ => None,
    }
}

/// The floor of the database size: 500 KB per 1,000 records.
pub const SIZE_FLOOR: u64 = 500 * 1000;

/// The profiles sync work is timed on.
pub const PROFILES: [Profile; 3] = [Profile::SLOW_4G, Profile::THREE_G, Profile::LTE];

/// Criterion's median of benchmark `id` (`group/function`) under `target`, if it ran.
pub fn criterion_median(target: &Path, id: &str) -> Option<Duration> {
    let path = target.join("criterion").join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    let nanos = estimates.get("median")?.get("point_estimate")?.as_f64()?;
    Some(Duration::from_nanos(nanos as u64))
}

/// `d` in the unit that reads best.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.1} µs", ms * 1e3)
    }
}

/// `bytes` in KB (1,000 bytes), or MB above 10,000 KB.
pub fn bytes(bytes: u64) -> String {
    if bytes >= 10_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

/// The report: one table per kind of figure, as markdown. Figures not measured yet are
/// marked so, with the command that measures them.
pub fn report(target: &Path, figures: Option<&Figures>) -> String {
    let mut out = String::from(
        "# Benchmarks\n\nWritten by `syncsim bench-report` from the figures of the last \
         `cargo bench -p benches`; `bash benches/run` measures them all and writes this file. \
         A floor is a target of the design documents; the goal is 10x past each local floor, \
         within 1.3x of the wire limit for sync work, and at most half the size floor.\n\n",
    );
    out.push_str("### Local work (wall time, reference client, 10K tasks on the device)\n\n");
    out.push_str("| figure | floor | median | floor / median |\n| --- | --- | --- | --- |\n");
    for t in &LOCAL {
        let median = criterion_median(target, t.bench);
        let floor = t.floor.map_or_else(|| "none set".to_owned(), duration);
        let (shown, ratio) = match (median, t.floor) {
            (Some(m), Some(f)) => (duration(m), format!("{:.1}x", f.as_secs_f64() / m.as_secs_f64().max(1e-12))),
            (Some(m), None) => (duration(m), "-".to_owned()),
            (None, _) => ("not measured".to_owned(), "-".to_owned()),
        };
        out.push_str(&format!("| {} | {floor} | {shown} | {ratio} |\n", t.what));
    }
    let Some(figures) = figures else {
        out.push_str("\nNo sync or size figures: `cargo bench -p benches --bench sync` measures them.\n");
        return out;
    };
    out.push_str(&format!("\n### Sync work (virtual time, median of seeds {:?})\n\n", figures.seeds));
    out.push_str(
        "| work | profile | gzip | floor | ours | floor / ours | wire limit | ours / wire limit | requests | up | down |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for f in &figures.sync {
        let elapsed = Duration::from_millis(f.elapsed_ms);
        let limit = Duration::from_millis(f.wire_limit_ms);
        let floor = sync_floor(&f.work, f.count, &f.profile);
        let what = match f.work.as_str() {
            "pull" if f.count >= 10_000 => format!("initial sync of {} records", f.count),
            "pull" => format!("pull of {} records", f.count),
            _ if f.count >= 1_000 => format!("drain {} offline mutations", f.count),
            _ => format!("push of {} mutations", f.count),
        };
        out.push_str(&format!(
            "| {what} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |\n",
            f.profile,
            if f.gzip { "yes" } else { "no" },
            floor.map_or_else(|| "-".to_owned(), duration),
            duration(elapsed),
            floor.map_or_else(
                || "-".to_owned(),
                |fl| format!("{:.1}x", fl.as_secs_f64() / elapsed.as_secs_f64().max(1e-9))
            ),
            duration(limit),
            elapsed.as_secs_f64() / limit.as_secs_f64().max(1e-9),
            f.requests,
            bytes(f.bytes_up),
            bytes(f.bytes_down),
        ));
    }
    out.push_str("\n### Local database size (per 1,000 records)\n\n");
    out.push_str("| database | floor | ours | ours / floor |\n| --- | --- | --- | --- |\n");
    for (what, size) in
        [("1K records, queue empty", figures.size.synced), ("1K records, 1K queued mutations", figures.size.queued)]
    {
        out.push_str(&format!(
            "| {what} | {} | {} | {:.2} |\n",
            bytes(SIZE_FLOOR),
            bytes(size),
            size as f64 / SIZE_FLOOR as f64
        ));
    }
    out
}
