//! Generated runs (`syncsim::fuzz`) against the reference, and against a mutant that a
//! campaign must find, shrink and print as a regression test.
//!
//! CI runs a small budget: campaign `SYNCSIM_FUZZ_SEED` (default 1) of `SYNCSIM_FUZZ_CASES`
//! cases (default 24) on the reference. Longer campaigns: `syncsim fuzz --cases N`. A
//! failing case is printed shrunk, as a timeline and as a `#[test]` to paste beside
//! `regression.rs`, which holds one found on a mutant: what a campaign prints is exactly
//! what is pasted there (the scenario fails on the mutant with its pinned seed), and the
//! pasted test runs in CI, on the reference, where it passes.

mod found;
mod regression;

use scenarios::mutant;
use scenarios::reference::{ReferenceClient, ReferenceServer};
use syncsim::fuzz::{Adapters, Campaign, Failure};
use syncsim::Capabilities;

/// Cases of the CI campaign; `SYNCSIM_FUZZ_CASES=N` runs a longer one.
fn cases() -> u64 {
    std::env::var("SYNCSIM_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24)
}

/// The CI campaign's seed; `SYNCSIM_FUZZ_SEED=S` runs another.
fn seed() -> u64 {
    std::env::var("SYNCSIM_FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(1)
}

#[test]
fn the_reference_survives_generated_runs() {
    let (client, server) = (ReferenceClient::default(), ReferenceServer::default());
    Campaign::new(seed(), cases(), Capabilities::of(&client, &server)).assert_survives(&client, &server);
}

/// The mutant, and the campaign and case that find it first.
const MUTANT: &str = "dequeue_before_ack";
const CAMPAIGN: u64 = 12;
const CASE: u64 = 20;

#[test]
fn a_campaign_finds_a_client_that_dequeues_before_the_answer_and_prints_the_pasted_test() {
    let mutant = mutant::by_name(MUTANT).expect("the catalog has it");
    let (client, server) = (mutant.client(), mutant.server());
    let campaign = Campaign::new(CAMPAIGN, CASE + 1, Capabilities::of(&client, &server));
    let counterexample = campaign.run(&client, &server).expect_err("the campaign finds the mutant");
    assert_eq!(counterexample.case.index, CASE, "the first failing case: {counterexample}");
    assert_eq!(counterexample.failure, Failure::Violated("no lost acknowledged writes".to_owned()), "{counterexample}");
    assert!(counterexample.shrunk.plan.size() < counterexample.case.plan.size(), "it shrinks: {counterexample}");
    let shrunk = counterexample.shrunk.outcome.as_ref().expect("the shrunk run ends");
    assert!(shrunk.finding("no lost acknowledged writes").is_some_and(|f| !f.violations.is_empty()), "{shrunk}");
    let adapters = Adapters {
        imports: vec!["scenarios::reference::{ReferenceClient, ReferenceServer}".to_owned()],
        setup: Vec::new(),
        client: "ReferenceClient::default()".to_owned(),
        server: "ReferenceServer::default()".to_owned(),
    };
    let printed = counterexample.regression_test(&adapters);
    assert_eq!(
        printed,
        include_str!("regression.rs"),
        "the printed regression test is not the one in regression.rs: when the generator or the \
         shrinker changed on purpose, paste this one there:\n{printed}"
    );
}
