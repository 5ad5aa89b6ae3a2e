//! Isolation: no device and no user's server state holds another user's record.

use super::facts::{cite, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::History;
use crate::operation::RecordKey;
use crate::state::UserRecords;
use std::collections::BTreeSet;

/// Catches records leaking across users: a device that shows, during the run or at the
/// end, a record created on a device of another user, and a user's records on the server
/// holding one. A leak usually means the server scoped a pull or a write by record id
/// alone instead of by user and id.
///
/// Records no operation created are left to [`super::ExactlyOnce`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Isolation;

const NAME: &str = "isolation";

impl Invariant for Isolation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "no device and no user's records on the server ever hold a record of another user"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let mut reported = BTreeSet::new();
        let mut violations = Vec::new();
        for read in history.reads() {
            // The user logged in when it read: a device changes hands at a user switch.
            let user = read.user;
            let place = format!("{} (user {user})", read.host);
            for (key, details) in foreign(&facts, user, read.records, &place) {
                if reported.insert((read.host, key)) {
                    violations.push(Violation::new(NAME, read.t_ms, Some(read.host), details));
                }
            }
        }
        for (host, (user, state)) in &facts.snapshots {
            let place = format!("the final state of {host} (user {user})");
            for (_, details) in foreign(&facts, user, &state.records, &place) {
                violations.push(Violation::new(NAME, facts.snapshot_ms(host), Some(host), details));
            }
        }
        for (user, records) in &facts.servers {
            let place = format!("the server's records of {user}");
            for (_, details) in foreign(&facts, user, records, &place) {
                violations.push(Violation::new(NAME, facts.server_state_ms(user), None, details));
            }
        }
        Check::found(violations)
    }
}

/// The records of `records`, held in `place` for `user`, that a device of another user
/// created, each with what to report.
fn foreign<'r>(facts: &Facts<'_>, user: &str, records: &'r UserRecords, place: &str) -> Vec<(&'r RecordKey, Details)> {
    records
        .keys()
        .filter_map(|key| {
            let creator = facts.creator(key).filter(|op| op.user != user)?;
            let text = format!("{place} holds {key}, created by {} for user {}", cite(creator), creator.user);
            Some((key, Details::from(text).record(key).op(creator.op)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, Timeline, ALICE, BOB, DEVICE0, DEVICE1};
    use crate::state::UserRecords;
    use serde_json::json;

    fn alices_task() -> UserRecords {
        records(&[(&task("t1"), json!({"title": "title #1"}))])
    }

    fn created() -> Timeline {
        Timeline::new(&[ALICE, BOB]).at(10).acked(DEVICE0, 1, create(&task("t1"), json!({"title": "title #1"})))
    }

    #[test]
    fn each_user_holding_only_their_own_records_is_isolated() {
        let history = created()
            .read(DEVICE0, alices_task())
            .read(DEVICE1, records(&[]))
            .at(900)
            .settle(&[(ALICE, alices_task()), (BOB, records(&[]))])
            .build();
        assert_eq!(Isolation.check(&history), Check::ok());
    }

    #[test]
    fn another_users_record_on_a_device_or_in_their_server_state_breaks_isolation() {
        let history = created()
            .at(20)
            .read(DEVICE1, alices_task())
            .at(30)
            .read(DEVICE1, alices_task())
            .at(900)
            .settle(&[(ALICE, alices_task()), (BOB, alices_task())])
            .build();
        let check = Isolation.check(&history);
        let at: Vec<(u64, Option<&str>)> = check.violations.iter().map(|v| (v.t_ms, v.host.as_deref())).collect();
        assert_eq!(at, [(20, Some(DEVICE1)), (900, Some(DEVICE1)), (900, None)], "one read reported, then the end");
        assert!(check.violations[0].details.contains("task/t1, created by op 1 (create task/t1 on device0)"));
    }

    /// device0 is alice's until bob logs in on it: what it shows from then on is bob's.
    #[test]
    fn a_device_shows_the_user_logged_in_only_their_records() {
        let switched = || created().at(20).read(DEVICE0, alices_task()).at(30).switch_user(DEVICE0, BOB).at(40);
        let clean =
            switched().read(DEVICE0, records(&[])).at(900).settle(&[(ALICE, alices_task()), (BOB, records(&[]))]);
        assert_eq!(Isolation.check(&clean.build()), Check::ok(), "alice's task went with alice");
        let leak =
            switched().read(DEVICE0, alices_task()).at(900).settle(&[(ALICE, alices_task()), (BOB, records(&[]))]);
        let check = Isolation.check(&leak.build());
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("device0 (user bob) holds task/t1"), "{check:?}");
    }
}
