//! OR-set: its merge is a join, an add survives any remove that did not observe its tag
//! (add wins), a remove that observed every tag removes the element, and a removed tag never
//! comes back, whatever is merged or replayed afterwards.
//!
//! Histories are generated as the protocol makes them: each add carries a fresh tag, and a
//! remove observes the tags its replica holds for the element.

use crate::arbitrary::{one_of, schedule, ELEMENTS};
use proptest::collection::vec;
use proptest::prelude::*;
use protocol::{OrSet, Tag};
use std::collections::BTreeSet;

const REPLICAS: usize = 3;

#[derive(Clone, Debug)]
enum Event {
    /// Replica `replica` adds `elements`, all under one fresh tag (as one mutation does).
    Add { replica: usize, elements: Vec<&'static str> },
    /// Replica `replica` removes `element`, observing the tags it holds for it.
    Remove { replica: usize, element: &'static str },
    /// Replica `from` sends its state to replica `to`, which merges it.
    Gossip { from: usize, to: usize },
}

/// Events in which each add adds `per_add` elements under its tag.
fn events(per_add: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<Event>> {
    let replica = 0..REPLICAS;
    let event = prop_oneof![
        (replica.clone(), proptest::sample::subsequence(ELEMENTS.to_vec(), per_add))
            .prop_map(|(replica, elements)| Event::Add { replica, elements }),
        (replica.clone(), one_of(&ELEMENTS)).prop_map(|(replica, element)| Event::Remove { replica, element }),
        (replica.clone(), replica).prop_map(|(from, to)| Event::Gossip { from, to }),
    ];
    vec(event, 0..30)
}

/// What happened: the replicas' final states, every state sent, every add and every remove.
#[derive(Debug, Default)]
struct History {
    replicas: Vec<OrSet>,
    in_flight: Vec<OrSet>,
    adds: Vec<(&'static str, Tag)>,
    removes: Vec<(&'static str, BTreeSet<Tag>)>,
}

impl History {
    fn run(events: Vec<Event>) -> Self {
        let mut h = History { replicas: vec![OrSet::default(); REPLICAS], ..History::default() };
        for (i, event) in events.into_iter().enumerate() {
            match event {
                Event::Add { replica, elements } => {
                    for element in elements {
                        h.replicas[replica].add(element, &format!("t{i}"));
                        h.adds.push((element, format!("t{i}")));
                    }
                }
                Event::Remove { replica, element } => {
                    let observed = h.replicas[replica].tags(element);
                    h.replicas[replica].remove(element, &observed);
                    h.removes.push((element, observed));
                }
                Event::Gossip { from, to } => {
                    let sent = h.replicas[from].clone();
                    h.replicas[to].merge(&sent);
                    h.in_flight.push(sent);
                }
            }
        }
        h
    }

    /// The tags of `element` that some remove observed.
    fn removed(&self, element: &str) -> BTreeSet<Tag> {
        self.removes.iter().filter(|(e, _)| *e == element).flat_map(|(_, tags)| tags.iter().cloned()).collect()
    }
}

fn join(a: &OrSet, b: &OrSet) -> OrSet {
    let mut joined = a.clone();
    joined.merge(b);
    joined
}

proptest! {
    /// `a ⊔ b = b ⊔ a` (adds and removed tags alike) for any two replicas' states.
    #[test]
    fn merge_is_commutative(events in events(1..=1)) {
        let h = History::run(events);
        let (a, b) = (&h.replicas[0], &h.replicas[1]);
        prop_assert_eq!(join(a, b), join(b, a));
    }

    /// `(a ⊔ b) ⊔ c = a ⊔ (b ⊔ c)` for any three replicas' states.
    #[test]
    fn merge_is_associative(events in events(1..=1)) {
        let h = History::run(events);
        let (a, b, c) = (&h.replicas[0], &h.replicas[1], &h.replicas[2]);
        prop_assert_eq!(join(&join(a, b), c), join(a, &join(b, c)));
    }

    /// `a ⊔ a = a` and `(a ⊔ b) ⊔ b = a ⊔ b` when each add adds one element.
    #[test]
    fn merge_is_idempotent(events in events(1..=1)) {
        let h = History::run(events);
        let (a, b) = (&h.replicas[0], &h.replicas[1]);
        prop_assert_eq!(&join(a, a), a);
        let ab = join(a, b);
        prop_assert_eq!(join(&ab, b), ab);
    }

    /// The specification of an observed-remove set: a replica that merges every final
    /// state once, plus stale states late and twice, in any order, holds exactly the
    /// elements with an add whose tag no remove of that element observed, when one
    /// mutation adds several elements under its tag too.
    #[test]
    fn the_join_holds_exactly_the_adds_no_remove_observed(
        events in events(1..=3),
        schedule in schedule(REPLICAS),
    ) {
        let h = History::run(events);
        let mut received = OrSet::default();
        for state in schedule.order(&h.replicas, &h.in_flight) {
            received.merge(state);
        }
        let expected: BTreeSet<&str> =
            h.adds.iter().filter(|(e, tag)| !h.removed(e).contains(tag)).map(|(e, _)| *e).collect();
        let present: BTreeSet<String> = received.elements().into_iter().collect();
        prop_assert_eq!(present, expected.into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
    }

    /// Add wins, between replicas: replica 0 removes `element` while replica 1
    /// concurrently adds it under a tag replica 0 has not seen. The element is present,
    /// under the new tag, after merging the two either way and in the join with the third
    /// replica.
    #[test]
    fn an_add_concurrent_with_a_remove_survives_the_merge(events in events(1..=1), element in one_of(&ELEMENTS)) {
        let mut h = History::run(events);
        let observed = h.replicas[0].tags(element);
        h.replicas[0].remove(element, &observed);
        h.replicas[1].add(element, "concurrent");
        let (a, b, c) = (&h.replicas[0], &h.replicas[1], &h.replicas[2]);
        for merged in [join(a, b), join(b, a), join(&join(a, b), c), join(c, &join(b, a))] {
            prop_assert!(merged.tags(element).contains("concurrent"), "{element} lost its concurrent add: {merged:?}");
        }
    }

    /// Add wins, on one state (as the server applies operations): a remove that observed
    /// the tags of `element` in some state leaves an add it did not observe, whether that
    /// add was applied before the remove or after it.
    #[test]
    fn an_add_the_remove_did_not_observe_survives_it(
        events in events(1..=1),
        element in one_of(&ELEMENTS),
        add_first in any::<bool>(),
    ) {
        let mut state = History::run(events).replicas.swap_remove(0);
        let observed = state.tags(element);
        if add_first {
            state.add(element, "concurrent");
            state.remove(element, &observed);
        } else {
            state.remove(element, &observed);
            state.add(element, "concurrent");
        }
        prop_assert_eq!(state.tags(element), BTreeSet::from(["concurrent".to_owned()]));
    }

    /// Replica 0 merges every replica's state and removes `element` under every tag it
    /// then sees: every tag that exists. The element is gone from the join of all replicas
    /// (any order, stale states included), and replaying every add ever made on the join
    /// (late or duplicated adds) does not bring it back.
    #[test]
    fn a_remove_that_observed_every_tag_removes_the_element(
        events in events(1..=1),
        element in one_of(&ELEMENTS),
        schedule in schedule(REPLICAS),
    ) {
        let mut h = History::run(events);
        let everything = h.replicas.iter().chain(&h.in_flight).fold(OrSet::default(), |acc, s| join(&acc, s));
        h.replicas[0].merge(&everything);
        let observed = h.replicas[0].tags(element);
        h.replicas[0].remove(element, &observed);
        let mut received = OrSet::default();
        for state in schedule.order(&h.replicas, &h.in_flight) {
            received.merge(state);
        }
        prop_assert!(!received.contains(element), "{element} survived a remove of all its tags: {received:?}");
        for (e, tag) in &h.adds {
            received.add(e, tag);
        }
        prop_assert!(!received.contains(element), "a replayed add resurrected {element}: {received:?}");
    }

    /// No resurrection: once a remove observed a tag of an element, the join of all
    /// replicas (any order, stale states included) does not hold that tag for the element,
    /// nor does it after every add ever made is replayed on it.
    #[test]
    fn a_removed_tag_never_comes_back(events in events(1..=1), schedule in schedule(REPLICAS)) {
        let h = History::run(events);
        let mut received = OrSet::default();
        for state in schedule.order(&h.replicas, &h.in_flight) {
            received.merge(state);
        }
        for (e, tag) in &h.adds {
            received.add(e, tag);
        }
        for element in ELEMENTS {
            let back: BTreeSet<Tag> = received.tags(element).intersection(&h.removed(element)).cloned().collect();
            prop_assert!(back.is_empty(), "{element} came back under removed tags {back:?}");
        }
    }

    /// One mutation tags every element it adds to a set with its key, so one tag can be
    /// live on several elements. Until protocol 3, `OrSet::removed` held bare tags: a remove
    /// of one of those elements cancelled the shared tag for all of them, `merge` dropped
    /// the others and `a ⊔ a ≠ a` (shrunk to: one add of `work` and `urgent` under `t0`, a
    /// remove of `work`; `a ⊔ a` had lost `urgent`). Removed tags are kept per element now.
    #[test]
    fn merge_is_idempotent_when_one_mutation_adds_several_elements(events in events(1..=2)) {
        let h = History::run(events);
        let a = &h.replicas[0];
        prop_assert_eq!(&join(a, a), a);
        let (b, c) = (&h.replicas[1], &h.replicas[2]);
        prop_assert_eq!(join(a, b), join(b, a));
        prop_assert_eq!(join(&join(a, b), c), join(a, &join(b, c)));
    }

    /// A state sent to a protocol 2 client (every removed tag cancelled for every element)
    /// reads back as it was sent and shows the same elements. (It is coarser, not equal: a
    /// protocol 2 state merged into a protocol 3 one can cancel a shared tag on elements it
    /// was never removed from, which is why protocol 3 exists.)
    #[test]
    fn a_state_as_protocol_2_carries_it_shows_the_same_elements(events in events(1..=3)) {
        let h = History::run(events);
        let a = &h.replicas[0];
        let mut old = a.clone();
        old.cancel_everywhere();
        let read: OrSet = serde_json::from_value(serde_json::to_value(&old).unwrap()).unwrap();
        prop_assert_eq!(&read, &old);
        prop_assert_eq!(read.elements(), a.elements());
    }
}
