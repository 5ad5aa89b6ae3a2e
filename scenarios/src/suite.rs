//! The scenarios of the suite, each named for its situation.

use std::time::Duration;
use syncsim::{Fault, Profile, Scenario, Step, Workload};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Every scenario, in the order `syncsim list` shows them.
pub fn all() -> Vec<Scenario> {
    vec![
        offline_writes_then_reconnect(),
        edits_on_both_sides_of_a_partition(),
        kill_at_each_sync_step(),
        clock_skew_of_hours(),
        lost_acknowledgements(),
    ]
}

/// The scenario named `name`, if there is one.
pub fn by_name(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name() == name)
}

/// One device works offline for most of the run while another keeps syncing.
pub fn offline_writes_then_reconnect() -> Scenario {
    Scenario::builder("offline_writes_then_reconnect")
        .description("device0 writes offline from 3 s to 30 s while device1 syncs; then both reconnect")
        .devices(2)
        .profile(Profile::SLOW_4G)
        .workload(Workload::mixed(15))
        .at(secs(3), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(30), Fault::Profile(0.into(), Profile::SLOW_4G))
        .duration(secs(40))
        .build()
}

/// Three devices edit the same records while one of them is cut off.
pub fn edits_on_both_sides_of_a_partition() -> Scenario {
    Scenario::builder("edits_on_both_sides_of_a_partition")
        .description("three devices edit the same six records; device0 is partitioned from 8 s to 30 s")
        .devices(3)
        .profile(Profile::SLOW_4G)
        .workload(Workload::edit_same_records(12).start(secs(6)))
        .at(secs(8), Fault::partition(0))
        .at(secs(30), Fault::repair(0))
        .duration(secs(40))
        .build()
}

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

/// The server commits pushes whose answers never reach the device.
pub fn lost_acknowledgements() -> Scenario {
    Scenario::builder("lost_acknowledgements")
        .description("a third of the push responses are lost after the server committed, from 2 s to 35 s")
        .devices(2)
        .profile(Profile::SLOW_4G)
        .workload(Workload::mixed(15))
        .at(secs(2), Fault::lose_push_responses(333))
        .at(secs(35), Fault::HttpCalm)
        .duration(secs(40))
        .build()
}
