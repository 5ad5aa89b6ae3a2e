//! Retries back off: a device the server refused waits before it asks again.

use super::{Check, Expectation, Invariant, Violation};
use crate::history::{EventKind, History};
use crate::net::HttpFault;
use std::collections::BTreeMap;
use std::time::Duration;

/// The wait after the first refusal; it doubles with each refusal in a row.
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait the check demands, however many refusals in a row.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Catches a device that hammers a server that is refusing it. After the server's edge
/// refused a request (a 5xx, or a 429), the device's next request must come no sooner than
/// [`FIRST_WAIT`] doubled for each refusal in a row before it (capped at [`LONGEST_WAIT`]),
/// and no sooner than the 429's `Retry-After`. A request that is not refused ends the run
/// of refusals.
///
/// The floor is the lower half of the exponential backoff that DESIGN.md asks of clients (1,
/// 2, 4 ... s, jittered): jitter may halve a wait, never shorten it more. Refusals are
/// those the harness injected at the edge (the history does not see the server's own
/// statuses). A kill ends the run of refusals: the app's memory of them dies with it.
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
