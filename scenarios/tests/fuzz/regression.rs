use scenarios::reference::{ReferenceClient, ReferenceServer};
use std::time::Duration;
use syncsim::net::{HttpFault, Route};
use syncsim::{Fault, Profile, Scenario, Workload};

/// Found by `cargo run --release -p scenarios -- fuzz --seed 1 --case 16`: violates no lost acknowledged writes; shrunk from size 7 to 2.
fn fuzz_seed_1_case_16() -> Scenario {
    let ms = Duration::from_millis;
    Scenario::builder("fuzz_seed_1_case_16")
        .description("1 device of 1 user on app versions [5], 3g, 1 mixed operation each every 1197 ms; at 131 ms 297 per mille of requests get 503 for 2436 ms")
        .users(1)
        .devices(1)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(1).every(ms(1197)))
        .duration(ms(40000))
        .app_version_on(0, 5)
        .at(ms(131), Fault::Http(HttpFault::ServerError(503), Route::Any, 297))
        .at(ms(2567), Fault::HttpCalm)
        .replay("cargo test fuzz_seed_1_case_16")
        .build()
}

#[test]
fn fuzz_seed_1_case_16_holds() {
    fuzz_seed_1_case_16().run(&ReferenceClient::default(), &ReferenceServer::default(), 549705).assert_ok();
}
