//! The scenarios of the suite, each named for its situation.

use std::time::Duration;
use syncsim::{ClockChange, ConditionChange, Fault, Host, HttpFault, Profile, Route, Scenario, Step, Ways, Workload};

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
        every_fault_in_turn(),
        train_through_tunnels(),
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

/// A phone on a train: the network drops every few seconds and comes back on another cell.
pub fn train_through_tunnels() -> Scenario {
    Scenario::builder("train_through_tunnels")
        .description("device0's network flaps between offline and 3g every 3 s from 4 s to 34 s")
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(30).every(secs(1)))
        .flapping(0, Profile::THREE_G, secs(4), secs(34), secs(3))
        .duration(secs(40))
        .build()
}

/// Every kind of fault the harness offers, one after another.
pub fn every_fault_in_turn() -> Scenario {
    let http = |fault, route| Fault::Http(fault, route, 500);
    Scenario::builder("every_fault_in_turn")
        .description("hold, one-way partition, server crash, 503, 429, resets, slow answers, clocks, conditions, kills")
        .devices(3)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(40).every(secs(1)))
        .at(secs(2), Fault::Hold(0.into()))
        .at(secs(6), Fault::Release(0.into()))
        .at(secs(7), Fault::Partition(1.into(), Ways::FromServer))
        .at(secs(12), Fault::Repair(1.into(), Ways::FromServer))
        .at(secs(13), Fault::Crash(Host::Server))
        .at(secs(16), Fault::Bounce(Host::Server))
        .at(secs(17), http(HttpFault::ServerError(503), Route::Any))
        .at(secs(20), http(HttpFault::TooManyRequests { retry_after: secs(2) }, Route::Any))
        .at(secs(23), Fault::HttpCalm)
        .at(secs(23), http(HttpFault::ResetMidBody, Route::PULL))
        .at(secs(26), http(HttpFault::Slow(Duration::from_millis(1500)), Route::Any))
        .at(secs(29), Fault::HttpCalm)
        .at(secs(29), Fault::clock_jump(2, -600_000))
        .at(secs(30), Fault::Clock(1.into(), ClockChange::Drift(50_000)))
        .at(secs(31), Fault::Condition(2.into(), ConditionChange::Background(Duration::from_millis(300))))
        .at(secs(31), Fault::Condition(0.into(), ConditionChange::BatteryLow(true)))
        .at(secs(31), Fault::Condition(1.into(), ConditionChange::Metered(true)))
        .at(secs(32), Fault::Profile(0.into(), Profile::BLACKHOLE))
        .at(secs(36), Fault::Profile(0.into(), Profile::VERY_BAD))
        .at(secs(36), Fault::RandomKills(1.into(), secs(3), secs(1)))
        .duration(secs(45))
        .build()
}
