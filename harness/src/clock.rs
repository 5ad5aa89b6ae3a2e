//! Each device's wall clock: the simulation's time plus an offset, a drift and jumps.
//!
//! turmoil has one global clock. A device's wall clock is an injected [`DeviceClock`]
//! whose offset and drift the harness owns and changes between steps; monotonic time
//! (`tokio::time`) stays shared, as on a real phone, where only the wall clock is wrong.

use protocol::Clock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The wall clock of one device. Cheap to clone; every clone reads the same clock, and it
/// survives app kills (the harness owns it, not the app).
///
/// Default: no offset and no drift, so it reads the simulation's time.
#[derive(Clone, Debug, Default)]
pub struct DeviceClock {
    offset_ms: Arc<AtomicI64>,
    drift_ppm: Arc<AtomicI64>,
}

impl DeviceClock {
    /// A clock `offset_ms` ahead of the simulation's time (behind when negative).
    pub fn with_offset(offset_ms: i64) -> Self {
        let clock = Self::default();
        clock.offset_ms.store(offset_ms, Ordering::Relaxed);
        clock
    }

    /// Moves the clock by `delta_ms` (backwards when negative), as NTP or a time zone bug
    /// would.
    pub fn jump(&self, delta_ms: i64) {
        self.offset_ms.fetch_add(delta_ms, Ordering::Relaxed);
    }

    /// From simulated time `at` on, makes the clock drift by `ppm` parts per million:
    /// the reading at `at` does not move, the rate after it changes.
    pub fn set_drift(&self, at: Duration, ppm: i64) {
        let elapsed = at.as_millis() as i64;
        let before = self.drift_ppm.swap(ppm, Ordering::Relaxed);
        self.offset_ms.fetch_add(elapsed * (before - ppm) / 1_000_000, Ordering::Relaxed);
    }

    /// Sets the clock so that it reads `epoch_ms` at simulated time `at` (the user typed
    /// in a time), keeping the drift.
    pub fn set_at(&self, at: Duration, since_epoch: Duration, epoch_ms: i64) {
        let reading = self.read(at, since_epoch);
        self.jump(epoch_ms - reading);
    }

    /// What the clock shows at simulated time `at` (since the start of the run), when the
    /// simulation's own wall clock reads `since_epoch`.
    pub fn read(&self, at: Duration, since_epoch: Duration) -> i64 {
        let elapsed = at.as_millis() as i64;
        let drift = elapsed * self.drift_ppm.load(Ordering::Relaxed) / 1_000_000;
        since_epoch.as_millis() as i64 + self.offset_ms.load(Ordering::Relaxed) + drift
    }
}

impl Clock for DeviceClock {
    fn now_ms(&self) -> i64 {
        let at = turmoil::sim_elapsed().expect("a device clock is read inside a simulated host");
        let since_epoch = turmoil::since_epoch().expect("a device clock is read inside a simulated host");
        self.read(at, since_epoch)
    }
}

/// The simulation's true wall clock: what the server reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimClock;

impl Clock for SimClock {
    fn now_ms(&self) -> i64 {
        turmoil::since_epoch().expect("the simulation clock is read inside a simulated host").as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: Duration = Duration::from_secs(1_700_000_000);

    #[test]
    fn offset_drift_and_jumps_add_up() {
        let clock = DeviceClock::with_offset(3_600_000);
        clock.set_drift(Duration::ZERO, 1_000);
        let at = Duration::from_secs(1_000);
        let base = (EPOCH + at).as_millis() as i64;
        assert_eq!(clock.read(at, EPOCH + at), base + 3_600_000 + 1_000, "1000 ppm of 1000 s is 1 s");
        clock.jump(-7_200_000);
        assert_eq!(clock.read(at, EPOCH + at), base - 3_600_000 + 1_000);
    }

    #[test]
    fn a_user_set_time_reads_back_exactly() {
        let clock = DeviceClock::default();
        clock.set_drift(Duration::ZERO, 50);
        let at = Duration::from_secs(10);
        clock.set_at(at, EPOCH + at, 42_000);
        assert_eq!(clock.read(at, EPOCH + at), 42_000);
    }

    #[test]
    fn drift_set_later_does_not_move_the_reading_at_that_moment() {
        let clock = DeviceClock::default();
        let at = Duration::from_secs(30);
        clock.set_drift(at, 50_000);
        assert_eq!(clock.read(at, EPOCH + at), (EPOCH + at).as_millis() as i64, "no jump when drift starts");
        let later = Duration::from_secs(40);
        assert_eq!(clock.read(later, EPOCH + later), (EPOCH + later).as_millis() as i64 + 500, "5% of 10 s");
    }

    #[test]
    fn clones_share_one_clock() {
        let clock = DeviceClock::default();
        clock.clone().jump(5);
        assert_eq!(clock.read(Duration::ZERO, EPOCH), EPOCH.as_millis() as i64 + 5);
    }
}
