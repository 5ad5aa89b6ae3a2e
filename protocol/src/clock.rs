//! The wall clock, injected: production reads the system clock; the simulation gives each
//! device its own offset, drift and jumps.

/// A source of wall-clock time in milliseconds since the Unix epoch.
///
/// Nothing in the reference implementation reads the system clock directly; it asks a
/// `Clock`, so a simulated device can be minutes ahead, drift, or jump backwards.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, as this clock believes.
    fn now_ms(&self) -> i64;
}

/// The operating system's clock. Use only outside the simulation.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now(); // wall clock: allowed here only, the production clock
        let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        since.as_millis() as i64
    }
}

/// A clock that always reads the same instant, for tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0
    }
}
