use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::workload::Mix;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 12 --case 20`: violates no lost acknowledged writes; shrunk from size 7 to 2.
fn fuzz_seed_12_case_20() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_12_case_20")
        .description("1 device of 1 user on app versions [7], 3g, 0 edit-and-delete operations each every 627 ms; at 6253 ms device0's app is killed at its next push_starting; at 1000 ms device0 goes away for 2 days")
        .users(1)
        .devices(1)
        .profile(Profile::THREE_G)
        .workload(Workload { setup_projects: 3, setup_tasks: 6, ..Workload::mixed(0).mix(Mix::DELETES) }.every(ms(627)))
        .duration(ms(172870000))
        .app_version_on(0, 7)
        .at(ms(6253), Fault::kill_at(0, Step::PushStarting))
        .tombstone_horizon(ms(86400000))
        .at(ms(1000), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(ms(40000), Fault::skip(ms(172800000)))
        .at(ms(172841000), Fault::Profile(0.into(), Profile::THREE_G))
        .replay("cargo test fuzz_seed_12_case_20")
        .build()
}

#[test]
fn fuzz_seed_12_case_20_holds() {
    fuzz_seed_12_case_20().run(&ReferenceClient::default(), &ReferenceServer::default(), 587518).assert_ok();
}
