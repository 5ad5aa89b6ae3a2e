use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 5 --case 15`: violates no lost acknowledged writes; shrunk from size 13 to 9.
fn fuzz_seed_5_case_15() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_5_case_15")
        .description("2 devices of 1 user on app versions [2, 1], wifi, 4 mixed operations each every 2486 ms; at 8286 ms device1's app is killed at its next push_starting")
        .users(1)
        .devices(2)
        .profile(Profile::WIFI)
        .workload(Workload::mixed(4).every(ms(2486)))
        .duration(ms(40000))
        .app_version_on(0, 2)
        .app_version_on(1, 1)
        .at(ms(8286), Fault::kill_at(1, Step::PushStarting))
        .replay("cargo test fuzz_seed_5_case_15")
        .build()
}

#[test]
fn fuzz_seed_5_case_15_holds() {
    fuzz_seed_5_case_15().run(&ReferenceClient::default(), &ReferenceServer::default(), 217549).assert_ok();
}
