//! Hybrid logical clock: physical time when clocks behave, logical order when they do not.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// How far ahead of the receiver's clock a stamp may be: a day. A device whose clock is
/// hours wrong (a time zone set as UTC, a manual change) stays within it; a stamp beyond it
/// would win every last-write-wins comparison for as long as it is ahead, and is refused.
pub const MAX_AHEAD_MS: i64 = 24 * 60 * 60 * 1000;

/// Why `stamp` cannot come from a real clock, seen from a clock that reads `now_ms`: a
/// wall time before the Unix epoch, or more than [`MAX_AHEAD_MS`] ahead. `None` when it
/// can. The server refuses such a stamp in a push, and a client never adopts one.
pub fn implausible(stamp: &Hlc, now_ms: i64) -> Option<String> {
    if stamp.wall_ms < 0 {
        return Some(format!("hlc.wall_ms {} is before the Unix epoch", stamp.wall_ms));
    }
    let ahead = stamp.wall_ms.saturating_sub(now_ms);
    (ahead > MAX_AHEAD_MS).then(|| {
        format!(
            "hlc.wall_ms {} is {} h ahead of this clock ({now_ms}), more than the {} h a device's clock may be off",
            stamp.wall_ms,
            ahead / 3_600_000,
            MAX_AHEAD_MS / 3_600_000
        )
    })
}

/// One hybrid logical timestamp.
///
/// Timestamps are totally ordered by `(wall_ms, counter, node)`: the node name breaks ties, so
/// every replica that compares the same two stamps gets the same answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, as the issuing replica best knew it.
    pub wall_ms: i64,
    /// Logical counter that orders events sharing one `wall_ms`.
    pub counter: u32,
    /// The issuing replica; the final tie-break.
    pub node: String,
}

impl Hlc {
    /// The smallest timestamp a node can issue: every real event orders after it.
    pub fn zero(node: impl Into<String>) -> Self {
        Self { wall_ms: i64::MIN, counter: 0, node: node.into() }
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, &self.node).cmp(&(other.wall_ms, other.counter, &other.node))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}@{}", self.wall_ms, self.counter, self.node)
    }
}

/// The clock state of one replica.
///
/// `send` stamps a local event, `observe` folds in a stamp received from elsewhere. The
/// clock never runs backwards, whatever the physical clock does, and an event stamped after
/// observing a stamp always orders after it (causality under any skew).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlcClock {
    wall_ms: i64,
    counter: u32,
    node: String,
}

impl HlcClock {
    /// A fresh clock for `node` that has seen nothing yet.
    pub fn new(node: impl Into<String>) -> Self {
        Self { wall_ms: i64::MIN, counter: 0, node: node.into() }
    }

    /// The last stamp issued or observed (the clock's current position).
    pub fn last(&self) -> Hlc {
        Hlc { wall_ms: self.wall_ms, counter: self.counter, node: self.node.clone() }
    }

    /// Stamps a local event at physical time `physical_ms`.
    pub fn send(&mut self, physical_ms: i64) -> Hlc {
        if physical_ms > self.wall_ms {
            self.wall_ms = physical_ms;
            self.counter = 0;
        } else {
            self.bump_counter();
        }
        self.last()
    }

    /// Folds a remote stamp into this clock, so later local stamps order after it.
    pub fn observe(&mut self, remote: &Hlc, physical_ms: i64) {
        let wall = self.wall_ms.max(remote.wall_ms).max(physical_ms);
        let counter = match (wall == self.wall_ms, wall == remote.wall_ms) {
            (true, true) => self.counter.max(remote.counter),
            (true, false) => self.counter,
            (false, true) => remote.counter,
            (false, false) => {
                self.wall_ms = wall;
                self.counter = 0;
                return;
            }
        };
        self.wall_ms = wall;
        self.counter = counter;
        self.bump_counter();
    }

    fn bump_counter(&mut self) {
        match self.counter.checked_add(1) {
            Some(c) => self.counter = c,
            None => {
                // At the last millisecond there is nothing later: the clock stays at the end
                // of time rather than wrapping to its beginning.
                self.wall_ms = self.wall_ms.saturating_add(1);
                self.counter = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_never_runs_backwards_when_the_physical_clock_jumps_back() {
        let mut clock = HlcClock::new("a");
        let first = clock.send(10_000);
        let second = clock.send(5_000);
        assert!(second > first, "{second} must order after {first}");
    }

    #[test]
    fn a_stamp_issued_after_observing_orders_after_the_observed_stamp() {
        let mut behind = HlcClock::new("a");
        let remote = Hlc { wall_ms: 1_000_000, counter: 7, node: "z".into() };
        behind.observe(&remote, 10);
        let local = behind.send(10);
        assert!(local > remote, "{local} must order after {remote}");
    }

    #[test]
    fn ties_on_wall_time_and_counter_are_broken_by_node() {
        let a = Hlc { wall_ms: 5, counter: 1, node: "a".into() };
        let b = Hlc { wall_ms: 5, counter: 1, node: "b".into() };
        assert!(a < b);
    }
}
