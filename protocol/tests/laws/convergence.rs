//! Convergence: the same writes, delivered in different orders, with replays and delays.
//!
//! The reference server applies writes in its arrival order and clients copy its records,
//! so what must converge differs by kind of field. Counter and set fields must reach the
//! same state whatever the order. Register fields under lww-hlc must too, since the
//! greatest stamp wins. The other register strategies decide by arrival order on purpose
//! (under server-wins the first of two stale writes wins); for them the law is that
//! replicas which see one arrival order agree: same inputs, same decisions, same record.

use crate::arbitrary::{writes_with, COUNTER, REGISTERS, SET};
use crate::server::{Replica, Write};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use protocol::{Hlc, Record, Strategy::LastWriteWinsHlc};
use std::collections::BTreeMap;

/// Up to `len` writes in two arrival orders; the second also replays some writes
/// (duplicated delivery) at random later points. Each write draws its rank in each order,
/// so that a failure shrinks to few writes.
fn two_arrivals(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = (Vec<Write>, Vec<Write>)> {
    let replays = vec((any::<Index>(), any::<Index>()), 0..4);
    (writes_with(len, 12, (any::<u8>(), any::<u8>())), replays).prop_map(|(ranked, replays)| {
        let arrival = |rank: fn(&(u8, u8)) -> u8| {
            let mut order: Vec<&(Write, (u8, u8))> = ranked.iter().collect();
            order.sort_by_key(|(_, ranks)| rank(ranks));
            order.into_iter().map(|(w, _)| w.clone()).collect::<Vec<_>>()
        };
        let (first, mut second) = (arrival(|r| r.0), arrival(|r| r.1));
        if !second.is_empty() {
            for (which, at) in replays {
                let replay = second[which.index(second.len())].clone();
                second.insert(at.index(second.len() + 1), replay);
            }
        }
        (first, second)
    })
}

fn strategy() -> impl Strategy<Value = protocol::Strategy> {
    proptest::sample::select(protocol::Strategy::ALL.to_vec())
}

/// A counter's increments and decrements per device.
type Shares = (BTreeMap<String, u64>, BTreeMap<String, u64>);

/// Each counter's per-device shares. A counter's `last` is left out: it names the last
/// mutation counted, which depends on the order by design.
fn counter_shares(record: &Record) -> BTreeMap<String, Shares> {
    record.counters.iter().map(|(name, c)| (name.clone(), (c.p.clone(), c.n.clone()))).collect()
}

/// `writes` with each stamp's node made unique to its write (`<device>/<key>`).
fn distinct_stamps(writes: Vec<Write>) -> Vec<Write> {
    let distinct = |w: Write| Write { hlc: Hlc { node: format!("{}/{}", w.device, w.key), ..w.hlc.clone() }, ..w };
    writes.into_iter().map(distinct).collect()
}

proptest! {
    /// Counter and set fields reach the same state (every device's shares, every set's
    /// tags and removed tags) whatever the order the server receives the same writes in,
    /// with replays, and whatever the entity's strategy. Replays are absorbed here by the
    /// idempotency table the model keeps (`Replica::deliver`), as the server's is; sets
    /// would absorb them alone (`set_operations_absorb_replays_without_the_idempotency_table`)
    /// but counters would not (`pn_counter::a_replayed_increment_counts_again`). Each write
    /// adds at most one element per set, for the reason in
    /// `or_set::merge_is_idempotent_when_one_mutation_adds_several_elements`.
    #[test]
    fn counters_and_sets_reach_the_same_state_whatever_the_arrival_order(
        (first, second) in two_arrivals(0..=12),
        strategies in (strategy(), strategy()),
    ) {
        let (mut a, mut b) = (Replica::new(), Replica::new());
        a.deliver_all(strategies.0, &first);
        b.deliver_all(strategies.1, &second);
        prop_assert_eq!(counter_shares(&a.record), counter_shares(&b.record));
        prop_assert_eq!(&a.record.sets, &b.record.sets);
        let (seen_a, seen_b) = (a.record.visible(), b.record.visible());
        prop_assert_eq!(seen_a.get(COUNTER), seen_b.get(COUNTER));
        prop_assert_eq!(seen_a.get(SET), seen_b.get(SET));
    }

    /// Set adds and removes applied straight to a record with `Changes::apply_crdt_ops`, in
    /// any order and with replays and no idempotency table, leave the same set: an add of
    /// a tag some remove observed stays removed whenever it arrives, and re-applying an
    /// add or a remove changes nothing.
    #[test]
    fn set_operations_absorb_replays_without_the_idempotency_table((first, second) in two_arrivals(0..=12)) {
        let apply = |writes: &[Write]| {
            let mut record = Replica::new().record;
            for w in writes {
                let mut sets_only = w.changes.clone();
                sets_only.increments.clear();
                sets_only.apply_crdt_ops(&mut record, &w.device, &w.key);
            }
            record.sets
        };
        prop_assert_eq!(apply(&first), apply(&second));
    }

    /// Under lww-hlc, register fields converge whatever the arrival order and replays:
    /// each field ends with the value of the write with the greatest stamp among those
    /// that set it, and carries that stamp. Stamps are made distinct first, as they are
    /// in the protocol (one `HlcClock` never repeats a stamp; node names tell devices
    /// apart); with two writes under one stamp, the first to arrive would win.
    #[test]
    fn lww_hlc_register_fields_converge_whatever_the_arrival_order((first, second) in two_arrivals(1..=10)) {
        let (first, second) = (distinct_stamps(first), distinct_stamps(second));
        let (mut a, mut b) = (Replica::new(), Replica::new());
        a.deliver_all(LastWriteWinsHlc, &first);
        b.deliver_all(LastWriteWinsHlc, &second);
        prop_assert_eq!(&a.record.fields, &b.record.fields);
        for name in REGISTERS {
            let winner = first.iter().filter(|w| w.changes.fields.contains_key(name)).max_by_key(|w| &w.hlc);
            prop_assert_eq!(a.record.fields.get(name), winner.map(|w| &w.changes.fields[name]), "{}", name);
            let stamp = |r: &Replica| r.record.stamps.get(name).map(|s| s.hlc.clone());
            prop_assert_eq!(stamp(&a), winner.map(|w| w.hlc.clone()));
            prop_assert_eq!(stamp(&a), stamp(&b));
        }
    }

    /// Every strategy is deterministic: two replicas that receive the same writes in the
    /// same order, replays included, hold equal records (fields, stamps, versions, counters
    /// with their `last`, sets). That is all server-wins, field merge, user-prompted,
    /// client-wins and lww-arrival promise about convergence: the server decides in its
    /// arrival order and every client copies the server's record.
    #[test]
    fn replicas_that_see_one_arrival_order_hold_the_same_record(
        (_, arrival) in two_arrivals(0..=12),
        strategy in strategy(),
    ) {
        let (mut a, mut b) = (Replica::new(), Replica::new());
        a.deliver_all(strategy, &arrival);
        b.deliver_all(strategy, &arrival);
        prop_assert_eq!(a, b);
    }
}
