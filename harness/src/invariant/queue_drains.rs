//! Queue drains: after the final phase no device has a mutation left to send.

use super::facts::Facts;
use super::{Check, Expectation, Invariant, Violation};
use crate::history::History;

/// Catches mutations that never reach the server: after the final phase (every link
/// repaired, every device synced until idle) a device still holding pending or in-flight
/// mutations is stuck, typically on an entry the server keeps refusing as retryable, or on
/// a queue that forgets to drop acknowledged entries.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueDrains;

const NAME: &str = "queue drains";

impl Invariant for QueueDrains {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Eventually
    }

    fn description(&self) -> &'static str {
        "after the final phase every device's queue of mutations is empty"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let end = facts.end_ms();
        let violations = facts
            .snapshots
            .iter()
            .filter(|(_, (_, state))| state.pending > 0)
            .map(|(host, (_, state))| {
                let details = format!("{host} still has {} mutations pending after the final phase", state.pending);
                Violation::new(NAME, end, Some(host), details)
            })
            .collect();
        Check::found(violations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{records, Timeline, ALICE, DEVICE0, DEVICE1};
    use crate::state::DeviceState;

    #[test]
    fn empty_queues_have_drained() {
        let history = Timeline::new(&[ALICE, ALICE]).at(900).settle(&[(ALICE, records(&[]))]).build();
        assert_eq!(QueueDrains.check(&history), Check::ok());
    }

    #[test]
    fn a_device_with_pending_mutations_has_not_drained() {
        let stuck = DeviceState { pending: 3, ..DeviceState::default() };
        let history = Timeline::new(&[ALICE, ALICE])
            .at(900)
            .snapshot(DEVICE0, DeviceState::default())
            .snapshot(DEVICE1, stuck)
            .build();
        let check = QueueDrains.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert_eq!(check.violations[0].host.as_deref(), Some(DEVICE1));
        assert!(check.violations[0].details.contains("3 mutations pending"), "{check:?}");
    }
}
