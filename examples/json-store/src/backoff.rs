//! Waiting after the server refused: exponential backoff with jitter, and `Retry-After`.

use crate::error::{Error, Result};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::time::Instant;

/// The wait after the first refusal, before jitter; it doubles with each refusal in a row.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait, before jitter.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Refusals in a row (a 5xx or a 429) and the earliest the next request may go. Jitter
/// takes each wait down to as little as half, so that devices refused together do not all
/// come back together. Kept in memory: an app that restarts starts afresh.
#[derive(Debug)]
pub(crate) struct Backoff {
    refusals: u32,
    until: Option<Instant>,
    rng: SmallRng,
}

impl Backoff {
    /// No refusals yet; jitter drawn from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { refusals: 0, until: None, rng: SmallRng::seed_from_u64(seed) }
    }

    /// Whether a request may go at `now`.
    pub(crate) fn ready(&self, now: Instant) -> Result<()> {
        match self.until {
            Some(until) if until > now => Err(Error::BackingOff { refusals: self.refusals, wait: until - now }),
            _ => Ok(()),
        }
    }

    /// The server refused a request at `now`, asking to wait `retry_after` if it said.
    pub(crate) fn refused(&mut self, now: Instant, retry_after: Option<Duration>) {
        self.refusals += 1;
        let doubled = FIRST_WAIT.saturating_mul(1 << (self.refusals - 1).min(16)).min(LONGEST_WAIT);
        let wait = doubled.mul_f64(self.rng.gen_range(0.5..=1.0));
        self.until = Some(now + wait.max(retry_after.unwrap_or_default()));
    }

    /// The server answered: the run of refusals is over.
    pub(crate) fn answered(&mut self) {
        self.refusals = 0;
        self.until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_in_a_row_waits_at_least_half_of_a_doubled_wait() {
        let start = Instant::now(); // any instant will do: tokio's clock, not the wall clock
        let mut backoff = Backoff::new(7);
        for refusals in 1..=8u32 {
            backoff.refused(start, None);
            let floor = (FIRST_WAIT * 2u32.pow(refusals - 1)).min(LONGEST_WAIT) / 2;
            assert!(backoff.ready(start + floor - Duration::from_millis(1)).is_err(), "refusal {refusals}");
        }
        backoff.answered();
        assert!(backoff.ready(start).is_ok());
    }

    #[test]
    fn retry_after_is_a_floor() {
        let start = Instant::now(); // any instant will do: tokio's clock, not the wall clock
        let mut backoff = Backoff::new(7);
        backoff.refused(start, Some(Duration::from_secs(3)));
        assert!(backoff.ready(start + Duration::from_millis(2_999)).is_err());
        assert!(backoff.ready(start + Duration::from_secs(3)).is_ok());
    }
}
