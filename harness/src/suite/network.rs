//! Scenarios about the network: offline, partitions, lost answers, flapping.

use super::secs;
use crate::{Fault, Profile, Scenario, Workload};
use std::time::Duration;

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

/// A phone opened for the first time with no network: it works offline from the start.
pub fn cold_start_offline() -> Scenario {
    Scenario::builder("cold_start_offline")
        .description("device0 starts with no network, writes from 1 s, and first reaches the server at 20 s")
        .devices(2)
        .profile(Profile::SLOW_4G)
        .device_profile(0, Profile::OFFLINE)
        .workload(Workload::mixed(16).every(secs(1)))
        .at(secs(20), Fault::Profile(0.into(), Profile::SLOW_4G))
        .duration(secs(32))
        .build()
}

/// The worst networks: very-bad (lossy, 500 ms each way) and edge.
pub fn slow_networks() -> Scenario {
    Scenario::builder("slow_networks")
        .description("device0 on very-bad (10% loss, 500 ms), device1 on edge, device2 on 3g, all writing")
        .devices(3)
        .profile(Profile::THREE_G)
        .device_profile(0, Profile::VERY_BAD)
        .device_profile(1, Profile::EDGE)
        .workload(Workload::mixed(14))
        .duration(secs(40))
        .build()
}

/// The network drops again and again while a long queue is being pushed.
pub fn network_cut_during_a_push() -> Scenario {
    Scenario::builder("network_cut_during_a_push")
        .description("device0 queues 60 writes offline, then drains them on edge while the network drops every 2 s")
        .devices(2)
        .profile(Profile::EDGE)
        .workload(Workload::mixed(60).every(Duration::from_millis(200)))
        .at(Duration::ZERO, Fault::Profile(0.into(), Profile::OFFLINE))
        .flapping(0, Profile::EDGE, secs(13), secs(31), secs(2))
        .duration(secs(40))
        .build()
}

/// A phone moving between networks: wifi, lte, 3g, edge and back.
pub fn handover_between_networks() -> Scenario {
    let mut builder = Scenario::builder("handover_between_networks")
        .description("device0 hands over wifi, lte, 3g, edge, offline, slow-4g and back to wifi every 4 s")
        .devices(2)
        .profile(Profile::WIFI)
        .workload(Workload::mixed(30).every(secs(1)));
    let route = [Profile::LTE, Profile::THREE_G, Profile::EDGE, Profile::OFFLINE, Profile::SLOW_4G, Profile::WIFI];
    for (k, profile) in route.into_iter().enumerate() {
        builder = builder.at(secs(4 + 4 * k as u64), Fault::Profile(0.into(), profile));
    }
    builder.duration(secs(36)).build()
}
