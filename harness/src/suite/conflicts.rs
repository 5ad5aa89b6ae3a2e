//! Scenarios about concurrent writes: every conflict strategy, deletes against edits,
//! counters and sets, parents and children.

use super::secs;
use crate::capability::Requirement;
use crate::workload::Mix;
use crate::{Fault, Profile, Scenario, Workload};
use protocol::{Strategies, Strategy};

/// Two phones edit the same records while both are offline, under the default strategies.
pub fn same_record_edited_on_two_devices_offline() -> Scenario {
    Scenario::builder("same_record_edited_on_two_devices_offline")
        .description("two devices edit the same six records while both are offline from 7 s to 25 s")
        .devices(2)
        .profile(Profile::SLOW_4G)
        .workload(Workload::edit_same_records(12).start(secs(6)).every(secs(1)))
        .at(secs(7), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(7), Fault::Profile(1.into(), Profile::OFFLINE))
        .at(secs(25), Fault::Profile(0.into(), Profile::SLOW_4G))
        .at(secs(25), Fault::Profile(1.into(), Profile::SLOW_4G))
        .duration(secs(35))
        .build()
}

/// Concurrent edits under the strategies that refuse stale writes.
pub fn concurrent_edits_under_server_wins() -> Scenario {
    concurrent_edits("concurrent_edits_under_server_wins", Strategy::ServerWins, Strategy::UserPrompted)
        .description("projects are server-wins, tasks user-prompted; three devices edit the same records, two cut off")
        .build()
}

/// Concurrent edits under the strategies that let the last write through.
pub fn concurrent_edits_under_client_wins() -> Scenario {
    concurrent_edits("concurrent_edits_under_client_wins", Strategy::ClientWins, Strategy::LastWriteWinsArrival)
        .description("projects are client-wins, tasks last-write-wins by arrival; three devices edit the same records")
        .build()
}

fn concurrent_edits(name: &str, project: Strategy, task: Strategy) -> crate::scenario::Builder {
    Scenario::builder(name)
        .devices(3)
        .profile(Profile::REGULAR_4G)
        .strategies(Strategies { project, task })
        .workload(Workload::edit_same_records(14).start(secs(6)).every(secs(1)))
        .at(secs(8), Fault::partition(0))
        .at(secs(12), Fault::Profile(1.into(), Profile::OFFLINE))
        .at(secs(20), Fault::Profile(1.into(), Profile::REGULAR_4G))
        .at(secs(24), Fault::repair(0))
        .duration(secs(32))
}

/// One device deletes records that another keeps editing.
pub fn delete_on_one_device_while_another_edits() -> Scenario {
    let mix = Mix { edit_text: 6, toggle_done: 1, increment: 2, delete_task: 3, delete_project: 2, ..Mix::EDITS };
    let workload = Workload { setup_projects: 3, setup_tasks: 3, ..Workload::mixed(14).mix(mix) };
    Scenario::builder("delete_on_one_device_while_another_edits")
        .description("three devices edit and delete the same records; device0 is cut off from 8 s to 24 s")
        .devices(3)
        .profile(Profile::SLOW_4G)
        .workload(workload.start(secs(6)).every(secs(1)))
        .at(secs(8), Fault::partition(0))
        .at(secs(24), Fault::repair(0))
        .duration(secs(32))
        .build()
}

/// Counters and sets changed on every device, with lost answers and a partition.
pub fn counters_and_sets_edited_everywhere() -> Scenario {
    let mix = Mix { edit_text: 1, toggle_done: 0, increment: 6, add_element: 4, remove_element: 3, ..Mix::EDITS };
    let workload = Workload { setup_projects: 2, setup_tasks: 2, ..Workload::mixed(16).mix(mix) };
    Scenario::builder("counters_and_sets_edited_everywhere")
        .requires(Requirement::Counters)
        .requires(Requirement::Sets)
        .description("four devices increment counters and add and remove tags; lost answers; device1 cut off")
        .devices(4)
        .profile(Profile::REGULAR_4G)
        .workload(workload.start(secs(6)).every(secs(1)))
        .at(secs(7), Fault::lose_push_responses(250))
        .at(secs(9), Fault::partition(1))
        .at(secs(20), Fault::repair(1))
        .at(secs(24), Fault::HttpCalm)
        .duration(secs(32))
        .build()
}

/// Projects and their tasks created offline while another device deletes projects.
pub fn parent_and_child_created_offline() -> Scenario {
    let mix = Mix { create_project: 2, create_task: 6, edit_text: 2, delete_project: 3, ..Mix::EDITS };
    let workload = Workload { setup_projects: 4, setup_tasks: 0, ..Workload::mixed(12).mix(mix) };
    Scenario::builder("parent_and_child_created_offline")
        .description("device0 creates projects and tasks offline from 4 s to 22 s while device1 deletes projects")
        .devices(2)
        .profile(Profile::THREE_G)
        .workload(workload.start(secs(5)).every(secs(1)))
        .at(secs(4), Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(22), Fault::Profile(0.into(), Profile::THREE_G))
        .at(secs(22), Fault::lose_push_responses(200))
        .at(secs(28), Fault::HttpCalm)
        .duration(secs(36))
        .build()
}
