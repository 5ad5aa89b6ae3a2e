//! Scenarios that combine faults of every kind.

use super::secs;
use crate::fault::{ClockChange, ConditionChange, Host, Ways};
use crate::net::{HttpFault, Route};
use crate::{Fault, Profile, Scenario, Workload};
use std::time::Duration;

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
        .at(secs(23), http(HttpFault::ResetMidBody, Route::Pull))
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
