//! The scenarios of the suite, each named for its situation.

use std::time::Duration;
use syncsim::Scenario;

mod devices;
mod mixed;
mod network;

pub use devices::*;
pub use mixed::*;
pub use network::*;

pub(crate) const fn secs(s: u64) -> Duration {
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
