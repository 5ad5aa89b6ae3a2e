//! Scenarios about the device: kills at sync steps, clocks.

use super::secs;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

/// The app is killed at every named sync step in turn, and restarted on its data.
pub fn kill_at_each_sync_step() -> Scenario {
    let mut builder = Scenario::builder("kill_at_each_sync_step")
        .description("device0 is killed at each of the six sync steps in turn, restarting 2 s later")
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(36).every(secs(1)));
    for (k, step) in Step::ALL.into_iter().enumerate() {
        builder = builder.at(secs(2 + 5 * k as u64), Fault::kill_at(0, step));
    }
    builder.duration(secs(40)).build()
}

/// One device's clock is hours ahead and another's hours behind, under last-write-wins.
pub fn clock_skew_of_hours() -> Scenario {
    Scenario::builder("clock_skew_of_hours")
        .description("device1's clock is 3 h ahead, device2's 2 h behind; all edit the same records")
        .devices(3)
        .profile(Profile::REGULAR_4G)
        .clock_offset(1, 3 * 3_600_000)
        .clock_offset(2, -2 * 3_600_000)
        .workload(Workload::edit_same_records(12).start(secs(6)))
        .duration(secs(40))
        .build()
}
