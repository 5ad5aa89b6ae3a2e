//! Sometimes a kill during a push: proves a sweep killed apps in the riskiest half of a round.

use super::{Check, Expectation, Invariant};
use crate::history::{EventKind, History};

/// Counts kills that hit a device while its sync round was pushing (from the moment a batch
/// is marked in flight until its answers are saved). That window is where duplicates and
/// lost writes are made, so a sweep that never reached it proves little about them.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReachedKillDuringPush;

impl Invariant for ReachedKillDuringPush {
    fn name(&self) -> &'static str {
        "sometimes a kill during a push"
    }

    fn expectation(&self) -> Expectation {
        Expectation::Sometimes
    }

    fn description(&self) -> &'static str {
        "counts kills of a device in the push half of a sync round"
    }

    fn check(&self, history: &History) -> Check {
        let kills = history.events.iter().filter(|event| match &event.kind {
            EventKind::Kill { step, .. } => step.is_some_and(|s| s.is_push()),
            _ => false,
        });
        Check::hits(kills.count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{Timeline, ALICE, DEVICE0};
    use crate::step::Step;

    fn kill(step: Option<Step>) -> EventKind {
        EventKind::Kill { cause: crate::history::KillCause::AtStep, step }
    }

    #[test]
    fn only_kills_at_push_steps_are_counted() {
        let history = Timeline::new(&[ALICE])
            .at(10)
            .event(DEVICE0, kill(Some(Step::PushStarting)))
            .event(DEVICE0, kill(Some(Step::PullPageReceived)))
            .event(DEVICE0, kill(None))
            .event(DEVICE0, kill(Some(Step::PushAcknowledged)))
            .build();
        assert_eq!(ReachedKillDuringPush.check(&history), Check::hits(2));
    }

    #[test]
    fn a_run_without_kills_reaches_none() {
        assert_eq!(ReachedKillDuringPush.check(&Timeline::new(&[ALICE]).build()), Check::hits(0));
    }
}
