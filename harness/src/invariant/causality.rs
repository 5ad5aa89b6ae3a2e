//! Causality: a write made after its device saw another write never loses to it.

use super::facts::{cite, is_register, written, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{History, OpView};
use crate::operation::{Operation, RecordKey};
use protocol::Strategy;
use serde_json::Value;

/// Catches a write that lost to a write it had already seen. An acknowledged update B that
/// sets a text field, on a device that showed value v in that field just before, causally
/// follows the acknowledged write A that wrote v (text values are unique per operation, so
/// v names A). Whatever the strategy and whatever the clocks say, the server must not end
/// with A's value: B is ordered after it. Under last-write-wins by wall clock, this is the
/// write with the slower clock losing to an older one.
///
/// Judged under the strategies where the later write must win: last-write-wins (by hybrid
/// logical clock or by arrival) and client-wins; server-wins, field merge and
/// user-prompted may refuse a stale write that saw an older one (a concurrent change made
/// it stale), and [`super::StrategyHonoured`] judges those. B may fail openly: not judged
/// when B's device shows the record as failed, or when the record is no longer on the
/// server. A conflict the strategy resolved by itself is no excuse: it is the strategy
/// that broke causality.
#[derive(Clone, Copy, Debug, Default)]
pub struct Causality;

const NAME: &str = "causality";

impl Invariant for Causality {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "causality under last-write-wins: a write made after its device saw another write never loses to it"
    }

    fn check(&self, history: &History) -> Check {
        let facts = Facts::of(history);
        let mut violations = Vec::new();
        for later in facts.operations.iter().filter(|op| is_acknowledged_update(op)) {
            let key = later.operation.key();
            let Some(kept) = facts.servers.get(later.user).and_then(|records| records.get(&key)) else { continue };
            if !later_write_must_win(facts.strategy(key.entity))
                || facts.failed_for(later)
                || facts.left_for_good(later)
            {
                continue;
            }
            for (field, seen) in later.observed.iter().filter(|(f, v)| v.is_string() && is_register(key.entity, f)) {
                let Some(written_later) = written(later, field) else { continue };
                let Some(earlier) = writer_of(&facts, later, &key, field, seen) else { continue };
                if kept.get(field.as_str()) == Some(seen) {
                    let details = format!(
                        "{} set {key} {field} to {written_later} after its device showed {seen}, written by {}; \
                         yet the server ends with {seen}",
                        cite(later),
                        cite(earlier),
                    );
                    let details = Details::from(details).op(later.op).op(earlier.op).record(&key);
                    let t_ms = facts.server_state_ms(later.user);
                    violations.push(Violation::new(NAME, t_ms, Some(later.host), details));
                }
            }
        }
        Check::found(violations)
    }
}

fn later_write_must_win(strategy: Option<Strategy>) -> bool {
    matches!(strategy, Some(Strategy::LastWriteWinsHlc | Strategy::LastWriteWinsArrival | Strategy::ClientWins))
}

fn is_acknowledged_update(op: &OpView<'_>) -> bool {
    op.acknowledged() && matches!(op.operation, Operation::Update { .. })
}

/// The acknowledged operation other than `later` that wrote `value` to `field` of `key`.
fn writer_of<'f, 'a>(
    facts: &'f Facts<'a>,
    later: &OpView<'_>,
    key: &RecordKey,
    field: &str,
    value: &Value,
) -> Option<&'f OpView<'a>> {
    facts.on(key).find(|op| op.op != later.op && op.acknowledged() && written(op, field) == Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use crate::state::DeviceState;
    use protocol::Changes;
    use serde_json::json;

    /// Device 1 edits the title after showing device 0's title.
    fn edited_after_seeing() -> Timeline {
        let t1 = task("t1");
        Timeline::new(&[ALICE, ALICE])
            .at(10)
            .acked(DEVICE0, 1, create(&t1, json!({"title": "title #1"})))
            .at(20)
            .acked_seeing(
                DEVICE1,
                2,
                update(&t1, Changes::new().set("title", "title #2")),
                json!({"title": "title #1"}),
            )
    }

    #[test]
    fn the_later_write_winning_honours_causality() {
        let history =
            edited_after_seeing().at(900).settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #2"}))]))]);
        assert_eq!(Causality.check(&history.build()), Check::ok());
    }

    #[test]
    fn the_seen_write_winning_over_the_later_one_breaks_causality() {
        let history =
            edited_after_seeing().at(900).settle(&[(ALICE, records(&[(&task("t1"), json!({"title": "title #1"}))]))]);
        let check = Causality.check(&history.build());
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("op 2") && details.contains("op 1") && details.contains(r#""title #1""#), "{details}");
    }

    #[test]
    fn a_later_write_shown_as_failed_may_lose() {
        let finals = records(&[(&task("t1"), json!({"title": "title #1"}))]);
        let failed = DeviceState { records: finals.clone(), failed: vec![task("t1")], ..DeviceState::default() };
        let history = edited_after_seeing().at(900).server(ALICE, finals).snapshot(DEVICE1, failed).build();
        assert_eq!(Causality.check(&history), Check::ok());
    }

    #[test]
    fn a_conflict_the_strategy_resolved_is_no_excuse() {
        let finals = records(&[(&task("t1"), json!({"title": "title #1"}))]);
        let conflicted = DeviceState { records: finals.clone(), conflicts: vec![task("t1")], ..DeviceState::default() };
        let history = edited_after_seeing().at(900).server(ALICE, finals).snapshot(DEVICE1, conflicted).build();
        assert_eq!(Causality.check(&history).violations.len(), 1);
    }
}
