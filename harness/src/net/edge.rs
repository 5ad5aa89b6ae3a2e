//! HTTP faults at the server's edge: the server (or a proxy in front of it) misbehaves for
//! some requests.
//!
//! Every request passes the edge before the router. While faults are active, each matching
//! request draws them in the order they were activated, each with its probability, from
//! the run's seeded RNG; the first that hits applies (so a later fault on the same route
//! hits a little less often than its rate). A fault that hits is recorded on the timeline
//! with the device whose request it hit.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;
use std::time::Duration;

/// A way a request can go wrong at the server's edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpFault {
    /// The server handles the request and commits, then the connection drops before the
    /// answer leaves: the client never learns its push was applied.
    LoseResponse,
    /// The edge answers with this 5xx status without reaching the server.
    ServerError(u16),
    /// The edge answers 429 with `Retry-After` (whole seconds).
    TooManyRequests {
        /// The value of `Retry-After`.
        retry_after: Duration,
    },
    /// The server handles the request; the connection resets halfway through the answer.
    ResetMidBody,
    /// The request waits this long before reaching the server.
    Slow(Duration),
    /// The request reaches the server twice at once, the second copy while the first is
    /// still being handled: a proxy or load balancer that retries a request it believes
    /// lost. The device gets the first copy's answer.
    Duplicate,
}

impl HttpFault {
    /// The fault a timeline name stands for (the inverse of [`HttpFault::name`]).
    pub fn from_name(name: &str) -> Option<HttpFault> {
        let number = |s: &str| s.parse::<u64>().ok();
        if let Some(secs) = name.strip_prefix("status_429_retry_after_").and_then(|s| s.strip_suffix('s')) {
            return number(secs).map(|s| HttpFault::TooManyRequests { retry_after: Duration::from_secs(s) });
        }
        if let Some(status) = name.strip_prefix("status_") {
            return status.parse().ok().map(HttpFault::ServerError);
        }
        if let Some(ms) = name.strip_prefix("slow_").and_then(|s| s.strip_suffix("ms")) {
            return number(ms).map(|ms| HttpFault::Slow(Duration::from_millis(ms)));
        }
        match name {
            "lose_response" => Some(HttpFault::LoseResponse),
            "reset_mid_body" => Some(HttpFault::ResetMidBody),
            "duplicate" => Some(HttpFault::Duplicate),
            _ => None,
        }
    }

    /// The stable name used on the timeline.
    pub fn name(&self) -> String {
        match self {
            HttpFault::LoseResponse => "lose_response".into(),
            HttpFault::ServerError(status) => format!("status_{status}"),
            HttpFault::TooManyRequests { retry_after } => format!("status_429_retry_after_{}s", retry_after.as_secs()),
            HttpFault::ResetMidBody => "reset_mid_body".into(),
            HttpFault::Slow(delay) => format!("slow_{}ms", delay.as_millis()),
            HttpFault::Duplicate => "duplicate".into(),
        }
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Every request.
    Any,
    /// The server's push requests ([`crate::ServerCapabilities::push_path`]).
    Push,
    /// The server's pull requests ([`crate::ServerCapabilities::pull_path`]).
    Pull,
    /// Requests whose path is exactly this.
    Path(&'static str),
}

impl Route {
    fn matches(&self, path: &str, paths: &Paths) -> bool {
        match self {
            Route::Any => true,
            Route::Push => paths.push == Some(path),
            Route::Pull => paths.pull == Some(path),
            Route::Path(p) => *p == path,
        }
    }
}

/// The paths the server declares for its pushes and pulls.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Paths {
    pub(crate) push: Option<&'static str>,
    pub(crate) pull: Option<&'static str>,
}

/// The active edge faults of a run; the driver changes them as the schedule says.
pub(crate) struct EdgeFaults {
    active: RefCell<Vec<(HttpFault, Route, u32)>>,
    rng: RefCell<SmallRng>,
    paths: Paths,
}

impl EdgeFaults {
    pub(crate) fn new(seed: u64, paths: Paths) -> Self {
        Self { active: RefCell::new(Vec::new()), rng: RefCell::new(SmallRng::seed_from_u64(seed)), paths }
    }

    /// Activates `fault` on `route` for `permille` of the requests (replacing an earlier
    /// setting of the same fault and route; 0 turns it off).
    pub(crate) fn set(&self, fault: HttpFault, route: Route, permille: u32) {
        let mut active = self.active.borrow_mut();
        active.retain(|(f, r, _)| !(*f == fault && *r == route));
        if permille > 0 {
            active.push((fault, route, permille));
        }
    }

    pub(crate) fn clear(&self) {
        self.active.borrow_mut().clear();
    }

    pub(crate) fn draw(&self, path: &str) -> Option<HttpFault> {
        let active = self.active.borrow();
        let mut rng = self.rng.borrow_mut();
        active
            .iter()
            .filter(|(_, route, _)| route.matches(path, &self.paths))
            .find_map(|(fault, _, permille)| (rng.gen_range(0..1000) < *permille).then_some(*fault))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_is_named_back_from_its_name() {
        let faults = [
            HttpFault::LoseResponse,
            HttpFault::ServerError(503),
            HttpFault::TooManyRequests { retry_after: Duration::from_secs(3) },
            HttpFault::ResetMidBody,
            HttpFault::Slow(Duration::from_millis(1500)),
            HttpFault::Duplicate,
        ];
        for fault in faults {
            assert_eq!(HttpFault::from_name(&fault.name()), Some(fault), "{}", fault.name());
        }
        assert_eq!(HttpFault::from_name("status_"), None);
    }
}
