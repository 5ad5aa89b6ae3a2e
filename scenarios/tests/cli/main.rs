//! The `syncsim` binary as a user and a CI script see it: exit statuses, the messages of a
//! usage error, the JSON report of `certify`, and the mutant catalog of `list --mutants`.
//! Each test certifies one small scenario over a seed or two: a few seconds in a dev build.

use scenarios::mutant;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// A small scenario of the suite, and no other scenario's name contains it.
const SMALL: &str = "offline_writes_then_reconnect";

fn syncsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncsim")).args(args).output().expect("the syncsim binary starts")
}

/// Runs `syncsim certify ARGS --report DIR/report.json` and returns the output and the
/// report read back.
fn certify(args: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("report.json");
    let output = syncsim(&[&["certify"], args, &["--report", path.to_str().expect("a UTF-8 path")]].concat());
    (output, read(&path))
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("certify writes {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn certifying_the_reference_passes_and_reports_the_scenario_seeds_and_build() {
    let (output, report) = certify(&["--filter", SMALL, "--seeds", "2"]);
    assert_eq!(output.status.code(), Some(0), "the reference passes: {}", stderr(&output));
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["implementation"], "reference");
    assert_eq!(report["seeds"], 2);
    let scenarios = report["scenarios"].as_array().expect("a list of scenarios");
    assert_eq!(scenarios.len(), 1, "the filter keeps one scenario: {scenarios:?}");
    assert_eq!((&scenarios[0]["name"], &scenarios[0]["seeds_run"]), (&SMALL.into(), &2.into()));
    assert!(scenarios[0]["converge_ms"]["max"].is_u64(), "every run of the reference converges");
    assert_eq!(report["build"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(report["build"]["commit"].is_string() || report["build"]["commit"].is_null());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains(SMALL) && table.contains("Verdict: pass"), "the table names the scenario: {table}");
}

#[test]
fn a_seed_run_twice_repeats_its_history() {
    let (output, report) = certify(&["--filter", SMALL, "--seeds", "1", "--check-determinism"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "one seed gives one history: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(report["check_determinism"], true);
    assert_eq!(report["scenarios"][0]["divergences"], Value::Array(Vec::new()));
}

#[test]
fn a_mutant_is_caught_by_the_invariant_that_names_its_bug() {
    let mutant = mutant::by_name("idempotency_ignored").expect("the catalog holds it");
    let (output, report) = certify(&["--mutant", mutant.name, "--filter", mutant.scenario, "--seeds", "4"]);
    assert_eq!(output.status.code(), Some(1), "a violation exits 1: {}", String::from_utf8_lossy(&output.stdout));
    assert_eq!((&report["verdict"], &report["implementation"]), (&"fail".into(), &"mutant:idempotency_ignored".into()));
    assert_eq!(report["mutant"]["caught"], true, "{mutant:?}");
    let violation = &report["scenarios"][0]["violations"][0];
    let replay = violation["replay"].as_str().expect("a replay command");
    assert!(replay.ends_with("--mutant idempotency_ignored"), "the replay runs the mutant again: {replay}");
}

#[test]
fn an_unknown_mutant_is_a_usage_error_that_lists_the_mutants() {
    for command in [&["certify"][..], &["run", SMALL]] {
        let output = syncsim(&[command, &["--mutant", "no_such_mutant"]].concat());
        assert_eq!(output.status.code(), Some(2), "{command:?}: a usage error");
        let message = stderr(&output);
        assert!(message.contains("no mutant named `no_such_mutant`"), "{command:?}: {message}");
        assert!(message.contains(mutant::ALL[0].name), "{command:?}: the message lists the names: {message}");
    }
}

#[test]
fn a_filter_that_matches_no_scenario_is_a_usage_error() {
    let output = syncsim(&["certify", "--filter", "no_such_scenario"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no scenario name contains `no_such_scenario`"), "{}", stderr(&output));
}

#[test]
fn list_mutants_prints_exactly_the_catalog_names() {
    let output = syncsim(&["list", "--mutants"]);
    assert!(output.status.success());
    let names: Vec<&str> = mutant::ALL.iter().map(|m| m.name).collect();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().collect::<Vec<_>>(),
        names,
        "one name a line, nothing else"
    );
}
