//! Wall clocks: the server's ([`ServerClock`]: the simulation's, stepped when a scenario
//! steps it) and each device's ([`DeviceClock`]: the simulation's plus an offset, a drift
//! and jumps). In live mode both read the machine's clock instead.
//!
//! turmoil has one global clock, stepped a tick at a time. A run's *timeline* is that
//! stepped time plus the idle time the scenario skipped ([`crate::Fault::Skip`]): days
//! offline cost one event instead of millions of steps. Timeline time is what the history
//! stamps, what the schedule and `.duration()` count, and what every wall clock reads:
//! the simulation's wall clock is the epoch plus timeline time.
//!
//! Monotonic time (`tokio::time`) is turmoil's stepped time: shared by all hosts, it never
//! jumps, not at a clock change and not at a skip, as on a real phone, where only the wall
//! clock is wrong and a suspended app's timers do not run while it sleeps.

use protocol::Clock;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

thread_local! {
    /// Time skipped so far by the run under way on this thread; `None` outside a run.
    ///
    /// A run owns its thread from start to end, as turmoil's own world does, and this lives
    /// beside that world: it keeps [`ServerClock`] a plain value an implementation can copy,
    /// and two runs never share it (each installs its own, see [`Skips::enter`]).
    static SKIPPED: Cell<Option<Duration>> = const { Cell::new(None) };

    /// How the server's clock is off the simulation's in the run under way on this thread
    /// (its steps and drift, [`crate::Fault::ServerClock`]); `None` outside a run. Kept
    /// beside [`SKIPPED`] for the same reason: the server's clock stays a plain value.
    static SERVER_OFF: RefCell<Option<DeviceClock>> = const { RefCell::new(None) };
}

/// The time skipped by the run under way on this thread (zero outside a run).
pub(crate) fn skipped() -> Duration {
    SKIPPED.with(Cell::get).unwrap_or_default()
}

/// Timeline time inside a host: turmoil's elapsed time plus the time skipped. `None`
/// outside a host.
pub(crate) fn elapsed() -> Option<Duration> {
    turmoil::sim_elapsed().map(|t| t + skipped())
}

/// The simulation's wall clock inside a host, since the Unix epoch. `None` outside a host.
fn since_epoch() -> Option<Duration> {
    turmoil::since_epoch().map(|t| t + skipped())
}

/// A run's skipped time and the server's clock, installed on the run's thread from
/// [`Skips::enter`] until the value is dropped. Only the driver changes them, between
/// steps.
pub(crate) struct Skips {
    /// The counter is this thread's: the value must not leave it.
    _thread: PhantomData<*const ()>,
}

impl Skips {
    /// Starts a run's timeline on this thread, with nothing skipped.
    pub(crate) fn enter() -> Self {
        SKIPPED.with(|skipped| {
            assert!(
                skipped.get().is_none(),
                "a run is already under way on this thread: run scenarios one after another, not from inside a host"
            );
            skipped.set(Some(Duration::ZERO));
        });
        SERVER_OFF.with(|off| *off.borrow_mut() = Some(DeviceClock::default()));
        Self { _thread: PhantomData }
    }

    /// The server's clock as a device clock would be changed: its steps, drift and user
    /// settings move what [`ServerClock`] reads in this run (it shares the clock).
    pub(crate) fn server_clock(&self) -> DeviceClock {
        SERVER_OFF.with(|off| off.borrow().clone()).expect("installed by Skips::enter")
    }

    /// Skips `span`: every wall clock and the timeline move on by it at once.
    pub(crate) fn add(&self, span: Duration) {
        SKIPPED.with(|skipped| skipped.set(Some(skipped.get().unwrap_or_default() + span)));
    }

    /// Everything skipped so far.
    pub(crate) fn total(&self) -> Duration {
        skipped()
    }
}

impl Drop for Skips {
    fn drop(&mut self) {
        SKIPPED.with(|skipped| skipped.set(None));
        SERVER_OFF.with(|off| *off.borrow_mut() = None);
    }
}

/// The wall clock of one device. Cheap to clone; every clone reads the same clock, and it
/// survives app kills (the harness owns it, not the app).
///
/// It reads the simulation's wall clock plus an offset and a drift. A skip moves it exactly
/// as if the skipped time had been stepped: by the skip, plus the drift over the skip (an
/// offline phone's clock keeps drifting while it sleeps, and no time server corrects it).
///
/// Default: no offset and no drift, so it reads the simulation's wall clock.
#[derive(Clone, Debug, Default)]
pub struct DeviceClock {
    offset_ms: Arc<AtomicI64>,
    drift_ppm: Arc<AtomicI64>,
    /// Live mode: the machine's clock, in ms since the Unix epoch, when the run started;
    /// `None` in the simulation.
    live_origin_ms: Option<i64>,
}

impl DeviceClock {
    /// A clock `offset_ms` ahead of the simulation's time (behind when negative).
    pub fn with_offset(offset_ms: i64) -> Self {
        let clock = Self::default();
        clock.offset_ms.store(offset_ms, Ordering::Relaxed);
        clock
    }

    /// A device clock in live mode: the machine's clock plus `offset_ms`, drifting by
    /// `drift_ppm` since `origin_ms` (the machine's clock when the run started).
    pub(crate) fn live(origin_ms: i64, offset_ms: i64, drift_ppm: i64) -> Self {
        let clock = Self { live_origin_ms: Some(origin_ms), ..Self::default() };
        clock.set_parts(offset_ms, drift_ppm);
        clock
    }

    /// The offset and drift, as a live driver is told them.
    pub(crate) fn parts(&self) -> (i64, i64) {
        (self.offset_ms.load(Ordering::Relaxed), self.drift_ppm.load(Ordering::Relaxed))
    }

    /// Sets the offset and drift, as a live driver is told them.
    pub(crate) fn set_parts(&self, offset_ms: i64, drift_ppm: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
        self.drift_ppm.store(drift_ppm, Ordering::Relaxed);
    }

    /// Moves the clock by `delta_ms` (backwards when negative), as NTP or a time zone bug
    /// would.
    pub fn jump(&self, delta_ms: i64) {
        self.offset_ms.fetch_add(delta_ms, Ordering::Relaxed);
    }

    /// From timeline time `at` on, makes the clock drift by `ppm` parts per million:
    /// the reading at `at` does not move, the rate after it changes.
    pub fn set_drift(&self, at: Duration, ppm: i64) {
        let elapsed = at.as_millis() as i64;
        let before = self.drift_ppm.swap(ppm, Ordering::Relaxed);
        self.offset_ms.fetch_add(elapsed * (before - ppm) / 1_000_000, Ordering::Relaxed);
    }

    /// Sets the clock so that it reads `epoch_ms` at timeline time `at` (the user typed
    /// in a time), keeping the drift.
    pub fn set_at(&self, at: Duration, since_epoch: Duration, epoch_ms: i64) {
        let reading = self.read(at, since_epoch);
        self.jump(epoch_ms - reading);
    }

    /// What the clock shows at timeline time `at` (since the start of the run, skipped
    /// time included), when the simulation's own wall clock reads `since_epoch`.
    pub fn read(&self, at: Duration, since_epoch: Duration) -> i64 {
        let elapsed = at.as_millis() as i64;
        let drift = elapsed * self.drift_ppm.load(Ordering::Relaxed) / 1_000_000;
        since_epoch.as_millis() as i64 + self.offset_ms.load(Ordering::Relaxed) + drift
    }
}

impl Clock for DeviceClock {
    fn now_ms(&self) -> i64 {
        if let Some(origin) = self.live_origin_ms {
            let real = machine_ms();
            return self.read(Duration::from_millis((real - origin).max(0) as u64), Duration::from_millis(real as u64));
        }
        let inside = "a device clock is read inside a simulated host";
        self.read(elapsed().expect(inside), since_epoch().expect(inside))
    }
}

/// The server's wall clock: the simulation's true wall clock, skipped time included, plus
/// the steps and drift the scenario gave it ([`crate::Fault::ServerClock`]: an NTP step, a
/// failover to a node that is behind); in live mode (the `serve` command), the machine's.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerClock {
    live: bool,
}

impl ServerClock {
    /// The machine's clock, for a server run live.
    pub(crate) fn live() -> Self {
        Self { live: true }
    }
}

impl Clock for ServerClock {
    fn now_ms(&self) -> i64 {
        if self.live {
            return machine_ms();
        }
        let inside = "the simulation clock is read inside a simulated host";
        let (at, since_epoch) = (elapsed().expect(inside), since_epoch().expect(inside));
        SERVER_OFF.with(|off| match off.borrow().as_ref() {
            Some(clock) => clock.read(at, since_epoch),
            None => since_epoch.as_millis() as i64,
        })
    }
}

/// The machine's clock, in ms since the Unix epoch: live mode's only.
#[allow(clippy::disallowed_methods)] // live mode runs in real time: this is its wall clock
pub(crate) fn machine_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH); // live: real time
    now.map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: Duration = Duration::from_secs(1_700_000_000);
    const DAY: Duration = Duration::from_secs(86_400);

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

    #[test]
    fn a_skip_moves_a_clock_without_drift_by_exactly_the_skip() {
        let clock = DeviceClock::with_offset(-90_000);
        let (before, skip) = (Duration::from_secs(10), 3 * DAY);
        let after = before + skip;
        let moved = clock.read(after, EPOCH + after) - clock.read(before, EPOCH + before);
        assert_eq!(moved, skip.as_millis() as i64, "the offset stays, the reading moves by the skip");
    }

    #[test]
    fn drift_runs_over_skipped_time_as_over_stepped_time() {
        let clock = DeviceClock::default();
        let start = Duration::from_secs(10);
        clock.set_drift(start, 50);
        let after = start + 2 * DAY;
        let drifted = clock.read(after, EPOCH + after) - (EPOCH + after).as_millis() as i64;
        assert_eq!(drifted, 8_640, "50 ppm of 2 days is 8.64 s, whether the days were stepped or skipped");
    }

    #[test]
    fn skips_add_up_and_end_with_the_run() {
        assert_eq!(skipped(), Duration::ZERO, "nothing is skipped outside a run");
        let skips = Skips::enter();
        skips.add(DAY);
        skips.add(Duration::from_millis(1));
        assert_eq!(skips.total(), DAY + Duration::from_millis(1));
        assert_eq!(skipped(), skips.total(), "the clocks read what the driver skipped");
        drop(skips);
        assert_eq!(skipped(), Duration::ZERO, "the next run on this thread starts from nothing skipped");
    }

    #[test]
    #[should_panic(expected = "a run is already under way on this thread")]
    fn runs_on_one_thread_cannot_nest() {
        let _first = Skips::enter();
        let _second = Skips::enter();
    }
}
