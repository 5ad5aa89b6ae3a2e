use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::net::{HttpFault, Route};
use syncsim::{Fault, Profile, Scenario, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 9 --case 42`: violates no lost acknowledged writes; shrunk from size 22 to 7.
fn fuzz_seed_9_case_42() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_9_case_42")
        .description("3 devices of 2 users on app versions [4, 4, 4], wifi, 2 mixed operations each every 2114 ms; at 2973 ms 453 per mille of requests get 503 for 4627 ms")
        .users(2)
        .devices(3)
        .profile(Profile::WIFI)
        .workload(Workload::mixed(2).every(ms(2114)))
        .duration(ms(40000))
        .app_version_on(0, 4)
        .app_version_on(1, 4)
        .app_version_on(2, 4)
        .at(ms(2973), Fault::Http(HttpFault::ServerError(503), Route::Any, 453))
        .at(ms(7600), Fault::HttpCalm)
        .replay("cargo test fuzz_seed_9_case_42")
        .build()
}

#[test]
fn fuzz_seed_9_case_42_holds() {
    fuzz_seed_9_case_42().run(&ReferenceClient::default(), &ReferenceServer::default(), 821458).assert_ok();
}
