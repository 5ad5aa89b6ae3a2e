//! PN-counter: its merge is a join (commutative, associative, idempotent), so however
//! replicas exchange states, the join of them all counts every increment exactly once.
//!
//! The joined state is the pair of share maps `p` and `n`. `last` is not merged by design
//! (it names the last mutation one server counted, see `PnCounter::merge`), so these laws
//! compare `(p, n)` and the value, never `last`.

use crate::arbitrary::{delta, one_of, schedule, DEVICES};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use protocol::PnCounter;
use std::collections::BTreeMap;

type Shares = (BTreeMap<String, u64>, BTreeMap<String, u64>);

fn shares(counter: &PnCounter) -> Shares {
    (counter.p.clone(), counter.n.clone())
}

fn join(a: &PnCounter, b: &PnCounter) -> PnCounter {
    let mut joined = a.clone();
    joined.merge(b);
    joined
}

/// Any counter state: per device, totals of increments and of decrements (any `u64`: the
/// merge takes maxima and never adds, so it cannot overflow).
fn state() -> impl Strategy<Value = PnCounter> {
    let total = prop_oneof![3 => 0u64..10, 1 => any::<u64>()];
    let side = btree_map(one_of(&DEVICES).prop_map(str::to_owned), total, 0..=DEVICES.len());
    (side.clone(), side).prop_map(|(p, n)| PnCounter { p, n, last: BTreeMap::new() })
}

#[derive(Clone, Debug)]
enum Event {
    /// Device `device` increments its own replica.
    Increment { device: usize, delta: i64 },
    /// Replica `from` sends its state to replica `to`, which merges it.
    Gossip { from: usize, to: usize },
}

fn event() -> impl Strategy<Value = Event> {
    let device = 0..DEVICES.len();
    prop_oneof![
        (device.clone(), delta()).prop_map(|(device, delta)| Event::Increment { device, delta }),
        (device.clone(), device).prop_map(|(from, to)| Event::Gossip { from, to }),
    ]
}

proptest! {
    /// `a ⊔ b = b ⊔ a` on the shares, for any two states.
    #[test]
    fn merge_is_commutative(a in state(), b in state()) {
        prop_assert_eq!(shares(&join(&a, &b)), shares(&join(&b, &a)));
    }

    /// `(a ⊔ b) ⊔ c = a ⊔ (b ⊔ c)` on the shares, for any three states.
    #[test]
    fn merge_is_associative(a in state(), b in state(), c in state()) {
        prop_assert_eq!(shares(&join(&join(&a, &b), &c)), shares(&join(&a, &join(&b, &c))));
    }

    /// `a ⊔ a = a` and `(a ⊔ b) ⊔ b = a ⊔ b`: receiving a state again changes nothing.
    #[test]
    fn merge_is_idempotent(a in state(), b in state()) {
        prop_assert_eq!(shares(&join(&a, &a)), shares(&a));
        let ab = join(&a, &b);
        prop_assert_eq!(shares(&join(&ab, &b)), shares(&ab));
    }

    /// Each device increments only its own replica and replicas gossip states at random;
    /// a replica that then merges every final state once, plus stale states delivered
    /// late and some delivered twice, in any order, holds exactly the sum of all increments,
    /// and each device's contribution is the sum of its own. This is the state-based
    /// guarantee; the server's op-based counting is covered by
    /// `a_replayed_increment_counts_again`.
    #[test]
    fn the_join_of_gossiping_replicas_counts_every_increment_once(
        events in vec(event(), 0..40),
        schedule in schedule(DEVICES.len()),
    ) {
        let mut replicas = vec![PnCounter::default(); DEVICES.len()];
        let mut in_flight = Vec::new();
        let mut sums = [0i64; DEVICES.len()];
        for event in events {
            match event {
                Event::Increment { device, delta } => {
                    replicas[device].increment(DEVICES[device], delta);
                    sums[device] += delta;
                }
                Event::Gossip { from, to } => {
                    let sent = replicas[from].clone();
                    replicas[to].merge(&sent);
                    in_flight.push(sent);
                }
            }
        }
        let mut received = PnCounter::default();
        for state in schedule.order(&replicas, &in_flight) {
            received.merge(state);
        }
        prop_assert_eq!(received.value(), sums.iter().sum::<i64>(), "the join must count each increment once");
        for (device, sum) in DEVICES.iter().zip(sums) {
            prop_assert_eq!(received.contribution(device), sum, "{}'s share", device);
        }
    }

    /// The server counts with `apply`, which is not idempotent: a mutation applied `k` times
    /// contributes `k` times its delta. This is what makes a duplicate application visible
    /// to the exactly-once check; delivery is exactly once only because the server answers a
    /// replayed key from its idempotency table (see `convergence`).
    #[test]
    fn a_replayed_increment_counts_again(ops in vec((0..DEVICES.len(), delta(), 1u8..=3), 0..20)) {
        let mut counter = PnCounter::default();
        let mut sums = [0i64; DEVICES.len()];
        for (i, (device, delta, times)) in ops.into_iter().enumerate() {
            for _ in 0..times {
                counter.apply(DEVICES[device], delta, &format!("k{i}"));
            }
            sums[device] += delta * i64::from(times);
        }
        for (device, sum) in DEVICES.iter().zip(sums) {
            prop_assert_eq!(counter.contribution(device), sum, "{}'s share", device);
        }
    }
}
