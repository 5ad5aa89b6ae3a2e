//! The first scenarios on the reference implementation, over a seed sweep each.

use scenarios::reference::{ReferenceClient, ReferenceServer};
use scenarios::suite;
use syncsim::Scenario;

/// Seeds per scenario in CI; `SYNCSIM_SEEDS` runs more.
const SEEDS: u64 = 32;

fn sweep(scenario: Scenario) {
    let sweep = scenario.run_seeds(&ReferenceClient::default(), &ReferenceServer, syncsim::seed::sweep(SEEDS));
    sweep.assert_ok();
}

#[test]
fn offline_writes_then_reconnect_converge() {
    let report = suite::offline_writes_then_reconnect().run(&ReferenceClient::default(), &ReferenceServer, 1);
    println!("{}", report.timeline());
    println!("{report}");
    report.assert_ok();
}
