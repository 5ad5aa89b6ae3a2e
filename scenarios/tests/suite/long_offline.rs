//! The long-offline scenarios on the reference: days away with thousands of queued writes,
//! longer than the tombstone horizon, and down for days after a push answered to a dead app.

use scenarios::mutant;
use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::fault::FaultRecord;
use syncsim::history::{EventKind, History};
use syncsim::suite::{
    answer_lost_then_deleted_and_purged, device_offline_longer_than_the_tombstone_horizon,
    long_offline_with_thousands_of_queued_mutations,
};
use syncsim::{Report, Scenario, Step};

const DAY: Duration = Duration::from_secs(86_400);

fn on_the_reference(scenario: &Scenario, seed: u64) -> Report {
    let report = scenario.run(&ReferenceClient::default(), &ReferenceServer::default(), seed);
    report.assert_ok();
    assert!(report.converged_after_ms.is_some(), "{}: seed {seed} converges", scenario.name());
    report
}

/// When device 0's profile changed to `profile` (ms on the timeline).
fn device0_profile_at(history: &History, profile: &str) -> u64 {
    let changed = |fault: &FaultRecord| matches!(fault, FaultRecord::Profile { target, profile: p } if target == "device0" && p == profile);
    let event = history.events.iter().find(|e| matches!(&e.kind, EventKind::Fault { fault, .. } if changed(fault)));
    event.unwrap_or_else(|| panic!("device0's change to {profile} is on the timeline")).t_ms
}

#[test]
fn long_offline_with_thousands_of_queued_mutations_drains_into_convergence() {
    let history = on_the_reference(&long_offline_with_thousands_of_queued_mutations(), 1).history;
    let (offline, back) = (device0_profile_at(&history, "offline"), device0_profile_at(&history, "slow-4g"));
    assert!(back - offline >= 2 * DAY.as_millis() as u64, "device0 is away at least 2 days: {offline}..{back} ms");
    let on_device0 = |e: &&syncsim::history::Event| e.host == "device0";
    let queued = history
        .events
        .iter()
        .filter(on_device0)
        .filter(|e| matches!(e.kind, EventKind::Ok { .. }) && (offline..back).contains(&e.t_ms))
        .count();
    assert!(queued >= 2_000, "device0 confirms thousands of writes while offline: {queued}");
    let pushed: u64 = history
        .events
        .iter()
        .filter(on_device0)
        .filter_map(|e| match &e.kind {
            EventKind::SyncOk { outcome, .. } if e.t_ms > back => Some(outcome.pushed),
            _ => None,
        })
        .sum();
    assert!(pushed >= queued as u64, "back online, device0 pushes its whole queue: {pushed} of {queued}");
}

#[test]
fn device_offline_longer_than_the_tombstone_horizon_resyncs_without_resurrection() {
    let scenario = device_offline_longer_than_the_tombstone_horizon();
    let history = on_the_reference(&scenario, 1).history;
    let (offline, back) = (device0_profile_at(&history, "offline"), device0_profile_at(&history, "slow-4g"));
    assert!(deleted_elsewhere(&history, offline..back), "other devices delete records while device0 is away");
    assert!(back - offline > DAY.as_millis() as u64, "device0 is away longer than the 1-day horizon");
    // The re-sync path ran: a client that ignores the server's `reset: true` keeps
    // the purged records on the same seed, and does not converge.
    assert_diverges_on_seed_1(&scenario, "resync_ignored");
}

/// Whether a device other than device0 deleted a record, acknowledged, within `window` (ms).
fn deleted_elsewhere(history: &History, window: std::ops::Range<u64>) -> bool {
    history.operations().into_iter().any(|op| {
        op.host != "device0"
            && op.acknowledged()
            && matches!(op.operation, syncsim::Operation::Delete { .. })
            && window.contains(&op.invoked_ms)
    })
}

/// Mutant `name` does not converge on seed 1 of `scenario`: the situation the scenario is
/// about happened there.
fn assert_diverges_on_seed_1(scenario: &Scenario, name: &str) {
    let mutant = mutant::by_name(name).unwrap_or_else(|| panic!("the catalog has the {name} mutant"));
    let broken = scenario.run(&mutant.client(), &mutant.server(), 1);
    let convergence = broken.finding("convergence").expect("the scenario checks convergence");
    assert!(!convergence.violations.is_empty(), "{}: {name} converges on seed 1", scenario.name());
}

/// The situation is reached: device0's first push commits and its answer dies with the
/// app, other devices delete records it created before the 2-day skip, and device0 is back
/// after it with the queue still open. The client without the check of replayed answers
/// against its last re-sync keeps a deleted record on the same seed.
#[test]
fn answer_lost_then_deleted_and_purged_reaches_its_situation() {
    let scenario = answer_lost_then_deleted_and_purged();
    let history = on_the_reference(&scenario, 1).history;
    let device0 = || history.events.iter().filter(|e| e.host == "device0");
    let at_answer = |kind: &EventKind| matches!(kind, EventKind::Kill { step: Some(Step::PushResponseReceived), .. });
    let killed = device0().find(|e| at_answer(&e.kind)).expect("device0 is killed as its push is answered").t_ms;
    let restarted = |e: &&syncsim::history::Event| e.t_ms > killed && matches!(e.kind, EventKind::Restart);
    let back = device0().find(restarted).expect("device0 comes back").t_ms;
    assert!(back - killed > DAY.as_millis() as u64, "device0 is down longer than the 1-day horizon");
    assert!(deleted_elsewhere(&history, killed..back), "other devices delete records while device0 is down");
    assert_diverges_on_seed_1(&scenario, "replayed_answer_trusted");
}
