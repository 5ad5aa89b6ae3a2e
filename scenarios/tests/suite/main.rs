//! The first scenarios on the reference implementation, each over a seed sweep, and the
//! simulation's determinism (every scenario run twice with one seed).

use scenarios::reference::{ReferenceClient, ReferenceServer};
use scenarios::suite;
use syncsim::history::EventKind;
use syncsim::{Scenario, Step, Sweep};

/// Seeds per scenario in CI; `SYNCSIM_SEEDS=N` runs more, `SYNCSIM_SEED=S` only seed S.
const SEEDS: u64 = 32;

fn sweep(scenario: &Scenario) -> Sweep {
    let sweep =
        scenario.run_seeds(&ReferenceClient::default(), &ReferenceServer::default(), syncsim::seed::sweep(SEEDS));
    sweep.assert_ok();
    assert!(
        sweep.converge_ms.len() == sweep.seeds.len(),
        "every run of {} converges within its bound",
        scenario.name()
    );
    sweep
}

#[test]
fn offline_writes_then_reconnect_converge() {
    sweep(&suite::offline_writes_then_reconnect());
}

#[test]
fn edits_on_both_sides_of_a_partition_converge() {
    let sweep = sweep(&suite::edits_on_both_sides_of_a_partition());
    sweep.assert_reached("sometimes a conflict");
}

#[test]
fn kill_at_each_sync_step_loses_and_duplicates_nothing() {
    let scenario = suite::kill_at_each_sync_step();
    sweep(&scenario);
    let history = scenario.history(&ReferenceClient::default(), &ReferenceServer::default(), 1);
    let killed_at: Vec<Step> = history
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Kill { step: Some(step), .. } if e.host == syncsim::net::device(0) => Some(step),
            _ => None,
        })
        .collect();
    for step in Step::ALL {
        assert!(killed_at.contains(&step), "device0 is killed at {step}; it was killed at {killed_at:?}");
    }
}

#[test]
fn clock_skew_of_hours_converges() {
    sweep(&suite::clock_skew_of_hours());
}

#[test]
fn train_through_tunnels_converges() {
    sweep(&suite::train_through_tunnels());
}

#[test]
fn lost_acknowledgements_are_retried_into_exactly_once() {
    let sweep = sweep(&suite::lost_acknowledgements());
    sweep.assert_reached("sometimes a lost acknowledgement");
}

#[test]
fn the_same_seed_gives_the_same_history_byte_for_byte() {
    for scenario in suite::all() {
        let divergence = scenario.divergence(&ReferenceClient::default(), &ReferenceServer::default(), 7);
        assert_eq!(
            divergence,
            None,
            "{}: seed 7 twice gave different histories at (line, first, second)",
            scenario.name()
        );
    }
}

#[test]
fn different_seeds_give_different_histories() {
    let scenario = suite::edits_on_both_sides_of_a_partition();
    let one = scenario.history(&ReferenceClient::default(), &ReferenceServer::default(), 1).to_jsonl();
    let two = scenario.history(&ReferenceClient::default(), &ReferenceServer::default(), 2).to_jsonl();
    assert_ne!(one, two, "the seed drives latencies and the workload");
}

#[test]
fn every_fault_in_turn_leaves_the_reference_converged() {
    let scenario = suite::every_fault_in_turn();
    sweep(&scenario);
    let history = scenario.history(&ReferenceClient::default(), &ReferenceServer::default(), 2).to_jsonl();
    for sign in [
        r#""type":"kill","cause":"scheduled""#,
        r#""host":"server","type":"restart""#,
        r#""fault":"status_503""#,
        r#""fault":"status_429_retry_after_2s""#,
        r#""fault":"reset_mid_body""#,
        r#""fault":"slow_1500ms""#,
        r#""reason":"background budget""#,
        r#""cause":"random""#,
        r#""fault":"profile device0 blackhole""#,
    ] {
        assert!(history.contains(sign), "seed 2's history shows {sign}");
    }
}
