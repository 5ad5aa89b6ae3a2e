//! Scenarios about devices away for days: the idle days are skipped (`Fault::skip`), so
//! they cost one event on the timeline instead of millions of simulation steps.

use super::secs;
use crate::fault::Host;
use crate::step::Step;
use crate::workload::Mix;
use crate::{Fault, Profile, Scenario, Workload};
use std::time::Duration;

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

/// Device 0 sets up records and its app is killed as their push's answer arrives: the
/// server has them, device 0 does not know it. It stays down two days; meanwhile the others
/// delete some of those records, and their tombstones outlive the 1-day horizon. Back, it
/// re-syncs from the start (the purged records are gone from the server) and retries its
/// push, whose answers are replays that carry the records as they were created: they must
/// not bring the deleted records back.
pub fn answer_lost_then_deleted_and_purged() -> Scenario {
    let mix = Mix { create_project: 0, create_task: 0, edit_text: 2, delete_task: 6, delete_project: 1, ..Mix::EDITS };
    let workload = Workload { setup_projects: 3, setup_tasks: 3, ..Workload::mixed(10).mix(mix) };
    let down = DAY * 2 + secs(30);
    Scenario::builder("answer_lost_then_deleted_and_purged")
        .description(
            "device0 is killed as its first push is answered and is down 2 days; others delete its records; \
             tombstones last 1 day",
        )
        .devices(3)
        .profile(Profile::LTE)
        .tombstone_horizon(DAY)
        .workload(workload.start(secs(6)).every(secs(1)))
        .at(Duration::ZERO, Fault::KillAt(0.into(), Step::PushResponseReceived, down))
        .at(secs(25), Fault::skip(DAY * 2))
        .duration(secs(25) + DAY * 2 + secs(40))
        .build()
}
