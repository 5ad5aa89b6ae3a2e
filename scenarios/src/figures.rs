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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SizeFigure {
    /// 1,000 pulled records, the queue empty.
    pub synced: u64,
    /// 1,000 records written offline: each with its queue entry.
    pub queued: u64,
    /// Where the bytes go, in both databases, at the latest local schema and at the one
    /// before it was packed.
    #[serde(default)]
    pub parts: Vec<SizePart>,
}

/// The bytes one part of a local database takes (a table, an index, free pages).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SizePart {
    /// The local schema version of the database.
    pub schema: u32,
    /// Whether it holds 1,000 queued writes (else 1,000 pulled records, the queue empty).
    pub queued: bool,
    /// What the part is, for people.
    pub part: String,
    /// Its bytes on disk.
    pub bytes: u64,
}

/// The schema name of the harness figures file.
pub const HARNESS_SCHEMA: &str = "syncsim-bench-harness";

/// What the `harness` bench measured: runs of the reference with more and more devices.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HarnessFigures {
    /// [`HARNESS_SCHEMA`].
    pub schema: String,
    /// [`VERSION`].
    pub version: u32,
    /// The seed of every run.
    pub seed: u64,
    /// One run per device count, fewest devices first.
    pub runs: Vec<HarnessRun>,
}

/// One run of the harness benchmark scenario (see `benches/benches/harness.rs`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HarnessRun {
    /// Devices in the run.
    pub devices: usize,
    /// Events in its history.
    pub events: usize,
    /// HTTP requests the devices made.
    pub requests: u64,
    /// Virtual time the run covered, in milliseconds.
    pub virtual_ms: u64,
    /// Wall time of the run (the simulation, without the checks), in microseconds.
    pub wall_us: u64,
    /// Wall time of a bare turmoil HTTP echo of the same traffic, in microseconds.
    pub echo_wall_us: u64,
    /// Wall time of checking the history against every invariant (median of repeats), in
    /// microseconds.
    pub check_us: u64,
}

/// The wall time of the default `certify`, as `benches/run` timed it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertifyFigure {
    /// Wall time, in milliseconds.
    pub wall_ms: u64,
    /// Runs it made (scenarios times seeds).
    pub runs: u64,
    /// Worker threads it used.
    pub jobs: u64,
}

/// Where the harness figures go: `syncsim-bench/harness.json` in the target directory.
pub fn harness_path(target: &Path) -> PathBuf {
    target.join("syncsim-bench").join("harness.json")
}

/// Where `benches/run` writes the certify timing: `syncsim-bench/certify.json`.
pub fn certify_path(target: &Path) -> PathBuf {
    target.join("syncsim-bench").join("certify.json")
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

/// Every figure the benches left in a target directory (criterion's medians are read as
/// the report needs them).
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// The `sync` bench's figures.
    pub sync: Option<Figures>,
    /// The `harness` bench's figures.
    pub harness: Option<HarnessFigures>,
    /// `benches/run`'s timing of the default `certify`.
    pub certify: Option<CertifyFigure>,
}

impl Measured {
    /// Reads the figure files under `target`; a file not there is a figure not measured.
    ///
    /// # Errors
    /// A file that is there but is not a figures file of this version, saying which.
    pub fn load(target: &Path) -> Result<Self, String> {
        Ok(Self {
            sync: read(&figures_path(target), Some(SCHEMA))?,
            harness: read(&harness_path(target), Some(HARNESS_SCHEMA))?,
            certify: read(&certify_path(target), None)?,
        })
    }

    /// Whether anything was measured, criterion's benchmarks included.
    pub fn any(&self, target: &Path) -> bool {
        self.sync.is_some()
            || self.harness.is_some()
            || self.certify.is_some()
            || LOCAL.iter().any(|t| criterion_median(target, t.bench).is_some())
    }
}

/// Reads the figures file at `path`, if there is one, checking its `schema` and `version`
/// when it has a `schema`.
fn read<T: serde::de::DeserializeOwned>(path: &Path, schema: Option<&str>) -> Result<Option<T>, String> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    let not_figures = |e: serde_json::Error| format!("{} is not a figures file: {e}", path.display());
    let value: serde_json::Value = serde_json::from_str(&text).map_err(not_figures)?;
    if let Some(schema) = schema {
        let found = (value.get("schema").and_then(|s| s.as_str()), value.get("version").and_then(|v| v.as_u64()));
        if found != (Some(schema), Some(u64::from(VERSION))) {
            return Err(format!(
                "{} is {} version {}, this syncsim reads {schema} version {VERSION}: run the benches again",
                path.display(),
                found.0.unwrap_or("no schema"),
                found.1.map_or_else(|| "none".to_owned(), |v| v.to_string()),
            ));
        }
    }
    serde_json::from_value(value).map(Some).map_err(not_figures)
}

/// The report: one table per kind of figure, as markdown. Figures not measured yet are
/// marked so, with the command that measures them.
pub fn report(target: &Path, measured: &Measured) -> String {
    let mut out = String::from(
        "# Benchmarks\n\nWritten by `syncsim bench-report` from the figures of the last \
         `cargo bench -p benches`; `bash benches/run` measures them all and writes this file. \
         A floor is a target of the design documents; the goal is 10x past each local floor, \
         within 1.3x of the wire limit for sync work, and at most half the size floor.\n\n",
    );
    out.push_str("### Local work (wall time, reference client, 10K tasks on the device)\n\n");
    out.push_str(
        "The same work at local schema 6 (JSON rows, before schema 7 packed them) is measured in \
         the same run, on the same records.\n\n\
         | figure | floor | median | floor / median | at schema 6 | schema 6 / ours |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for t in &LOCAL {
        let median = criterion_median(target, t.bench);
        let floor = t.floor.map_or_else(|| "none set".to_owned(), duration);
        let (shown, ratio) = match (median, t.floor) {
            (Some(m), Some(f)) => (duration(m), format!("{:.1}x", f.as_secs_f64() / m.as_secs_f64().max(1e-12))),
            (Some(m), None) => (duration(m), "-".to_owned()),
            (None, _) => ("not measured".to_owned(), "-".to_owned()),
        };
        let before = criterion_median(target, &t.bench.replace("local/", "local_schema6/"));
        let (before, speedup) = match (before, median) {
            (Some(b), Some(m)) => (duration(b), format!("{:.1}x", b.as_secs_f64() / m.as_secs_f64().max(1e-12))),
            (Some(b), None) => (duration(b), "-".to_owned()),
            (None, _) => ("-".to_owned(), "-".to_owned()),
        };
        out.push_str(&format!("| {} | {floor} | {shown} | {ratio} | {before} | {speedup} |\n", t.what));
    }
    match &measured.sync {
        Some(figures) => out.push_str(&sync_tables(figures)),
        None => out.push_str("\nNo sync or size figures: `cargo bench -p benches --bench sync` measures them.\n"),
    }
    match &measured.harness {
        Some(harness) => out.push_str(&harness_table(harness)),
        None => out.push_str("\nNo harness figures: `cargo bench -p benches --bench harness` measures them.\n"),
    }
    match &measured.certify {
        Some(c) => out.push_str(&format!(
            "\nThe default `certify` ({} runs on {} workers): {} of wall time.\n",
            c.runs,
            c.jobs,
            duration(Duration::from_millis(c.wall_ms))
        )),
        None => out.push_str("\nThe default `certify` was not timed: `bash benches/run` times it.\n"),
    }
    out
}

/// The sync and size tables.
fn sync_tables(figures: &Figures) -> String {
    let mut out = String::new();
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
    out.push_str(&size_parts(&figures.size.parts));
    out
}

/// Where the bytes of each database go, in bytes per record, one column per database.
fn size_parts(parts: &[SizePart]) -> String {
    let mut databases: Vec<(u32, bool)> = Vec::new();
    for p in parts {
        if !databases.contains(&(p.schema, p.queued)) {
            databases.push((p.schema, p.queued));
        }
    }
    // Each database lists its parts in the same order: a part one lacks goes where the
    // others have it.
    let mut names: Vec<&str> = Vec::new();
    for (schema, queued) in &databases {
        let mut at = 0;
        for p in parts.iter().filter(|p| p.schema == *schema && p.queued == *queued) {
            match names.iter().position(|n| *n == p.part) {
                Some(i) => at = i + 1,
                None => {
                    names.insert(at, &p.part);
                    at += 1;
                }
            }
        }
    }
    if databases.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nWhere the bytes go, in bytes per record (the same 1,000 records at each local schema):\n\n| part |",
    );
    for (schema, queued) in &databases {
        out.push_str(&format!(" schema {schema}, {} |", if *queued { "1K queued" } else { "queue empty" }));
    }
    out.push_str(&format!("\n| --- |{}\n", " --- |".repeat(databases.len())));
    let per_record = |bytes: u64| format!("{:.0}", bytes as f64 / 1_000.0);
    for name in names.iter().copied().chain(["total"]) {
        out.push_str(&format!("| {name} |"));
        for (schema, queued) in &databases {
            let of = |p: &&SizePart| p.schema == *schema && p.queued == *queued && (name == "total" || p.part == name);
            let found: Vec<&SizePart> = parts.iter().filter(of).collect();
            let cell = if found.is_empty() { "-".to_owned() } else { per_record(found.iter().map(|p| p.bytes).sum()) };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

/// The harness table: speed, overhead against a bare echo, and check time, per device count.
fn harness_table(harness: &HarnessFigures) -> String {
    let mut out = format!(
        "\n### The harness (wall time, reference implementation, seed {})\n\n\
         | devices | virtual time | wall time | virtual s per wall s | events | requests | bare echo | run / echo | check | check per 1K events |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        harness.seed
    );
    for r in &harness.runs {
        let (wall, echo, check) = (r.wall_us.max(1) as f64, r.echo_wall_us.max(1) as f64, r.check_us as f64);
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {:.1}x | {} | {} |\n",
            r.devices,
            duration(Duration::from_millis(r.virtual_ms)),
            duration(Duration::from_micros(r.wall_us)),
            r.virtual_ms as f64 * 1e3 / wall,
            r.events,
            r.requests,
            duration(Duration::from_micros(r.echo_wall_us)),
            wall / echo,
            duration(Duration::from_micros(r.check_us)),
            duration(Duration::from_secs_f64(check * 1e-6 * 1e3 / r.events.max(1) as f64)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harness() -> HarnessFigures {
        let run = HarnessRun {
            devices: 3,
            events: 2_000,
            requests: 300,
            virtual_ms: 90_000,
            wall_us: 600_000,
            echo_wall_us: 400_000,
            check_us: 4_000,
        };
        HarnessFigures { schema: HARNESS_SCHEMA.to_owned(), version: VERSION, seed: 1, runs: vec![run] }
    }

    fn write(dir: &Path, path: PathBuf, json: &str) {
        std::fs::create_dir_all(dir.join("syncsim-bench")).unwrap();
        std::fs::write(path, json).unwrap();
    }

    #[test]
    fn the_parts_of_each_database_are_rows_in_one_order_and_a_part_a_schema_lacks_is_a_dash() {
        let part = |schema, part: &str, bytes| SizePart { schema, queued: false, part: part.to_owned(), bytes };
        let parts = [
            part(6, "rows", 800_000),
            part(6, "index by title", 90_000),
            part(6, "free pages", 50_000),
            part(7, "rows", 300_000),
            part(7, "index by id", 30_000),
            part(7, "index by title", 0),
            part(7, "free pages", 0),
        ];
        let table = size_parts(&parts);
        let rows: Vec<&str> = table.lines().skip_while(|l| !l.starts_with("| ---")).skip(1).collect();
        assert_eq!(
            rows,
            [
                "| rows | 800 | 300 |",
                "| index by id | - | 30 |",
                "| index by title | 90 | 0 |",
                "| free pages | 50 | 0 |",
                "| total | 940 | 330 |"
            ],
            "{table}"
        );
        assert!(table.contains("| part | schema 6, queue empty | schema 7, queue empty |"), "{table}");
    }

    #[test]
    fn nothing_is_measured_in_an_empty_target() {
        let dir = tempfile::tempdir().unwrap();
        let measured = Measured::load(dir.path()).unwrap();
        assert!(!measured.any(dir.path()));
        assert!(report(dir.path(), &measured).contains("No harness figures"));
    }

    #[test]
    fn harness_figures_are_read_back_and_shown_with_their_ratios() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), harness_path(dir.path()), &serde_json::to_string(&harness()).unwrap());
        write(dir.path(), certify_path(dir.path()), r#"{"wall_ms": 75000, "runs": 300, "jobs": 2}"#);
        let measured = Measured::load(dir.path()).unwrap();
        assert_eq!(measured.harness, Some(harness()));
        let report = report(dir.path(), &measured);
        let row = "| 3 | 90.00 s | 600.00 ms | 150.0 | 2000 | 300 | 400.00 ms | 1.5x | 4.00 ms | 2.00 ms |";
        assert!(report.contains(row), "{report}");
        assert!(report.contains("The default `certify` (300 runs on 2 workers): 75.00 s"), "{report}");
    }

    #[test]
    fn a_figures_file_of_another_version_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let old = HarnessFigures { version: VERSION + 1, ..harness() };
        write(dir.path(), harness_path(dir.path()), &serde_json::to_string(&old).unwrap());
        let error = Measured::load(dir.path()).unwrap_err();
        assert!(error.contains("harness.json") && error.contains("run the benches again"), "{error}");
        write(dir.path(), harness_path(dir.path()), "not json");
        assert!(Measured::load(dir.path()).unwrap_err().contains("is not a figures file"));
    }
}
