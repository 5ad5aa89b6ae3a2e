//! Scenarios about devices away for days: the idle days are skipped (`Fault::skip`), so
//! they cost one event on the timeline instead of millions of simulation steps.

use super::secs;
use std::time::Duration;
use syncsim::{Fault, Host, Mix, Profile, Scenario, Workload};

/// A day of wall-clock time.
const DAY: Duration = Duration::from_secs(86_400);

/// Device 0 goes offline, queues thousands of writes, stays away three days, and comes
/// back to drain its queue on slow-4g; device 1 then pulls all of it.
///
/// Device 1's app is closed while device 0 writes (a workload runs on every device, and
/// two thousand operations on each would double the cost of the run for no new case); it
/// opens again when device 0 is back.
pub fn long_offline_with_thousands_of_queued_mutations() -> Scenario {
    let mix = Mix { create_task: 1, delete_task: 1, ..Mix::EDITS };
    let workload = Workload { setup_projects: 5, setup_tasks: 8, ..Workload::mixed(2_000).mix(mix) };
    let back = secs(30) + DAY * 3;
    Scenario::builder("long_offline_with_thousands_of_queued_mutations")
        .description("device0 queues 2000 writes offline, is away 3 days, then drains them on slow-4g")
        .devices(2)
        .profile(Profile::SLOW_4G)
        .workload(workload.start(secs(6)).every(Duration::from_millis(10)))
        .at(Duration::from_millis(5_500), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(Duration::from_millis(5_900), Fault::Crash(Host::Device(1)))
        .at(secs(30), Fault::skip(DAY * 3))
        .at(back, Fault::Profile(0.into(), Profile::SLOW_4G))
        .at(back, Fault::Bounce(Host::Device(1)))
        .duration(back + secs(60))
        .build()
}

/// Device 0 is away longer than the server keeps tombstones, while the others delete
/// records it holds and edit others; back online, it is told to re-sync from scratch.
///
/// Device 0 creates the records and has pulled (its cursor is past them) before it goes
/// offline at 13 s. The reference server purges on push, and a round pulls before it
/// pushes: so device 2 goes offline with writes queued before the skip, and its push, once
/// it is back, purges the tombstones before device 0 returns and pulls with its 2-day-old
/// cursor. Both went offline holding an open connection, which stalls until the reference
/// client's 30 s request timeout runs out after the skip (timers do not jump): device 0
/// returns 40 s after the skip, well after device 2 has pushed.
pub fn device_offline_longer_than_the_tombstone_horizon() -> Scenario {
    let mix = Mix { create_project: 0, create_task: 1, edit_text: 6, delete_task: 5, delete_project: 1, ..Mix::EDITS };
    let workload = Workload { setup_projects: 4, setup_tasks: 5, ..Workload::mixed(20).mix(mix) };
    let after = secs(36) + DAY * 2;
    Scenario::builder("device_offline_longer_than_the_tombstone_horizon")
        .description("device0 is away 2 days, tombstones last 1 day; others delete its records; it must re-sync")
        .devices(3)
        .profile(Profile::SLOW_4G)
        .tombstone_horizon(DAY)
        .workload(workload.start(secs(14)).every(secs(1)))
        .at(secs(13), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(30), Fault::Profile(2.into(), Profile::OFFLINE))
        .at(secs(36), Fault::skip(DAY * 2))
        .at(after + secs(1), Fault::Profile(2.into(), Profile::SLOW_4G))
        .at(after + secs(40), Fault::Profile(0.into(), Profile::SLOW_4G))
        .duration(after + secs(70))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant;
    use crate::reference::{ReferenceClient, ReferenceServer};
    use syncsim::history::EventKind;
    use syncsim::{History, Report};

    fn on_the_reference(scenario: &Scenario, seed: u64) -> Report {
        let report = scenario.run(&ReferenceClient::default(), &ReferenceServer::default(), seed);
        report.assert_ok();
        assert!(report.converged_after_ms.is_some(), "{}: seed {seed} converges", scenario.name());
        report
    }

    /// When device 0's profile changed to `profile` (ms on the timeline).
    fn device0_profile_at(history: &History, profile: &str) -> u64 {
        let fault = format!("profile device0 {profile}");
        let event = history.events.iter().find(|e| matches!(&e.kind, EventKind::Fault { fault: f } if *f == fault));
        event.unwrap_or_else(|| panic!("`{fault}` is on the timeline")).t_ms
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
        let deleted_meanwhile = history.operations().into_iter().any(|op| {
            op.host != "device0"
                && op.acknowledged()
                && matches!(op.operation, syncsim::Operation::Delete { .. })
                && (offline..back).contains(&op.invoked_ms)
        });
        assert!(deleted_meanwhile, "other devices delete records while device0 is away");
        assert!(back - offline > DAY.as_millis() as u64, "device0 is away longer than the 1-day horizon");
        // The re-sync path ran: a client that ignores the server's `reset: true` keeps
        // the purged records on the same seed, and does not converge.
        let ignores_reset = mutant::by_name("resync_ignored").expect("the catalog has the resync_ignored mutant");
        let broken = scenario.run(&ignores_reset.client(), &ignores_reset.server(), 1);
        let convergence = broken.finding("convergence").expect("the scenario checks convergence");
        assert!(
            !convergence.violations.is_empty(),
            "seed 1 purges tombstones device0 never pulled and answers its pull with `reset: true`"
        );
    }
}
