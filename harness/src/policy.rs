//! When devices sync: the OS's schedule of rounds.

use std::time::Duration;

/// How the OS schedules sync rounds.
///
/// Defaults: every 5 s, 500 ms after a write, 500 ms between final-phase rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Time between periodic rounds.
    pub period: Duration,
    /// Delay from a write to the round it triggers.
    pub debounce: Duration,
    /// Pause between rounds in the final phase.
    pub final_pause: Duration,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(5),
            debounce: Duration::from_millis(500),
            final_pause: Duration::from_millis(500),
        }
    }
}
