//! Hybrid logical clock: stamps are totally ordered, a clock never issues a stamp at or
//! below one it issued or observed before, whatever its physical clock does.

use crate::arbitrary::{hlc, one_of, wall_ms, DEVICES};
use proptest::collection::vec;
use proptest::prelude::*;
use protocol::{implausible, Hlc, HlcClock, MAX_AHEAD_MS};
use std::cmp::Ordering;

#[derive(Clone, Debug)]
enum Event {
    /// A local event at this physical time.
    Send(i64),
    /// A stamp received from elsewhere, at this physical time.
    Observe(Hlc, i64),
}

/// What happens to one clock: local events and received stamps at physical times that
/// collide, jump backwards and skip far ahead.
fn events() -> impl Strategy<Value = Vec<Event>> {
    let event = prop_oneof![
        wall_ms().prop_map(Event::Send),
        (hlc(), wall_ms()).prop_map(|(remote, now)| Event::Observe(remote, now)),
    ];
    vec(event, 0..40)
}

/// A clock of `node` after `events`.
fn clock_after(node: &str, events: &[Event]) -> HlcClock {
    let mut clock = HlcClock::new(node);
    for event in events {
        match event {
            Event::Send(now) => {
                clock.send(*now);
            }
            Event::Observe(remote, now) => clock.observe(remote, *now),
        }
    }
    clock
}

proptest! {
    /// The order on stamps is a total order, the lexicographic order of
    /// `(wall_ms, counter, node)` that PROTOCOL.md documents: antisymmetric, transitive,
    /// consistent with `==` (two stamps tie only when all three parts are equal) and with
    /// `partial_cmp`.
    #[test]
    fn stamps_are_totally_ordered_by_wall_counter_and_node(a in hlc(), b in hlc(), c in hlc()) {
        let key = |h: &Hlc| (h.wall_ms, h.counter, h.node.clone());
        prop_assert_eq!(a.cmp(&b), key(&a).cmp(&key(&b)));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        if a <= b && b <= c {
            prop_assert!(a <= c, "{a} <= {b} <= {c} but not {a} <= {c}");
        }
    }

    /// Every stamp a clock issues is strictly greater than everything it issued or observed
    /// before, under any sequence of physical times (backward jumps, repeats, far skips)
    /// and received stamps (counters near overflow included); it carries the clock's node.
    /// Observing never moves the clock backwards either.
    #[test]
    fn a_clock_never_runs_backwards(node in one_of(&DEVICES), events in events()) {
        let mut clock = HlcClock::new(node);
        let mut before = clock.last();
        for event in events {
            match event {
                Event::Send(now) => {
                    let stamp = clock.send(now);
                    prop_assert!(stamp > before, "send({now}) issued {stamp}, not after {before}");
                    prop_assert_eq!(&stamp.node, node);
                    prop_assert_eq!(&stamp, &clock.last());
                }
                Event::Observe(remote, now) => {
                    clock.observe(&remote, now);
                    let after = clock.last();
                    prop_assert!(after >= before, "observe({remote}, {now}) moved the clock back to {after}");
                    before = before.max(remote);
                }
            }
            before = before.max(clock.last());
        }
    }

    /// The bound: a clock that adopts only plausible stamps (`implausible` says none, as the
    /// reference client does with what it pulls) never runs more than `MAX_AHEAD_MS` ahead
    /// of the latest physical time it was given (plus one millisecond per counter carry),
    /// whatever stamps arrive; and a stamp is plausible exactly when it is after the epoch
    /// and at most a day ahead.
    #[test]
    fn a_clock_that_adopts_only_plausible_stamps_stays_within_a_day_of_its_physical_clock(
        node in one_of(&DEVICES),
        events in events(),
    ) {
        let mut clock = HlcClock::new(node);
        let mut latest = i64::MIN;
        for (i, event) in events.iter().enumerate() {
            match event {
                Event::Send(now) => {
                    clock.send(*now);
                    latest = latest.max(*now);
                }
                Event::Observe(remote, now) => {
                    let plausible = remote.wall_ms >= 0 && remote.wall_ms.saturating_sub(*now) <= MAX_AHEAD_MS;
                    prop_assert_eq!(implausible(remote, *now).is_none(), plausible, "{} at {}", remote, now);
                    if plausible {
                        clock.observe(remote, *now);
                    }
                    latest = latest.max(*now);
                }
            }
            let bound = latest.saturating_add(MAX_AHEAD_MS).saturating_add(i as i64 + 1);
            prop_assert!(clock.last().wall_ms <= bound, "{} is past {} after {} events", clock.last(), bound, i + 1);
        }
    }

    /// Causality under any skew: after any history, a clock that observes `remote` issues
    /// a next stamp (and every later one) greater than `remote`, whether its physical
    /// clock is far behind, equal or ahead.
    #[test]
    fn a_stamp_issued_after_observing_orders_after_the_observed_stamp(
        node in one_of(&DEVICES),
        history in events(),
        remote in hlc(),
        observed_at in wall_ms(),
        later in vec(wall_ms(), 1..4),
    ) {
        let mut clock = clock_after(node, &history);
        clock.observe(&remote, observed_at);
        for now in later {
            let stamp = clock.send(now);
            prop_assert!(stamp > remote, "{stamp} issued at {now} after observing {remote}");
        }
    }
}

/// The generators keep wall times at most `i64::MAX / 2` because of this edge: a stamp at
/// the last millisecond with a full counter has no successor at that millisecond. No stamp
/// of node `a` orders after `(i64::MAX, u32::MAX, z)`, so causality cannot hold here; what
/// holds is that the clock stays at the end of time instead of wrapping to its beginning
/// (its carry saturates). No real clock reads `i64::MAX`, and the server refuses such a
/// stamp (`protocol::implausible`), but a clock must not wrap whatever it is given.
#[test]
fn a_clock_that_observes_the_last_stamp_does_not_wrap() {
    let remote = Hlc { wall_ms: i64::MAX, counter: u32::MAX, node: "z".into() };
    let mut clock = HlcClock::new("a");
    clock.observe(&remote, 0);
    let stamp = clock.send(0);
    assert_eq!(stamp.wall_ms, i64::MAX, "{stamp} wrapped after observing {remote}");
}
