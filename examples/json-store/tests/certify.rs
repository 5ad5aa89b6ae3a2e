//! json-store certified over the whole suite in `cargo test`, and its planted bug caught
//! with a replay command that reproduces it.
//!
//! `SYNCSIM_SEEDS=N` runs more seeds (default 2).

use json_store::{fresh_key_per_retry, JsonClient, JsonServer};
use std::process::Command;
use syncsim::certify::{Certification, Subject, Verdict};

fn seeds() -> u64 {
    std::env::var("SYNCSIM_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(2)
}

#[test]
fn json_store_passes_every_scenario_that_applies() {
    let certificate = Certification::new(JsonClient::default(), JsonServer).seeds(seeds()).assert_pass();
    let passed = certificate.verdicts().filter(|(_, verdict)| *verdict == Verdict::Pass).count();
    assert!(passed >= 20, "at least 20 scenarios apply and pass:\n{}", certificate.table());
    for (name, verdict) in certificate.verdicts() {
        if verdict == Verdict::NotApplicable {
            assert!(certificate.not_applicable(name).is_some_and(|why| !why.is_empty()), "{name} says why");
        }
    }
}

#[test]
fn a_key_made_per_request_fails_exactly_once_and_its_replay_reproduces_it() {
    let variant = fresh_key_per_retry();
    let subject = Subject { planted: Some(variant.planted), ..Subject::default() };
    let certification = Certification::new(variant.client, variant.server).subject(subject);
    let certificate = certification.filter("lost_acknowledgements").seeds(4).run();
    assert_eq!(certificate.verdict(), Verdict::Fail, "{}", certificate.table());
    let table = certificate.table();
    let replay = table.lines().find_map(|line| line.trim().strip_prefix("replay: ")).expect("a replay command");
    let prefix = "cargo run --release -p json-store -- ";
    let args = replay.strip_prefix(prefix).unwrap_or_else(|| panic!("the replay runs json-store's binary: {replay}"));
    assert!(table.contains("exactly once") && args.ends_with("--mutant fresh_key_per_retry"), "{table}");
    let output = Command::new(env!("CARGO_BIN_EXE_json-store"))
        .args(args.split(' '))
        .arg("--quiet")
        .output()
        .expect("json-store's binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "the replayed seed fails again: {stdout}");
    assert!(stdout.contains("exactly once"), "and for the same invariant: {stdout}");
}
