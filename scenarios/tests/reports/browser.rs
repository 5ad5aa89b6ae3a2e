//! A failing mutant run's timeline, drawn by headless Chromium: the lanes, the operations,
//! the kills that caused the violation, and the violation itself.

use super::{failing_timeline, path, text, tool};
use std::path::Path;
use std::process::{Command, Output};

/// The window the page is drawn in: wide enough to read a whole run of 40 s.
const WINDOW: &str = "--window-size=1600,1300";

/// Runs headless Chromium on `page` with `args` (`--dump-dom`, `--screenshot=PATH`), with
/// nothing of its own on the network and a fresh profile, killed after a minute.
fn chromium(chromium: &str, page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("a temporary profile");
    let profile = format!("--user-data-dir={}", path(profile.path()));
    let quiet = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        WINDOW,
        &profile,
    ];
    let url = format!("file://{}", path(&page.canonicalize().expect("the page exists")));
    let output = Command::new("timeout")
        .args(["60", chromium])
        .args(quiet)
        .args(args)
        .arg(url)
        .output()
        .expect("timeout and chromium start");
    assert!(output.status.success(), "chromium failed: {}", text(&output.stderr));
    output
}

#[test]
fn a_failing_mutant_run_shows_the_kills_that_caused_its_violation_and_the_violation() {
    let Some(browser) = tool("chromium", "chromium") else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let page = failing_timeline(dir.path());
    let dom = text(&chromium(&browser, &page, &["--dump-dom"]).stdout);
    assert!(
        dom.contains("data-rendered=\"ok\""),
        "the script drew the timeline without an error:\n{}",
        &dom[..dom.len().min(3000)]
    );
    for host in ["device0", "device1", "server"] {
        assert!(dom.contains(&format!("<g class=\"lane\" data-host=\"{host}\"")), "a lane for {host}");
    }
    let count = |needle: &str| dom.matches(needle).count();
    assert!(count("data-kind=\"op\"") >= 20, "the operations are drawn: {}", count("data-kind=\"op\""));
    assert!(count("data-kind=\"round\"") >= 20, "the sync rounds are drawn");
    assert!(count("data-span=\"down\"") >= 6, "each kill leaves the device down until its restart");
    // The run opens on its first violation: drawn across the lanes and named, the write it
    // names outlined, and the kills on its device marked as what hit it.
    assert!(dom.contains("class=\"violation-line\""), "the violation is drawn");
    assert!(dom.contains("\u{2716} convergence, declared strategy honoured</text>"), "its flag names both invariants");
    assert!(dom.contains("class=\"op ok involved\""), "the operation it names is outlined");
    assert!(count("class=\"glyph kill cause\"") >= 5, "the kills during sync steps are marked as its causes");
    assert!(dom.contains("Violation: convergence"), "the details panel shows it");

    let shots = std::env::var_os("SYNCSIM_SCREENSHOT_DIR").map_or_else(|| dir.path().to_owned(), Into::into);
    std::fs::create_dir_all(&shots).expect("the screenshot directory");
    let shot = shots.join(format!("{}-{}-{}.png", super::SCENARIO, super::SEED, super::MUTANT));
    chromium(&browser, &page, &[&format!("--screenshot={}", path(&shot))]);
    let png = std::fs::read(&shot).expect("chromium saved the screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of a drawn page, not a blank one");
    eprintln!("screenshot: {}", shot.display());
}
