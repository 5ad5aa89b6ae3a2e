//! Generators for the protocol's values, shaped so that collisions are common: equal wall
//! times, shared field names, repeated set elements, counters at the edge of overflow.

use crate::server::Write;
use proptest::prelude::*;
use proptest::sample::Index;
use protocol::{Changes, FieldStamp, Hlc};
use std::collections::BTreeMap;
use std::fmt;

/// Register fields of a task, the names writes choose from.
pub(crate) const REGISTERS: [&str; 4] = ["title", "notes", "done", "due_on"];
/// The task's counter field.
pub(crate) const COUNTER: &str = "pomodoros";
/// The task's set field.
pub(crate) const SET: &str = "labels";
/// Device names, which are also the nodes of hybrid logical timestamps.
pub(crate) const DEVICES: [&str; 3] = ["laptop", "phone", "tablet"];
/// Set elements writes choose from.
pub(crate) const ELEMENTS: [&str; 3] = ["home", "work", "urgent"];
/// The largest increment one mutation may carry (`protocol::MAX_INCREMENT`).
pub(crate) const MAX_DELTA: i64 = protocol::MAX_INCREMENT;

/// One of `names`.
pub(crate) fn one_of(names: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(names)
}

/// A wall time in ms. Mostly near two fixed points (zero and today) so that readings collide
/// and jump backwards; else `i64::MIN` (where `HlcClock` starts) or anywhere from
/// `i64::MIN / 2` to `i64::MAX / 2`. Never above: a clock needs headroom above a stamp to
/// carry a full counter into the wall time (see
/// `hlc::a_clock_that_observes_the_last_stamp_does_not_wrap`).
pub(crate) fn wall_ms() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![
        3 => -2i64..=2,
        3 => 1_700_000_000_000i64..1_700_000_000_004,
        1 => Just(i64::MIN),
        2 => any::<i64>().prop_map(|w| w / 2),
    ]
}

/// A logical counter, often at the edge of overflow.
pub(crate) fn counter() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![3 => 0u32..3, 1 => (u32::MAX - 2)..=u32::MAX, 1 => any::<u32>()]
}

/// A hybrid logical timestamp from one of the devices.
pub(crate) fn hlc() -> impl Strategy<Value = Hlc> + Clone {
    (wall_ms(), counter(), one_of(&DEVICES)).prop_map(|(wall_ms, counter, node)| Hlc {
        wall_ms,
        counter,
        node: node.to_owned(),
    })
}

/// A counter increment one mutation may carry.
pub(crate) fn delta() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![3 => -3i64..=3, 1 => -MAX_DELTA..=MAX_DELTA]
}

/// Stamps of a record at `version`: some register fields, each last written at or before it.
pub(crate) fn stamps(version: u64) -> impl Strategy<Value = BTreeMap<String, FieldStamp>> {
    let stamp = (0..=version, hlc()).prop_map(|(version, hlc)| FieldStamp { version, hlc });
    proptest::collection::btree_map(one_of(&REGISTERS).prop_map(str::to_owned), stamp, 0..=REGISTERS.len())
}

/// `len` updates of one task with the distinct keys `k0`, `k1`, ..., each from one of `DEVICES`.
/// Each sets some register fields (to values naming its key), and may increment the
/// counter, add one element to the set (tagged with its key) and remove one element,
/// observing some of the tags under which the other writes add it. Bases are at most
/// `max_base`. Stamps may repeat between writes.
pub(crate) fn writes(len: std::ops::RangeInclusive<usize>, max_base: u64) -> impl Strategy<Value = Vec<Write>> {
    writes_with(len, max_base, Just(())).prop_map(|writes| writes.into_iter().map(|(w, ())| w).collect())
}

/// [`writes`], each with a value of `extra` that stays with it when a failing case shrinks
/// (an arrival rank, say).
pub(crate) fn writes_with<T: fmt::Debug>(
    len: std::ops::RangeInclusive<usize>,
    max_base: u64,
    extra: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<(Write, T)>> {
    let shape = (
        one_of(&DEVICES),
        0..=max_base,
        hlc(),
        proptest::sample::subsequence(REGISTERS.to_vec(), 0..=REGISTERS.len()),
        proptest::option::of(delta()),
        proptest::option::of(one_of(&ELEMENTS)),
        proptest::option::of((one_of(&ELEMENTS), any::<u64>())),
    )
        .prop_map(|(device, base_version, hlc, registers, delta, add, remove)| Shape {
            device,
            base_version,
            hlc,
            registers,
            delta,
            add,
            remove,
        });
    proptest::collection::vec((shape, extra), len).prop_map(|shapes| {
        let adds: Vec<Option<&str>> = shapes.iter().map(|(s, _)| s.add).collect();
        shapes.into_iter().enumerate().map(|(i, (shape, extra))| (shape.write(i, &adds), extra)).collect()
    })
}

fn key(i: usize) -> String {
    format!("k{i}")
}

/// One generated write before it knows the keys of the others.
#[derive(Debug)]
struct Shape {
    device: &'static str,
    base_version: u64,
    hlc: Hlc,
    registers: Vec<&'static str>,
    delta: Option<i64>,
    add: Option<&'static str>,
    /// The element, and a mask choosing which of the adds of it the remover observed.
    remove: Option<(&'static str, u64)>,
}

impl Shape {
    /// The `i`th write, where `adds[j]` is the element the `j`th write adds.
    fn write(self, i: usize, adds: &[Option<&str>]) -> Write {
        let mut changes =
            self.registers.into_iter().fold(Changes::new(), |c, name| c.set(name, format!("{}:{name}", key(i))));
        if let Some(delta) = self.delta {
            changes = changes.increment(COUNTER, delta);
        }
        if let Some(element) = self.add {
            changes = changes.add(SET, element);
        }
        if let Some((element, mask)) = self.remove {
            let observed_by_mask = |j: &usize| *j != i && adds[*j] == Some(element) && (mask >> (j % 64)) & 1 == 1;
            let observed = (0..adds.len()).filter(observed_by_mask).map(key).collect();
            changes = changes.remove_observed(SET, element, observed);
        }
        Write { key: key(i), device: self.device.to_owned(), base_version: self.base_version, hlc: self.hlc, changes }
    }
}

/// The order in which a replica receives states: some random picks among every state ever
/// sent (stale ones delivered late, some twice), with each replica's final state slotted
/// in somewhere.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    picks: Vec<Index>,
    slots: Vec<Index>,
}

impl Schedule {
    /// The states to merge, in order: every one of `finals` once, and picks among
    /// `finals` and `in_flight` (none from `in_flight` when it is empty).
    pub(crate) fn order<'a, T>(&self, finals: &'a [T], in_flight: &'a [T]) -> Vec<&'a T> {
        assert_eq!(finals.len(), self.slots.len(), "make the schedule with `schedule(finals.len())`");
        let all: Vec<&T> = finals.iter().chain(in_flight).collect();
        let mut order: Vec<&T> = self.picks.iter().map(|i| all[i.index(all.len())]).collect();
        for (state, slot) in finals.iter().zip(&self.slots) {
            order.insert(slot.index(order.len() + 1), state);
        }
        order
    }
}

/// A schedule for `finals` final states.
pub(crate) fn schedule(finals: usize) -> impl Strategy<Value = Schedule> {
    (proptest::collection::vec(any::<Index>(), 0..8), proptest::collection::vec(any::<Index>(), finals))
        .prop_map(|(picks, slots)| Schedule { picks, slots })
}
