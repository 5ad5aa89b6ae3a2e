//! Generated runs (`syncsim::fuzz`) against the reference, and against a mutant that
//! generated runs must find.
//!
//! CI runs a small budget: `SYNCSIM_FUZZ_CASES` cases (default 24) for the reference. A
//! failing case shrinks to a minimal plan, printed as a timeline with its seed; proptest
//! keeps it in `main.proptest-regressions` beside this file, which is committed, so the case
//! is tried first on every later run.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};
use scenarios::mutant;
use scenarios::reference::{ReferenceClient, ReferenceServer};
use syncsim::fuzz::{plan, Plan};
use syncsim::Client;

/// Cases per campaign in CI; `SYNCSIM_FUZZ_CASES=N` runs a longer one.
fn cases() -> u32 {
    std::env::var("SYNCSIM_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24)
}

/// Runs `plan` with `seed` on `client` and `server`; a violation fails the case with the
/// plan's timeline and the report.
fn survives(client: &ReferenceClient, server: &ReferenceServer, plan: &Plan, seed: u64) -> Result<(), TestCaseError> {
    let scenario = plan.scenario("generated", client.latest_app_version());
    let report = scenario.run(client, server, seed);
    prop_assert!(report.ok(), "seed {seed}, plan: {plan}\n{report}");
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: cases(), ..Config::default() })]

    #[test]
    fn the_reference_survives_generated_runs(plan in plan(ReferenceClient::default().latest_app_version()), seed in 1u64..=1_000) {
        survives(&ReferenceClient::default(), &ReferenceServer::default(), &plan, seed)?;
    }
}

#[test]
fn generated_runs_find_a_server_that_ignores_idempotency_keys_and_shrink_it() {
    let mutant = mutant::by_name("idempotency_ignored").expect("the catalog has it");
    let (client, server) = (mutant.client(), mutant.server());
    let latest = client.latest_app_version();
    // A fixed RNG, so that CI always needs the same cases and shrink steps.
    let config = Config { cases: 200, max_shrink_iters: 100, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config.clone(), TestRng::deterministic_rng(config.rng_algorithm));
    let result = runner.run(&(plan(latest), 1u64..=1_000), |(plan, seed)| survives(&client, &server, &plan, seed));
    let Err(proptest::test_runner::TestError::Fail(why, (shrunk, seed))) = result else {
        panic!("200 generated runs did not find the mutant: {result:?}");
    };
    assert!(why.message().contains("exactly once"), "{}", why.message());
    eprintln!("shrunk to seed {seed}: {shrunk}");
    assert!(shrunk.events.len() <= 4, "shrunk to a handful of faults, seed {seed}: {shrunk}");
}
