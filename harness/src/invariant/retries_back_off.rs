//! Retries back off: a device the server refused waits before it asks again.

use super::{Check, Expectation, Invariant, Violation};
use crate::history::{EventKind, History};
use crate::net::{HttpFault, SERVER};
use std::collections::BTreeMap;
use std::time::Duration;

/// The wait after the first refusal; it doubles with each refusal in a row.
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait the check demands, however many refusals in a row.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// How long a refusal may still be on its way to the device: a server crash this soon
/// after it may have cut it off (in the simulation the edge dies with the server).
const ANSWER_IN_FLIGHT: Duration = Duration::from_secs(2);

/// Catches a device that hammers a server that is refusing it. After the server's edge
/// refused a request (a 5xx, or a 429), the device's next request must come no sooner than
/// [`FIRST_WAIT`] doubled for each refusal in a row before it (capped at [`LONGEST_WAIT`]),
/// and no sooner than the 429's `Retry-After`. A request that is not refused ends the run
/// of refusals.
///
/// The floor is the lower half of the exponential backoff that DESIGN.md asks of clients (1,
/// 2, 4 ... s, jittered): jitter may halve a wait, never shorten it more. Refusals are
/// those the harness injected at the edge (the history does not see the server's own
/// statuses). A kill ends the run of refusals: the app's memory of them dies with it. A
/// server crash right after a refusal ends the run too: the answer may never have left.
/// (Fuzz campaign 1 case 1660: a 503 recorded at the edge 57 ms before the server crashed
/// reached the device as a closed connection, and the device rightly did not count it.)
#[derive(Clone, Copy, Debug, Default)]
pub struct RetriesBackOff;

const NAME: &str = "retries back off";

impl Invariant for RetriesBackOff {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "after the server refuses a device (5xx, 429), its next request waits: exponential backoff, Retry-After"
    }

    fn check(&self, history: &History) -> Check {
        let mut devices: BTreeMap<&str, Refusals> = BTreeMap::new();
        let mut violations = Vec::new();
        for event in &history.events {
            if event.host == SERVER && matches!(event.kind, EventKind::Kill { .. }) {
                devices.values_mut().for_each(|refusals| refusals.server_crashed(event.t_ms));
                continue;
            }
            let refusals = devices.entry(event.host.as_str()).or_default();
            match &event.kind {
                EventKind::Request { path } => {
                    if let Some(details) = refusals.request(event.t_ms, path) {
                        violations.push(Violation::new(NAME, event.t_ms, Some(&event.host), details));
                    }
                }
                EventKind::Edge { fault, .. } => refusals.answered(event.t_ms, HttpFault::from_name(fault)),
                EventKind::Kill { .. } => *refusals = Refusals::default(),
                _ => {}
            }
        }
        Check::found(violations)
    }
}

/// One device's run of refusals.
#[derive(Default)]
struct Refusals {
    /// Refusals in a row.
    count: u32,
    /// When the last request was refused, and the earliest the next may come.
    last: Option<(u64, u64)>,
    /// Whether the last request has been refused (an edge event follows its request).
    refused: bool,
}

impl Refusals {
    /// A request at `t_ms`: too early, or the end of a run of refusals.
    fn request(&mut self, t_ms: u64, path: &str) -> Option<String> {
        if !self.refused {
            self.count = 0;
        }
        self.refused = false;
        let (refused_at, earliest) = self.last.filter(|_| self.count > 0)?;
        (t_ms < earliest).then(|| {
            format!(
                "request {path} {} ms after the server refused this device ({} refusals in a row); \
                 it had to wait {} ms",
                t_ms - refused_at,
                self.count,
                earliest - refused_at
            )
        })
    }

    /// The server crashed at `t_ms`: a refusal this device has not answered by a request yet
    /// may have died with it, and with it the run of refusals as the device knows it.
    fn server_crashed(&mut self, t_ms: u64) {
        let in_flight = ANSWER_IN_FLIGHT.as_millis() as u64;
        if self.refused && self.last.is_some_and(|(refused_at, _)| t_ms.saturating_sub(refused_at) <= in_flight) {
            *self = Refusals::default();
        }
    }

    /// The edge answered the last request with `fault`.
    fn answered(&mut self, t_ms: u64, fault: Option<HttpFault>) {
        let retry_after = match fault {
            Some(HttpFault::ServerError(_)) => Duration::ZERO,
            Some(HttpFault::TooManyRequests { retry_after }) => retry_after,
            _ => return,
        };
        self.refused = true;
        self.count += 1;
        let doubled = FIRST_WAIT.saturating_mul(1 << (self.count - 1).min(16)).min(LONGEST_WAIT);
        let wait = doubled.max(retry_after);
        self.last = Some((t_ms, t_ms + wait.as_millis() as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{Timeline, ALICE, DEVICE0};

    fn refused_then_asked_again_after(waits: &[u64], fault: HttpFault) -> History {
        let mut timeline = Timeline::new(&[ALICE]);
        let mut t = 10;
        for wait in waits {
            timeline = timeline.at(t).request(DEVICE0, protocol::PUSH_PATH).edge(DEVICE0, &fault.name());
            t += wait;
        }
        timeline.at(t).request(DEVICE0, protocol::PUSH_PATH).build()
    }

    #[test]
    fn waits_that_double_pass() {
        let history = refused_then_asked_again_after(&[600, 1100, 2100], HttpFault::ServerError(503));
        assert_eq!(RetriesBackOff.check(&history), Check::ok());
    }

    #[test]
    fn a_retry_that_does_not_wait_longer_each_time_fails() {
        let history = refused_then_asked_again_after(&[600, 600], HttpFault::ServerError(503));
        let check = RetriesBackOff.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("2 refusals in a row"), "{}", check.violations[0].details);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let fault = HttpFault::TooManyRequests { retry_after: Duration::from_secs(3) };
        assert_eq!(RetriesBackOff.check(&refused_then_asked_again_after(&[3000], fault)), Check::ok());
        assert_eq!(RetriesBackOff.check(&refused_then_asked_again_after(&[2000], fault)).violations.len(), 1);
    }

    #[test]
    fn a_kill_ends_the_run_of_refusals() {
        let history = Timeline::new(&[ALICE])
            .at(10)
            .request(DEVICE0, protocol::PULL_PATH)
            .edge(DEVICE0, "status_503")
            .at(100)
            .event(DEVICE0, EventKind::Kill { cause: crate::history::KillCause::Scheduled, step: None })
            .at(200)
            .request(DEVICE0, protocol::PULL_PATH)
            .build();
        assert_eq!(RetriesBackOff.check(&history), Check::ok());
    }

    #[test]
    fn a_server_crash_right_after_a_refusal_ends_the_run_of_refusals() {
        let crash = EventKind::Kill { cause: crate::history::KillCause::Scheduled, step: None };
        let history = |crash_at: u64| {
            Timeline::new(&[ALICE])
                .at(10)
                .request(DEVICE0, protocol::PULL_PATH)
                .edge(DEVICE0, "status_503")
                .at(700)
                .request(DEVICE0, protocol::PULL_PATH)
                .edge(DEVICE0, "status_503")
                .at(crash_at)
                .event(SERVER, crash.clone())
                .at(3_500)
                .request(DEVICE0, protocol::PULL_PATH)
                .edge(DEVICE0, "status_503")
                .at(4_100)
                .request(DEVICE0, protocol::PULL_PATH)
                .build()
        };
        assert_eq!(RetriesBackOff.check(&history(750)), Check::ok(), "the second refusal may never have arrived");
        let long_after = RetriesBackOff.check(&history(3_000));
        assert_eq!(long_after.violations.len(), 1, "a refusal 2.3 s before the crash was heard: {long_after:?}");
    }

    #[test]
    fn an_answered_request_ends_the_run_of_refusals() {
        let history = Timeline::new(&[ALICE])
            .at(10)
            .request(DEVICE0, protocol::PULL_PATH)
            .edge(DEVICE0, "status_503")
            .at(600)
            .request(DEVICE0, protocol::PULL_PATH)
            .at(700)
            .request(DEVICE0, protocol::PUSH_PATH)
            .build();
        assert_eq!(RetriesBackOff.check(&history), Check::ok());
    }
}
