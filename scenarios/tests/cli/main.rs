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

/// Runs `syncsim fuzz ARGS --report DIR/NAME.json` and returns the output and the report.
fn fuzz(dir: &Path, name: &str, args: &[&str]) -> (Output, Value) {
    let path = dir.join(format!("{name}.json"));
    let output = syncsim(&[&["fuzz"], args, &["--report", path.to_str().expect("a UTF-8 path")]].concat());
    (output, read(&path))
}

#[test]
fn a_fuzz_campaign_on_the_reference_passes_and_reports_its_speed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (output, report) = fuzz(dir.path(), "reference", &["--cases", "2", "--seed", "5"]);
    assert_eq!(output.status.code(), Some(0), "no case fails: {}", String::from_utf8_lossy(&output.stdout));
    assert_eq!((&report["schema"], &report["verdict"]), (&"syncsim-fuzz".into(), &"pass".into()));
    assert_eq!((&report["seed"], &report["cases"], &report["cases_run"]), (&5.into(), &2.into(), &2.into()));
    assert!(report["cases_per_second"].as_f64().is_some_and(|r| r > 0.0), "{report}");
    assert_eq!(report["failure"], Value::Null);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cases/s") && stdout.contains("Verdict: pass"), "{stdout}");
}

/// Campaign 1 of the mutant below first fails at case 9 (of cases 0..=9): shard 1/2 holds
/// the even cases, shard 2/2 the odd ones, and merging their reports finds case 9.
const FOUND: &str = "second_resolution_tie_break";

#[test]
fn fuzzing_a_mutant_in_shards_finds_it_and_the_merged_reports_agree() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let common = ["--mutant", FOUND, "--cases", "10", "--max-shrink", "2"];
    let (first, one) = fuzz(dir.path(), "one", &[&common[..], &["--shard", "1/2"]].concat());
    let (second, two) = fuzz(dir.path(), "two", &[&common[..], &["--shard", "2/2"]].concat());
    assert_eq!(first.status.code(), Some(0), "cases 0 to 8 pass: {}", String::from_utf8_lossy(&first.stdout));
    assert_eq!(second.status.code(), Some(1), "case 9 fails: {}", String::from_utf8_lossy(&second.stdout));
    assert_eq!((&one["shards"], &two["shards"]), (&Value::from(vec![1]), &Value::from(vec![2])));
    let failure = &two["failure"];
    assert_eq!((&failure["case"], &failure["failure"]), (&9.into(), &"violates convergence".into()));
    let replay = failure["replay"].as_str().expect("a replay command");
    assert!(replay.ends_with(&format!("fuzz --seed 1 --case 9 --mutant {FOUND}")), "{replay}");
    let test = failure["regression_test"].as_str().expect("a regression test");
    assert!(test.contains("#[test]") && test.contains("fn fuzz_seed_1_case_9()"), "{test}");
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("shrunk to size") && stdout.contains("regression test"), "{stdout}");

    let merged_path = dir.path().join("merged.json");
    let (one_path, two_path) = (dir.path().join("one.json"), dir.path().join("two.json"));
    let merge = |paths: &[&Path]| {
        let mut args = vec!["fuzz", "--merge"];
        args.extend(paths.iter().map(|p| p.to_str().expect("a UTF-8 path")));
        args.extend(["--report", merged_path.to_str().expect("a UTF-8 path")]);
        syncsim(&args)
    };
    let output = merge(&[&one_path, &two_path]);
    assert_eq!(output.status.code(), Some(1), "the campaign fails: {}", stderr(&output));
    let merged = read(&merged_path);
    assert_eq!((&merged["verdict"], &merged["shards"]), (&"fail".into(), &Value::from(vec![1, 2])));
    assert_eq!(merged["failure"]["case"], 9);
    let output = merge(&[&one_path, &one_path]);
    assert_eq!(output.status.code(), Some(2), "a shard twice is refused");
    assert!(stderr(&output).contains("shard 1/2 is in two"), "{}", stderr(&output));
    let output = merge(&[&one_path]);
    assert_eq!(output.status.code(), Some(2), "shard 2 of 2 is missing: undecided");
}

#[test]
fn a_shard_that_is_not_i_of_n_is_a_usage_error() {
    let output = syncsim(&["fuzz", "--shard", "3/2"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`3/2` is not a shard"), "{}", stderr(&output));
}
