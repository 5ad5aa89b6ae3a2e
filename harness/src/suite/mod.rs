//! The certification suite: 33 scenarios, each named for its situation, generic over any
//! [`crate::Client`] and [`crate::Server`].
//!
//! Their names are stable: reports, replay commands and `--filter` use them. A scenario
//! about something an implementation does not declare (a strategy, counter fields, a sync
//! step, an app upgrade...) does not apply to it ([`crate::Scenario::applies_to`]);
//! [`crate::certify`] reports it not applicable with the reason.
//!
//! ```no_run
//! # fn demo<C: syncsim::Client, S: syncsim::Server>(client: C, server: S) {
//! syncsim::suite::lost_acknowledgements().run(&client, &server, 1).assert_ok();
//! # }
//! ```

use crate::Scenario;
use std::time::Duration;

mod conflicts;
mod devices;
mod long_offline;
mod mixed;
mod network;
mod server;
mod upgrades;

pub use conflicts::*;
pub use devices::*;
pub use long_offline::*;
pub use mixed::*;
pub use network::*;
pub use server::*;
pub use upgrades::*;

pub(crate) const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Every scenario, in the order `syncsim list` shows them.
pub fn all() -> Vec<Scenario> {
    vec![
        cold_start_offline(),
        offline_writes_then_reconnect(),
        slow_networks(),
        network_cut_during_a_push(),
        kill_at_each_sync_step(),
        two_sync_rounds_at_once(),
        same_record_edited_on_two_devices_offline(),
        edits_on_both_sides_of_a_partition(),
        concurrent_edits_under_server_wins(),
        concurrent_edits_under_client_wins(),
        lost_acknowledgements(),
        server_restart_mid_sync(),
        server_crashes_right_after_a_commit(),
        server_stalls_while_answering_a_pull(),
        pushes_arrive_twice_at_once(),
        server_refuses_a_field_for_ever(),
        clock_skew_of_hours(),
        clock_jumps_backwards_under_last_write_wins(),
        delete_on_one_device_while_another_edits(),
        parent_and_child_created_offline(),
        many_changes_pulled_in_small_pages(),
        server_clock_steps_back(),
        train_through_tunnels(),
        handover_between_networks(),
        background_budget_cuts_syncs(),
        server_error_and_rate_limit_storms(),
        many_devices_of_several_users(),
        another_user_logs_in_on_the_same_device(),
        counters_and_sets_edited_everywhere(),
        every_fault_in_turn(),
        long_offline_with_thousands_of_queued_mutations(),
        device_offline_longer_than_the_tombstone_horizon(),
        answer_lost_then_deleted_and_purged(),
        app_upgrade_with_a_full_queue(),
        kill_in_the_middle_of_a_migration(),
        upgrade_from_v1_straight_to_v5(),
        mixed_versions_editing_the_same_records(),
        newer_server_with_old_clients(),
    ]
}

/// The scenario named `name`, if there is one.
pub fn by_name(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name() == name)
}
