//! Sometimes a lost acknowledgement: proves a sweep made the server commit a push whose
//! answer the device never saved.

use super::{Check, Expectation, Invariant};
use crate::history::{EventKind, History};
use crate::net::HttpFault;
use crate::step::Step;

/// Counts pushes the server committed but whose answer the device lost: the response
/// dropped or cut at the server's edge, the app killed right after the answer arrived and
/// before it was saved, or the server crashed right after the commit, before it answered.
/// The device must then retry a write the server already applied, which is what
/// [`super::ExactlyOnce`] judges; a sweep that never got here did not test it.
///
/// Edge faults on other requests than pushes (a lost pull page) acknowledge nothing and are
/// not counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReachedLostAcknowledgement;

impl Invariant for ReachedLostAcknowledgement {
    fn name(&self) -> &'static str {
        "sometimes a lost acknowledgement"
    }

    fn expectation(&self) -> Expectation {
        Expectation::Sometimes
    }

    fn description(&self) -> &'static str {
        "counts pushes the server committed whose answer the device lost, at the edge or by a kill or crash"
    }

    fn check(&self, history: &History) -> Check {
        // The edge faults that let the server commit, then lose its answer.
        let losing = [HttpFault::LoseResponse.name(), HttpFault::ResetMidBody.name()];
        let push = history.header.push_path.as_deref();
        let lost = history.events.iter().filter(|event| match &event.kind {
            EventKind::Edge { fault, path } => losing.contains(fault) && Some(path.as_str()) == push,
            EventKind::Kill { step: Some(step), .. } => {
                [Step::PushResponseReceived, Step::PushCommitted].contains(step)
            }
            _ => false,
        });
        Check::hits(lost.count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{Timeline, ALICE, DEVICE0};

    fn edge(fault: HttpFault, path: &str) -> EventKind {
        EventKind::Edge { fault: fault.name(), path: path.into() }
    }

    fn kill(step: Step) -> EventKind {
        EventKind::Kill { cause: crate::history::KillCause::AtStep, step: Some(step) }
    }

    #[test]
    fn lost_push_answers_and_kills_after_the_answer_are_counted() {
        let history = Timeline::new(&[ALICE])
            .at(10)
            .event(DEVICE0, edge(HttpFault::LoseResponse, protocol::PUSH_PATH))
            .event(DEVICE0, edge(HttpFault::ResetMidBody, protocol::PUSH_PATH))
            .event(DEVICE0, kill(Step::PushResponseReceived))
            .event(crate::net::SERVER, kill(Step::PushCommitted))
            .build();
        assert_eq!(ReachedLostAcknowledgement.check(&history), Check::hits(4));
    }

    #[test]
    fn lost_pull_pages_server_errors_and_other_kills_acknowledge_nothing() {
        let history = Timeline::new(&[ALICE])
            .at(10)
            .event(DEVICE0, edge(HttpFault::LoseResponse, protocol::PULL_PATH))
            .event(DEVICE0, edge(HttpFault::ServerError(503), protocol::PUSH_PATH))
            .event(DEVICE0, kill(Step::PushStarting))
            .build();
        assert_eq!(ReachedLostAcknowledgement.check(&history), Check::hits(0));
    }
}
