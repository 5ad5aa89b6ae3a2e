//! The reports people look at, as they see them: a run's HTML timeline opened in headless
//! Chromium, the certification page with its links to the failing runs' timelines, and the
//! JUnit XML of `certify` and `fuzz` validated against the common JUnit schema with
//! `xmllint`. Each test runs one small scenario or case: seconds in a dev build.
//!
//! Chromium (Debian's `chromium`) and `xmllint` (Debian's `libxml2-utils`) are found on the
//! `PATH`. When one is missing, its tests print why and pass, unless
//! `SYNCSIM_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs both): then they fail.

mod browser;
mod junit;
mod page;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A failing mutant run whose violation comes of kills: `dequeue_before_ack` drops a
/// queued write when a push starts, and `kill_at_each_sync_step` kills the app during its
/// pushes, so on seed 3 an edit never reaches the server and the devices diverge.
const MUTANT: &str = "dequeue_before_ack";
const SCENARIO: &str = "kill_at_each_sync_step";
const SEED: &str = "3";

fn syncsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncsim")).args(args).output().expect("the syncsim binary starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The failing run's timeline, written by `syncsim run ... --html` into `dir`.
fn failing_timeline(dir: &Path) -> PathBuf {
    let page = dir.join("timeline.html");
    let output = syncsim(&["run", SCENARIO, "--seed", SEED, "--mutant", MUTANT, "--quiet", "--html", path(&page)]);
    assert_eq!(output.status.code(), Some(1), "the mutant fails this seed: {}", text(&output.stdout));
    assert!(text(&output.stdout).contains(&format!("timeline: {}", page.display())), "{}", text(&output.stdout));
    page
}

/// The program `name` if it answers `--version`; `None`, with a printed reason, when it is
/// missing and the tools are not required.
fn tool(name: &str, package: &str) -> Option<String> {
    let found = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some(name.to_owned());
    }
    let required = std::env::var("SYNCSIM_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    assert!(!required, "`{name}` is missing and SYNCSIM_REQUIRE_TOOLS=1: install Debian's `{package}`");
    eprintln!("SKIPPED: `{name}` is not installed (Debian's `{package}`); set SYNCSIM_REQUIRE_TOOLS=1 to fail instead");
    None
}
