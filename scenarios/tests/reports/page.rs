//! The HTML files themselves: byte-identical for one seed, the certification page linking
//! to the failing runs' timelines (the same files as `run --html` writes), and a clear error
//! for a path that cannot be written.

use super::{failing_timeline, path, syncsim, text, MUTANT, SCENARIO, SEED};

#[test]
fn a_runs_timeline_is_the_same_file_every_time_and_certify_links_to_the_same() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = std::fs::read(failing_timeline(dir.path())).expect("the timeline");
    let again = tempfile::tempdir().expect("a temporary directory");
    assert!(first == std::fs::read(failing_timeline(again.path())).expect("the timeline"), "one seed, one page");

    let index = dir.path().join("certificate/index.html");
    let output =
        syncsim(&["certify", "--mutant", MUTANT, "--filter", SCENARIO, "--seeds", SEED, "--html", path(&index)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    let page = std::fs::read_to_string(&index).expect("certify writes the page");
    let link = format!("runs/{SCENARIO}-{SEED}-{MUTANT}.html");
    assert!(page.contains(&format!("<a href=\"{link}\">")), "the grid links to the failing seed's timeline");
    assert!(page.contains(&format!("--seed {SEED} --mutant {MUTANT}")), "with its replay command");
    let linked = std::fs::read(dir.path().join("certificate").join(&link)).expect("the linked timeline exists");
    assert!(linked == first, "certify writes the very page `run --html` writes for that seed");
    let runs = std::fs::read_dir(dir.path().join("certificate/runs")).expect("runs/").count();
    assert_eq!(runs, 1, "only failing seeds get a timeline (seeds 1 and 2 pass)");
}

#[test]
fn a_timeline_that_cannot_be_written_is_a_usage_error_that_says_where() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").expect("a file");
    let inside = blocker.join("timeline.html");
    let output = syncsim(&["run", SCENARIO, "--seed", "1", "--quiet", "--html", path(&inside)]);
    assert_eq!(output.status.code(), Some(2), "a usage error, before the run");
    let message = text(&output.stderr);
    assert!(message.contains(path(&blocker)), "the message names the path: {message}");
    let output = syncsim(&["certify", "--filter", SCENARIO, "--seeds", "1", "--html", path(dir.path())]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("is a directory"), "{}", text(&output.stderr));
}
