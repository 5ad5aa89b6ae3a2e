//! Exponential backoff with jitter from the device's seeded RNG.

use rand::Rng;
use std::time::Duration;

/// First retry delay.
pub const BASE: Duration = Duration::from_secs(1);
/// Longest retry delay.
pub const CAP: Duration = Duration::from_secs(60);

/// The delay before retry number `attempt` (1-based): 1, 2, 4 ... 60 s, each drawn
/// uniformly from its upper half so that devices that failed together do not retry
/// together. A server's `retry-after` is a floor.
pub fn delay(attempt: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
    let exp = BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(CAP);
    let half = exp / 2;
    let jittered = half + half.mul_f64(rng.gen::<f64>());
    jittered.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_in_their_upper_half() {
        let mut rng = SmallRng::seed_from_u64(7);
        for (attempt, full) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)] {
            let d = delay(attempt, None, &mut rng);
            let full = Duration::from_secs(full);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?} outside [{:?}, {full:?}]", full / 2);
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let mut rng = SmallRng::seed_from_u64(7);
        assert_eq!(delay(1, Some(Duration::from_secs(30)), &mut rng), Duration::from_secs(30));
    }
}
