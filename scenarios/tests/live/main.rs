//! Live mode as a user sees it: the `syncsim` binary certifying real processes (its own
//! `serve` and `drive`, a driver in Node, drivers that misbehave), the JSON it writes, and
//! no process left behind after a run, a broken driver or a Ctrl-C.
//!
//! Every run here takes real time (about 45 s for a scenario): the set is kept small.
//! `SYNCSIM_LIVE_FILTER=TEXT` and `SYNCSIM_LIVE_SEEDS=N` widen the reference's live
//! certification for a longer campaign (`SYNCSIM_LIVE_FILTER=` runs every scenario).

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A small scenario of the suite, and no other scenario's name contains it.
const SMALL: &str = "offline_writes_then_reconnect";
/// The longest a live command of these tests may take before the test kills it.
const LIMIT: Duration = Duration::from_secs(1800);

const EXE: &str = env!("CARGO_BIN_EXE_syncsim");

/// A `syncsim` command whose processes carry a mark in their environment, so that the test
/// can find any of them left running.
struct Marked {
    mark: String,
    command: Command,
}

impl Marked {
    fn new(args: &[&str]) -> Self {
        let mark = format!("{}-{}", std::process::id(), unique());
        let mut command = Command::new(EXE);
        command.args(args).env("SYNCSIM_TEST_MARK", &mark).stdout(Stdio::piped()).stderr(Stdio::piped());
        Marked { mark, command }
    }

    /// Runs it to the end (killed after [`LIMIT`]).
    fn output(mut self) -> (Output, String) {
        let child = self.command.spawn().expect("the syncsim binary starts");
        let output = wait(child, LIMIT);
        (output, self.mark)
    }
}

/// Something no other run of these tests shares.
fn unique() -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    dir.path().file_name().expect("a name").to_string_lossy().into_owned()
}

#[allow(clippy::disallowed_methods)] // a test of real processes waits in real time
fn pause(duration: Duration) {
    std::thread::sleep(duration);
}

#[allow(clippy::disallowed_methods)] // a test of real processes measures real time
fn wait(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("the child can be waited for").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the live command took over {limit:?}: killed");
        }
        pause(Duration::from_millis(100));
    }
    child.wait_with_output().expect("its output")
}

/// The processes alive now whose environment carries `mark`.
fn marked_processes(mark: &str) -> Vec<String> {
    let needle = format!("SYNCSIM_TEST_MARK={mark}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let path = entry.path();
        let Ok(environ) = std::fs::read(path.join("environ")) else { continue };
        if environ.split(|b| *b == 0).any(|var| var == needle.as_bytes()) {
            let cmdline = std::fs::read(path.join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

fn assert_nothing_left(mark: &str) {
    let left = marked_processes(mark);
    assert!(left.is_empty(), "processes left running after the run: {left:?}");
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("certify writes {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

/// The environment's value of `name`, or `default`.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[test]
fn the_reference_passes_live_and_the_report_says_so() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.json");
    let (filter, seeds) = (setting("SYNCSIM_LIVE_FILTER", SMALL), setting("SYNCSIM_LIVE_SEEDS", "1"));
    let args = ["certify", "--live", "reference", "--filter", &filter, "--seeds", &seeds, "--report"];
    let (output, mark) = Marked::new(&[&args[..], &[report.to_str().expect("UTF-8")]].concat()).output();
    assert_eq!(output.status.code(), Some(0), "the reference passes live:\n{}", text(&output));
    let report = read(&report);
    assert_eq!((report["verdict"].as_str(), report["live"].as_bool()), (Some("pass"), Some(true)));
    assert!(text(&output).contains("live (a seed replays the plan, not the timing)"), "{}", text(&output));
    assert_nothing_left(&mark);
}

#[test]
fn a_client_that_dequeues_before_the_answer_is_caught_live() {
    let args =
        ["certify", "--live", "reference", "--mutant", "dequeue_before_ack", "--filter", "kill_at_each_sync_step"];
    // As in the simulation, the kills catch it on some seeds: 3 and 4 here.
    let (output, mark) = Marked::new(&[&args[..], &["--seeds", "4"]].concat()).output();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "the planted bug fails the certification:\n{text}");
    assert!(text.contains("no lost acknowledged writes"), "caught by the invariant that names it:\n{text}");
    assert_nothing_left(&mark);
}

/// Certifies SMALL live with the reference server and `driver` as the client.
fn with_driver(driver: &str) -> (Output, String) {
    let server = format!("{EXE} serve");
    let args = ["certify", "--server-cmd", &server, "--client-cmd", driver, "--filter", SMALL, "--seeds", "1"];
    Marked::new(&args).output()
}

#[test]
fn a_driver_that_prints_garbage_is_unknown_with_its_line() {
    let (output, mark) = with_driver("echo 'this is not json'; sleep 60");
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "nothing decided:\n{text}");
    assert!(text.contains("echo 'this is not json'; sleep 60"), "the message names the command:\n{text}");
    assert!(text.contains("`this is not json`"), "the message quotes the line:\n{text}");
    assert_nothing_left(&mark);
}

#[test]
fn a_driver_that_exits_at_open_is_unknown_and_named() {
    let (output, mark) =
        with_driver(r#"echo '{"type":"hello","protocol":1}'; read line; echo 'cannot open' >&2; exit 3"#);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "nothing decided:\n{text}");
    assert!(text.contains("device0's driver") || text.contains("device1's driver"), "names the device:\n{text}");
    assert!(text.contains("exit status: 3"), "says how it ended:\n{text}");
    assert!(text.contains("cannot open"), "quotes its standard error:\n{text}");
    assert_nothing_left(&mark);
}

#[test]
fn a_driver_that_never_answers_is_unknown_after_its_timeout() {
    let (output, mark) = with_driver(r#"echo '{"type":"hello","protocol":1}'; exec sleep 600"#);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "nothing decided:\n{text}");
    assert!(text.contains("did not answer `open` (id 1) within 30 s"), "says what it waited for:\n{text}");
    assert_nothing_left(&mark);
}

#[test]
#[allow(clippy::disallowed_methods)] // a test of real processes measures real time
fn an_interrupt_kills_the_server_and_every_driver() {
    let mut marked = Marked::new(&["run", SMALL, "--live", "reference", "--quiet"]);
    let child = marked.command.spawn().expect("the syncsim binary starts");
    let start = Instant::now();
    while marked_processes(&marked.mark).len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(60), "the server and both drivers start within a minute");
        pause(Duration::from_millis(100));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("an interrupt is sent");
    let output = wait(child, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(130), "an interrupted run exits 130:\n{}", text(&output));
    assert_nothing_left(&marked.mark);
}

#[test]
fn the_node_example_driver_passes_against_the_reference_server() {
    let has_node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has_node {
        assert!(std::env::var_os("SYNCSIM_REQUIRE_TOOLS").is_none(), "node is required (SYNCSIM_REQUIRE_TOOLS is set)");
        eprintln!("SKIPPED: node is not installed");
        return;
    }
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node-driver/driver.mjs");
    let (output, mark) = with_driver(&format!("node {driver}"));
    assert_eq!(output.status.code(), Some(0), "the Node driver passes:\n{}", text(&output));
    assert_nothing_left(&mark);
}

/// Whether the real client `package` is installed for its driver under `drivers/`; fails
/// instead of skipping when `SYNCSIM_REQUIRE_TOOLS` is set.
fn installed(driver: &str, package: &str) -> bool {
    let manifest = format!("{}/../drivers/{driver}/node_modules/{package}/package.json", env!("CARGO_MANIFEST_DIR"));
    if Path::new(&manifest).exists() {
        return true;
    }
    assert!(
        std::env::var_os("SYNCSIM_REQUIRE_TOOLS").is_none(),
        "{package} is not installed: run `npm ci --prefix drivers/{driver}` (SYNCSIM_REQUIRE_TOOLS is set)"
    );
    eprintln!("SKIPPED: {package} is not installed (npm ci --prefix drivers/{driver})");
    false
}

fn watermelondb_installed() -> bool {
    installed("watermelondb", "@nozbe/watermelondb")
}

fn replicache_installed() -> bool {
    installed("replicache", "replicache")
}

#[test]
fn the_real_watermelondb_client_syncs_live_with_the_reference_server() {
    if !watermelondb_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.json");
    let args = ["certify", "--live", "watermelondb", "--filter", SMALL, "--seeds", "1", "--report"];
    let (output, mark) = Marked::new(&[&args[..], &[report.to_str().expect("UTF-8")]].concat()).output();
    assert_eq!(output.status.code(), Some(0), "WatermelonDB syncs with the dialect:\n{}", text(&output));
    assert_eq!(read(&report)["live"], true);
    assert_nothing_left(&mark);
}

/// WatermelonDB issue #649, found by syncsim alone: with the backend spec's literal
/// created/updated split, a device's own create comes back as `created` after the device
/// deleted the record, and the real client un-deletes it.
#[test]
fn the_literal_created_split_makes_the_real_watermelondb_resurrect_a_delete() {
    if !watermelondb_installed() {
        return;
    }
    let args = ["certify", "--live", "watermelondb-literal", "--filter", "cold_start_offline", "--seeds", "2"];
    let (output, mark) = Marked::new(&args).output();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "the literal split fails:\n{text}");
    assert!(text.contains("no resurrection at"), "caught as a resurrection:\n{text}");
    assert_nothing_left(&mark);
}

#[test]
fn the_real_replicache_client_syncs_live_with_the_reference_server() {
    if !replicache_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.json");
    let args = ["certify", "--live", "replicache", "--filter", SMALL, "--seeds", "1", "--report"];
    let (output, mark) = Marked::new(&[&args[..], &[report.to_str().expect("UTF-8")]].concat()).output();
    assert_eq!(output.status.code(), Some(0), "Replicache syncs with the dialect:\n{}", text(&output));
    let report = read(&report);
    assert_eq!(report["live"], true);
    let implementation = report["implementation"].to_string();
    assert!(implementation.contains("replicache 15.3.0"), "the client is named with its version: {implementation}");
    assert_nothing_left(&mark);
}

/// Each mutant of the Replicache dialect, caught live by the invariant that names it,
/// against the real client.
#[test]
fn each_replicache_dialect_mutant_is_caught_live_by_its_invariant() {
    if !replicache_installed() {
        return;
    }
    for dialect in scenarios::mutant::DIALECTS.iter().filter(|d| d.preset == "replicache") {
        let m = &dialect.mutant;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let report = dir.path().join("report.json");
        let args = ["certify", "--live", "replicache", "--mutant", m.name, "--filter", m.scenario, "--seeds", "1"];
        let (output, mark) =
            Marked::new(&[&args[..], &["--report", report.to_str().expect("UTF-8")]].concat()).output();
        assert_eq!(output.status.code(), Some(1), "{} fails:\n{}", m.name, text(&output));
        let caught = &read(&report)["mutant"];
        assert_eq!((&caught["caught_by"], &caught["caught"]), (&m.caught_by.into(), &true.into()), "{}", m.name);
        assert_nothing_left(&mark);
    }
}
