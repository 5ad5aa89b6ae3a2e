//! Sometimes a conflict: proves a sweep made concurrent writes meet at the server.

use super::{Check, Expectation, Invariant};
use crate::history::{EventKind, History};

/// Counts the mutations that met a conflict, as the devices' sync rounds reported them. A
/// sweep where this stays at zero never exercised the declared strategy, so its green
/// verdict on the conflict invariants means little.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReachedConflict;

impl Invariant for ReachedConflict {
    fn name(&self) -> &'static str {
        "sometimes a conflict"
    }

    fn expectation(&self) -> Expectation {
        Expectation::Sometimes
    }

    fn description(&self) -> &'static str {
        "counts mutations that met a conflict during sync, to prove the strategy was exercised"
    }

    fn check(&self, history: &History) -> Check {
        let conflicts = history.events.iter().map(|event| match &event.kind {
            EventKind::SyncOk { outcome, .. } => outcome.conflicts,
            _ => 0,
        });
        Check::hits(conflicts.sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{Timeline, ALICE, DEVICE0};
    use crate::state::SyncOutcome;

    #[test]
    fn conflicts_of_every_completed_round_are_counted() {
        let round = |round, conflicts| EventKind::SyncOk {
            round,
            outcome: SyncOutcome { conflicts, ..SyncOutcome::default() },
        };
        let history = Timeline::new(&[ALICE])
            .at(10)
            .event(DEVICE0, round(1, 2))
            .event(DEVICE0, EventKind::SyncFail { round: 2, error: "offline".into() })
            .event(DEVICE0, round(3, 1))
            .build();
        assert_eq!(ReachedConflict.check(&history), Check::hits(3));
    }

    #[test]
    fn a_run_without_conflicts_reaches_none() {
        let history = Timeline::new(&[ALICE]).at(10).event(DEVICE0, round_without_conflict()).build();
        assert_eq!(ReachedConflict.check(&history), Check::hits(0));
    }

    fn round_without_conflict() -> EventKind {
        EventKind::SyncOk { round: 1, outcome: SyncOutcome { pushed: 4, accepted: 4, ..SyncOutcome::default() } }
    }
}
