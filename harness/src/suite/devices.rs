//! Scenarios about the device: kills at sync steps, two sync rounds at once, clocks, OS
//! conditions, several users and another user logging in on the same device.

use super::secs;
use crate::fault::ConditionChange;
use crate::{Fault, Profile, Scenario, Step, Workload};
use protocol::{Strategies, Strategy};
use std::time::Duration;

/// Every second a second sync round starts on each device beside its next one (a
/// foreground sync and a background task at once), while four users write often: each
/// round downloads what the others wrote as the device's own writes are acknowledged.
pub fn two_sync_rounds_at_once() -> Scenario {
    let mut builder = Scenario::builder("two_sync_rounds_at_once")
        .description("from 2 to 34 s, every second, each device's next sync round runs beside a second one")
        .devices(4)
        .profile(Profile::LTE)
        .workload(Workload::mixed(80).every(Duration::from_millis(400)));
    for at in 2..=34 {
        builder = builder.at(secs(at), Fault::SecondRound(crate::fault::devices(), Duration::ZERO));
    }
    builder.duration(secs(40)).build()
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

/// Clocks jumping backwards (and forwards) under last-write-wins by hybrid logical clock.
pub fn clock_jumps_backwards_under_last_write_wins() -> Scenario {
    let lww = Strategy::LastWriteWinsHlc;
    Scenario::builder("clock_jumps_backwards_under_last_write_wins")
        .description(
            "every entity is last-write-wins; device1's clock jumps back 1 h, device2's back 10 min, then on 2 h",
        )
        .devices(3)
        .profile(Profile::REGULAR_4G)
        .strategies(Strategies { project: lww, task: lww })
        .workload(Workload::edit_same_records(16).start(secs(6)).every(secs(1)))
        .at(secs(10), Fault::clock_jump(1, -3_600_000))
        .at(secs(15), Fault::clock_jump(2, -600_000))
        .at(secs(25), Fault::clock_jump(2, 2 * 3_600_000))
        .duration(secs(34))
        .build()
}

/// The OS cuts background syncs after a short budget, while the user keeps writing.
pub fn background_budget_cuts_syncs() -> Scenario {
    let budget = |ms| Fault::Condition(0.into(), ConditionChange::Background(Duration::from_millis(ms)));
    Scenario::builder("background_budget_cuts_syncs")
        .description("device0 goes to the background with a 250 ms budget on 3g from 2 s, then 600 ms, then foreground")
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(40).every(Duration::from_millis(600)))
        .at(secs(2), budget(250))
        .at(secs(14), budget(600))
        .at(secs(26), Fault::Condition(0.into(), ConditionChange::Foreground))
        .duration(secs(36))
        .build()
}

/// Many devices of several users on one server: no user sees another's records.
pub fn many_devices_of_several_users() -> Scenario {
    Scenario::builder("many_devices_of_several_users")
        .description("nine devices of three users write on lte; two of them are cut off for a while")
        .users(3)
        .devices(9)
        .profile(Profile::LTE)
        .workload(Workload::mixed(12))
        .at(secs(5), Fault::partition(4))
        .at(secs(8), Fault::Profile(7.into(), Profile::OFFLINE))
        .at(secs(18), Fault::repair(4))
        .at(secs(20), Fault::Profile(7.into(), Profile::LTE))
        .duration(secs(30))
        .build()
}

/// A tablet changes hands: alice's device0, offline with her writes queued, is logged into
/// by bob, back by alice, then by bob for good. Each must see only their own records, and
/// alice's writes left queued must reach the server as hers while bob uses the tablet.
pub fn another_user_logs_in_on_the_same_device() -> Scenario {
    Scenario::builder("another_user_logs_in_on_the_same_device")
        .description(
            "device0 (alice) is offline from 4 s with writes queued; bob logs in on it at 9 s, online again at 13 s; \
             alice at 21 s, bob again at 29 s; device1 is bob's, device2 alice's",
        )
        .users(2)
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(48).every(Duration::from_millis(700)))
        .at(secs(4), Fault::partition(0))
        .at(secs(9), Fault::SwitchUser(0.into(), 1))
        .at(secs(13), Fault::repair(0))
        .at(secs(21), Fault::SwitchUser(0.into(), 0))
        .at(secs(29), Fault::SwitchUser(0.into(), 1))
        .duration(secs(36))
        .build()
}
