//! Conflict strategies: what `resolve` decides for one register write, and what a sequence
//! of writes leaves on the record when the server applies them in arrival order.

use crate::arbitrary::{hlc, one_of, stamps, wall_ms, writes, DEVICES, REGISTERS};
use crate::server::{Replica, Write};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use protocol::Strategy::{ClientWins, FieldMerge, LastWriteWinsArrival, LastWriteWinsHlc, ServerWins, UserPrompted};
use protocol::{resolve, Changes, Decision, FieldStamp, Hlc, HlcClock};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One register write reaching a live record.
#[derive(Clone, Debug)]
struct Situation {
    current_version: u64,
    stamps: BTreeMap<String, FieldStamp>,
    base_version: u64,
    hlc: Hlc,
    fields: BTreeMap<String, Value>,
}

/// A record at a version up to 12 whose fields were written at or before it, and a write
/// based on any version up to one past it, setting any register fields.
fn situation() -> impl Strategy<Value = Situation> {
    (0u64..12)
        .prop_flat_map(|current| {
            (Just(current), stamps(current), 0..=current + 1, hlc(), subsequence(REGISTERS.to_vec(), 0..=4))
        })
        .prop_map(|(current_version, stamps, base_version, hlc, names)| Situation {
            current_version,
            stamps,
            base_version,
            hlc,
            fields: names.into_iter().map(|n| (n.to_owned(), Value::from(format!("new {n}")))).collect(),
        })
}

fn strategy() -> impl Strategy<Value = protocol::Strategy> {
    proptest::sample::select(protocol::Strategy::ALL.to_vec())
}

impl Situation {
    fn decide(&self, strategy: protocol::Strategy) -> Decision {
        let write = protocol::Write { base_version: self.base_version, hlc: &self.hlc, fields: &self.fields };
        resolve(strategy, self.current_version, &self.stamps, write)
    }

    fn written(&self) -> BTreeSet<String> {
        self.fields.keys().cloned().collect()
    }

    /// Fields of the write that another write changed after its base.
    fn changed_since_base(&self) -> BTreeSet<String> {
        let changed = |f: &&String| self.stamps.get(*f).is_some_and(|s| s.version > self.base_version);
        self.fields.keys().filter(changed).cloned().collect()
    }
}

proptest! {
    /// Under every strategy, each field of the write is either applied or kept, never
    /// both, and nothing else is named; only user-prompted asks the user, and then
    /// nothing applies.
    #[test]
    fn every_decision_splits_the_write_into_applied_and_kept_fields(s in situation(), strategy in strategy()) {
        let d = s.decide(strategy);
        prop_assert!(d.apply.is_disjoint(&d.keep), "{strategy}: {d:?}");
        prop_assert_eq!(d.apply.union(&d.keep).cloned().collect::<BTreeSet<_>>(), s.written());
        if d.needs_user {
            prop_assert!(strategy == UserPrompted && d.apply.is_empty(), "{strategy}: {d:?}");
        }
    }

    /// Same inputs, same decision: `resolve` reads nothing but its arguments, so a second
    /// call, or a call on copies, answers the same. This is the whole convergence story of
    /// the register strategies other than lww-hlc: the server decides once, in its arrival
    /// order, and every client copies its record (see `convergence`).
    #[test]
    fn resolve_is_deterministic(s in situation(), strategy in strategy()) {
        let copy = s.clone();
        prop_assert_eq!(s.decide(strategy), s.decide(strategy));
        prop_assert_eq!(s.decide(strategy), copy.decide(strategy));
    }

    /// Field merge applies exactly the fields nobody changed since the write's base and
    /// keeps the server's value of the others, without asking the user.
    #[test]
    fn field_merge_applies_exactly_the_fields_not_changed_since_base(s in situation()) {
        let d = s.decide(FieldMerge);
        let changed = s.changed_since_base();
        prop_assert_eq!(&d.keep, &changed);
        prop_assert_eq!(d.apply, s.written().difference(&changed).cloned().collect::<BTreeSet<_>>());
        prop_assert!(!d.needs_user);
    }

    /// The stale-overwrite guarantee: under server-wins, field merge and user-prompted, no
    /// field changed since the write's base is applied.
    #[test]
    fn no_field_changed_since_base_is_overwritten_under_server_wins_field_merge_or_user_prompted(
        s in situation(),
        strategy in one_of_strategies(&[ServerWins, FieldMerge, UserPrompted]),
    ) {
        let d = s.decide(strategy);
        let changed = s.changed_since_base();
        let overwritten: Vec<_> = d.apply.intersection(&changed).collect();
        let base = s.base_version;
        prop_assert!(overwritten.is_empty(), "{strategy} overwrote {overwritten:?}, changed since base {base}");
    }

    /// Server-wins applies all of a write based on the current version and nothing of a
    /// stale one, even of fields nobody else changed.
    #[test]
    fn server_wins_applies_all_of_a_current_write_and_nothing_of_a_stale_one(s in situation()) {
        let d = s.decide(ServerWins);
        let stale = s.base_version < s.current_version;
        let (apply, keep) = if stale { (BTreeSet::new(), s.written()) } else { (s.written(), BTreeSet::new()) };
        prop_assert_eq!(d, Decision { apply, keep, needs_user: false });
    }

    /// Client-wins and lww-arrival apply every field of every write, whatever its base and
    /// stamp: the later arrival wins (`the_later_arrival_wins_under_client_wins_and_lww_arrival`).
    #[test]
    fn client_wins_and_lww_arrival_apply_every_field(
        s in situation(),
        strategy in one_of_strategies(&[ClientWins, LastWriteWinsArrival]),
    ) {
        prop_assert_eq!(s.decide(strategy), Decision { apply: s.written(), keep: BTreeSet::new(), needs_user: false });
    }

    /// User-prompted applies nothing of a write that overlaps a change made since its base
    /// and keeps every field of it for the user; a write that overlaps nothing is decided
    /// as field merge decides it, without the user.
    #[test]
    fn user_prompted_keeps_all_of_an_overlapping_write_for_the_user(s in situation()) {
        let d = s.decide(UserPrompted);
        if s.changed_since_base().is_empty() {
            prop_assert_eq!(d, s.decide(FieldMerge));
        } else {
            prop_assert_eq!(d, Decision { apply: BTreeSet::new(), keep: s.written(), needs_user: true });
        }
    }

    /// Lww-hlc applies each field that has no stamp or whose stamp is older than the
    /// write's, stale or not, and keeps the others.
    #[test]
    fn lww_hlc_applies_each_field_whose_stamp_is_older_than_the_write(s in situation()) {
        let d = s.decide(LastWriteWinsHlc);
        let older = |f: &&String| s.stamps.get(*f).is_none_or(|stamp| stamp.hlc < s.hlc);
        let apply: BTreeSet<String> = s.fields.keys().filter(older).cloned().collect();
        prop_assert_eq!(&d.keep, &s.written().difference(&apply).cloned().collect());
        prop_assert_eq!(d.apply, apply);
    }

    /// Under lww-hlc, a write made after its device observed the record's greatest stamp
    /// (as a client does with every record it pulls) applies every field, whatever the
    /// device's physical clock says and whatever else the device's clock went through.
    #[test]
    fn under_lww_hlc_a_write_made_after_observing_the_record_wins_every_field(
        s in situation(),
        device in one_of(&DEVICES),
        history in vec((hlc(), wall_ms()), 0..5),
        observed_at in wall_ms(),
        written_at in wall_ms(),
    ) {
        let mut clock = HlcClock::new(device);
        for (stamp, now) in &history {
            clock.observe(stamp, *now);
        }
        if let Some(greatest) = s.stamps.values().map(|st| &st.hlc).max() {
            clock.observe(greatest, observed_at);
        }
        let s = Situation { hlc: clock.send(written_at), ..s };
        prop_assert_eq!(s.decide(LastWriteWinsHlc).apply, s.written());
    }
}

fn one_of_strategies(strategies: &[protocol::Strategy]) -> impl Strategy<Value = protocol::Strategy> {
    proptest::sample::select(strategies.to_vec())
}

/// Some earlier writes, and two writes (keys `left` and `right`) that set disjoint,
/// non-empty sets of register fields. The test bases both on the version the earlier
/// writes leave.
fn disjoint_writes() -> impl Strategy<Value = (Vec<Write>, Write, Write)> {
    let split = subsequence(REGISTERS.to_vec(), 2..=REGISTERS.len())
        .prop_flat_map(|names| (Just(names.clone()), 1..names.len()))
        .prop_map(|(names, at)| (names[..at].to_vec(), names[at..].to_vec()));
    (writes(0..=6, 6), split, hlc(), hlc()).prop_map(|(history, (left, right), left_hlc, right_hlc)| {
        let write = |key: &str, names: Vec<&str>, hlc| Write {
            key: key.to_owned(),
            device: key.to_owned(),
            base_version: 0,
            hlc,
            changes: names.into_iter().fold(Changes::new(), |c, n| c.set(n, format!("{key}:{n}"))),
        };
        (history, write("left", left, left_hlc), write("right", right, right_hlc))
    })
}

proptest! {
    /// Two writes based on the same version that set disjoint fields both apply in full,
    /// in either arrival order, under field merge, user-prompted, client-wins and
    /// lww-arrival (server-wins refuses the second as stale; lww-hlc compares stamps).
    #[test]
    fn disjoint_writes_from_one_base_both_apply(
        (history, mut left, mut right) in disjoint_writes(),
        strategy in one_of_strategies(&[FieldMerge, UserPrompted, ClientWins, LastWriteWinsArrival]),
        left_first in any::<bool>(),
    ) {
        let mut replica = Replica::new();
        replica.deliver_all(strategy, &history);
        left.base_version = replica.record.version;
        right.base_version = replica.record.version;
        let (first, second) = if left_first { (&left, &right) } else { (&right, &left) };
        for write in [first, second] {
            let d = replica.deliver(strategy, write).expect("distinct keys");
            prop_assert!(d.keep.is_empty() && !d.needs_user, "{strategy} refused part of {}: {d:?}", write.key);
        }
        for write in [&left, &right] {
            for (name, value) in &write.changes.fields {
                prop_assert_eq!(replica.record.fields.get(name), Some(value), "{} of {}", name, write.key);
            }
        }
    }

    /// Under client-wins and lww-arrival, whatever the writes' bases and stamps, each
    /// register field ends with the value of the last write to arrive that set it.
    #[test]
    fn the_later_arrival_wins_under_client_wins_and_lww_arrival(
        writes in writes(1..=8, 8),
        strategy in one_of_strategies(&[ClientWins, LastWriteWinsArrival]),
    ) {
        let mut replica = Replica::new();
        replica.deliver_all(strategy, &writes);
        for name in REGISTERS {
            let last = writes.iter().rev().find_map(|w| w.changes.fields.get(name));
            prop_assert_eq!(replica.record.fields.get(name), last, "{}", name);
        }
    }
}
