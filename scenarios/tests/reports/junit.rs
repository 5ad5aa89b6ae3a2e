//! `certify --junit` and `fuzz --junit`: valid against the common JUnit schema, a test case
//! per scenario (per campaign for `fuzz`), failures carrying the violation and the command
//! that replays it.

use super::{path, syncsim, text, tool, MUTANT, SCENARIO};
use std::path::Path;
use std::process::Command;

fn schema() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reports/junit/junit.xsd"))
}

/// `xmllint`'s verdict on `file` against the schema: `Ok` or its complaint.
fn validate(xmllint: &str, file: &Path) -> Result<(), String> {
    let output = Command::new(xmllint)
        .args(["--noout", "--nonet", "--schema", path(schema()), path(file)])
        .output()
        .expect("xmllint starts");
    if output.status.success() {
        Ok(())
    } else {
        Err(text(&output.stderr))
    }
}

#[test]
fn the_schema_rejects_what_dashboards_cannot_read() {
    let Some(xmllint) = tool("xmllint", "libxml2-utils") else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("bad.xml");
    let bad = [
        "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase classname=\"c\"/></testsuite></testsuites>",
        "<testsuites><testsuite name=\"s\" tests=\"one\" failures=\"0\" errors=\"0\"/></testsuites>",
        "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\"/></testsuites>",
        "<testsuites><testcase name=\"outside a suite\"/></testsuites>",
    ];
    for document in bad {
        std::fs::write(&file, document).expect("the file");
        assert!(validate(&xmllint, &file).is_err(), "the schema must refuse: {document}");
    }
}

#[test]
fn certify_writes_a_test_case_per_scenario_and_a_violation_as_a_failure_with_its_replay() {
    let Some(xmllint) = tool("xmllint", "libxml2-utils") else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("reports/certify.xml");
    let output = syncsim(&["certify", "--mutant", MUTANT, "--filter", "kill_", "--seeds", "3", "--junit", path(&file)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    validate(&xmllint, &file).unwrap_or_else(|e| panic!("certify's JUnit XML is valid: {e}"));
    let xml = std::fs::read_to_string(&file).expect("certify writes the file");
    assert_eq!(xml.matches("<testcase ").count(), 2, "two scenarios contain `kill_`: {xml}");
    assert!(
        xml.contains(&format!("<testcase name=\"{SCENARIO}\" classname=\"syncsim.certify.mutant.{MUTANT}\">")),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"convergence, declared strategy honoured\""), "{xml}");
    assert!(
        xml.contains(&format!("replay: cargo run --release -p scenarios -- run {SCENARIO} --seed 3 --mutant {MUTANT}")),
        "{xml}"
    );
    assert!(xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{xml}");

    let file = dir.path().join("reference.xml");
    let output =
        syncsim(&["certify", "--filter", "offline_writes_then_reconnect", "--seeds", "1", "--junit", path(&file)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    validate(&xmllint, &file).unwrap_or_else(|e| panic!("a passing certification's JUnit XML is valid: {e}"));
    assert!(std::fs::read_to_string(&file).expect("the file").contains("failures=\"0\" errors=\"0\""));
}

#[test]
fn fuzz_writes_the_failing_case_with_its_replay_command_and_the_regression_test() {
    let Some(xmllint) = tool("xmllint", "libxml2-utils") else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("fuzz.xml");
    // Case 9 of campaign 1 finds this mutant (see tests/cli).
    let mutant = "second_resolution_tie_break";
    let output = syncsim(&["fuzz", "--mutant", mutant, "--case", "9", "--max-shrink", "2", "--junit", path(&file)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    validate(&xmllint, &file).unwrap_or_else(|e| panic!("fuzz's JUnit XML is valid: {e}"));
    let xml = std::fs::read_to_string(&file).expect("fuzz writes the file");
    assert!(
        xml.contains(&format!(
            "<testcase name=\"campaign 1 of 200 cases, case 9\" classname=\"syncsim.fuzz.mutant.{mutant}\">"
        )),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"convergence\" message=\"case 9 violates convergence; replay: "), "{xml}");
    assert!(xml.contains(&format!("fuzz --seed 1 --case 9 --mutant {mutant}")), "the replay command: {xml}");
    assert!(xml.contains("fn fuzz_seed_1_case_9()"), "the regression test, in system-out: {xml}");
}
