//! Scenarios about the network: offline, partitions, lost answers, flapping.

use super::secs;
use syncsim::{Fault, Profile, Scenario, Workload};

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
