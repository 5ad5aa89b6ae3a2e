//! Scenarios about app upgrades: local schema migrations under a full queue and under
//! kills, skipped versions, and fleets whose apps speak different protocol versions.
//!
//! The reference app's version N runs local schema version N (1 to 8); versions 3 to 7
//! speak protocol version 2, which adds the task field `due_on`, and version 8 protocol 3,
//! which keeps a set's removed tags per element. Version 7 rebuilds the records and the
//! queue in a packed form, the largest migration of all.

use super::secs;
use crate::{Fault, Profile, Scenario, Step, Workload};

/// An app update installed while the offline queue is full: the local database is
/// migrated under the queue, whose entries were written in the old queue format.
pub fn app_upgrade_with_a_full_queue() -> Scenario {
    Scenario::builder("app_upgrade_with_a_full_queue")
        .description(
            "both devices start on app version 1; device0 queues writes offline from 3 s and is upgraded to version 7 \
             at 15 s (six migrations at once, the last one rebuilding the queue); device1 to version 3 at 10 s",
        )
        .devices(2)
        .profile(Profile::SLOW_4G)
        .app_version(1)
        .workload(Workload::mixed(24).every(secs(1)))
        .at(secs(3), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(10), Fault::Upgrade(1.into(), 3))
        .at(secs(15), Fault::Upgrade(0.into(), 7))
        .at(secs(24), Fault::Profile(0.into(), Profile::SLOW_4G))
        .duration(secs(34))
        .build()
}

/// The OS kills the app while it migrates its database, and the app is started again.
pub fn kill_in_the_middle_of_a_migration() -> Scenario {
    Scenario::builder("kill_in_the_middle_of_a_migration")
        .description(
            "device0 starts on app version 1 and device1 on 6, both queue writes; device0 (offline) is upgraded to \
             version 5 at 8 s and killed inside its first migration, device1 to version 7 at 14 s, killed inside the \
             rebuild of its records and queue; each restarts 2 s later",
        )
        .devices(2)
        .profile(Profile::SLOW_4G)
        .app_version(1)
        .app_version_on(1, 6)
        .workload(Workload::mixed(20).every(secs(1)))
        .at(secs(2), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(8), Fault::kill_at(0, Step::Migrating))
        .at(secs(8), Fault::Upgrade(0.into(), 5))
        .at(secs(14), Fault::kill_at(1, Step::Migrating))
        .at(secs(14), Fault::Upgrade(1.into(), 7))
        .at(secs(18), Fault::Profile(0.into(), Profile::SLOW_4G))
        .duration(secs(30))
        .build()
}

/// Users skip updates: an app goes from version 1 straight to 5, another from 3 to 5,
/// after the records they hold were given due dates their old versions could not see.
pub fn upgrade_from_v1_straight_to_v5() -> Scenario {
    Scenario::builder("upgrade_from_v1_straight_to_v5")
        .description(
            "device0 runs app version 1, device1 version 3, device2 version 5, all editing until 12 s; device0 is \
             upgraded to 5 at 16 s (four migrations at once) and device1 to 5 at 20 s",
        )
        .devices(3)
        .profile(Profile::SLOW_4G)
        .app_version_on(0, 1)
        .app_version_on(1, 3)
        .app_version_on(2, 5)
        .workload(Workload::mixed(12).every(secs(1)))
        .at(secs(16), Fault::Upgrade(0.into(), 5))
        .at(secs(20), Fault::Upgrade(1.into(), 5))
        .duration(secs(30))
        .build()
}

/// Five app versions, speaking protocols 1, 2 and 3, edit the same records (their labels
/// and tags among them); one device upgrades midway.
pub fn mixed_versions_editing_the_same_records() -> Scenario {
    Scenario::builder("mixed_versions_editing_the_same_records")
        .description(
            "device0..4 run app versions 1, 2, 3, 5 and 8 and edit the same two projects and six tasks; versions 3 \
             and later also set due dates, which versions 1 and 2 do not know, and version 8 gets set removals per \
             element; device1 is upgraded to 4 at 12 s",
        )
        .devices(5)
        .profile(Profile::LTE)
        .app_version_on(0, 1)
        .app_version_on(1, 2)
        .app_version_on(2, 3)
        .app_version_on(3, 5)
        .app_version_on(4, 8)
        .workload(Workload::edit_same_records(16).every(secs(1)))
        .at(secs(12), Fault::Upgrade(1.into(), 4))
        .duration(secs(30))
        .build()
}

/// The server speaks protocol 2 while most apps in the field still speak 1.
pub fn newer_server_with_old_clients() -> Scenario {
    Scenario::builder("newer_server_with_old_clients")
        .description(
            "device0..2 run app versions 1, 1 and 2 (protocol 1) against a protocol 2 server; device3 runs version 5 \
             and sets due dates on the records the old apps keep editing",
        )
        .devices(4)
        .profile(Profile::THREE_G)
        .app_version(1)
        .app_version_on(2, 2)
        .app_version_on(3, 5)
        .workload(Workload::edit_same_records(16).every(secs(1)))
        .duration(secs(30))
        .build()
}
