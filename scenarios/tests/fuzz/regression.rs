use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 3 --case 22`: violates no lost acknowledged writes; shrunk from size 8 to 5.
fn fuzz_seed_3_case_22() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_3_case_22")
        .description("1 device of 1 user on app versions [7], lte, 4 shared-record operations each every 769 ms; at 2894 ms device0's app is killed at its next push_starting")
        .users(1)
        .devices(1)
        .profile(Profile::LTE)
        .workload(Workload::edit_same_records(4).every(ms(769)))
        .duration(ms(40000))
        .app_version_on(0, 7)
        .at(ms(2894), Fault::kill_at(0, Step::PushStarting))
        .replay("cargo test fuzz_seed_3_case_22")
        .build()
}

#[test]
fn fuzz_seed_3_case_22_holds() {
    fuzz_seed_3_case_22().run(&ReferenceClient::default(), &ReferenceServer::default(), 354942).assert_ok();
}
