//! Cases the campaign found on the reference itself, pasted as printed: each failed before
//! the fix its comment names, and must hold for good.

use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::fault::Host;
use syncsim::workload::Mix;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 1 --case 528`: violates convergence; shrunk from size 117 to 49.
/// Fixed by treating a record a full re-sync does not return as one the server does not
/// have (no server copy kept for its open writes).
fn fuzz_seed_1_case_528() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_1_case_528")
        .description("2 devices of 1 user on app versions [5, 3], 3g, 23 edit-and-delete operations each every 234 ms; at 3826 ms the server crashes, back after 2647 ms; at 3842 ms the server crashes right after its next push commits, back after 1000 ms; at 3691 ms device1 goes away for 2 days, killed as its next push is answered")
        .users(1)
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload { setup_projects: 3, setup_tasks: 6, ..Workload::mixed(23).mix(Mix::DELETES) }.every(ms(234)))
        .duration(ms(172870000))
        .app_version_on(0, 5)
        .app_version_on(1, 3)
        .at(ms(3826), Fault::Crash(Host::Server))
        .at(ms(6473), Fault::Bounce(Host::Server))
        .at(ms(3842), Fault::crash_server_at(Step::PushCommitted))
        .tombstone_horizon(ms(86400000))
        .at(ms(3691), Fault::KillAt(1.into(), Step::PushResponseReceived, ms(172841000)))
        .at(ms(40000), Fault::Crash(Host::Device(1)))
        .at(ms(40000), Fault::skip(ms(172800000)))
        .at(ms(172841000), Fault::Bounce(Host::Device(1)))
        .replay("cargo test fuzz_seed_1_case_528")
        .build()
}

#[test]
fn fuzz_seed_1_case_528_holds() {
    fuzz_seed_1_case_528().run(&ReferenceClient::default(), &ReferenceServer::default(), 592169).assert_ok();
}

/// Found by `cargo run --release -p scenarios -- fuzz --seed 1 --case 1979`: violates no resurrection; shrunk from size 14 to 8.
/// Fixed by showing nothing for updates and deletes of a record the server does not have
/// (only a create of the device's own makes a record without the server's copy).
fn fuzz_seed_1_case_1979() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_1_case_1979")
        .description("2 devices of 2 users on app versions [5, 4], 3g, 3 edit-and-delete operations each every 1554 ms; at 8716 ms device1's app is killed at its next push_response_received; at 3331 ms device1 goes away for 2 days, killed as its next push is answered")
        .users(1)
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload { setup_projects: 3, setup_tasks: 6, ..Workload::mixed(3).mix(Mix::DELETES) }.every(ms(1554)))
        .duration(ms(172870000))
        .app_version_on(0, 5)
        .app_version_on(1, 4)
        .at(ms(8716), Fault::kill_at(1, Step::PushResponseReceived))
        .tombstone_horizon(ms(86400000))
        .at(ms(3331), Fault::KillAt(1.into(), Step::PushResponseReceived, ms(172841000)))
        .at(ms(40000), Fault::Crash(Host::Device(1)))
        .at(ms(40000), Fault::skip(ms(172800000)))
        .at(ms(172841000), Fault::Bounce(Host::Device(1)))
        .replay("cargo test fuzz_seed_1_case_1979")
        .build()
}

#[test]
fn fuzz_seed_1_case_1979_holds() {
    fuzz_seed_1_case_1979().run(&ReferenceClient::default(), &ReferenceServer::default(), 701977).assert_ok();
}

/// Found by `cargo run --release -p scenarios -- fuzz --seed 1 --case 181` (the campaign of
/// app version 8 and user switches): violates no resurrection; shrunk from size 257 to 125.
/// Fixed by leaving the writes chained after one that fails for good waiting for what it
/// waited for (the task's delete went on its own once a notes edit was refused, was answered
/// "gone" while the task's create was still retried, and the task showed again).
fn fuzz_seed_1_case_181() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_1_case_181")
        .description("2 devices of 1 user on app versions [7, 4], 3g, 61 edit-and-delete operations each every 186 ms; at 3617 ms the server crashes right after its next push commits, back after 1000 ms; at 18112 ms the server stops accepting writes of the field notes, for good; at 6673 ms device0 goes away for 2 days")
        .users(1)
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload { setup_projects: 3, setup_tasks: 6, ..Workload::mixed(61).mix(Mix::DELETES) }.every(ms(186)))
        .duration(ms(172870000))
        .app_version_on(0, 7)
        .app_version_on(1, 4)
        .at(ms(3617), Fault::crash_server_at(Step::PushCommitted))
        .at(ms(18112), Fault::RefuseField("notes"))
        .tombstone_horizon(ms(86400000))
        .at(ms(6673), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(ms(40000), Fault::skip(ms(172800000)))
        .at(ms(172841000), Fault::Profile(0.into(), Profile::THREE_G))
        .replay("cargo test fuzz_seed_1_case_181")
        .build()
}

#[test]
fn fuzz_seed_1_case_181_holds() {
    fuzz_seed_1_case_181().run(&ReferenceClient::default(), &ReferenceServer::default(), 122139).assert_ok();
}
