//! The invariants: what must hold of every run, each a type with a stable name.
//!
//! An invariant reads only the [`History`]: the operations with their completions, the
//! reads, the faults, and the final snapshots of every device and of the server. Always
//! and Eventually invariants report violations; Sometimes invariants count how often a run
//! reached an interesting case, so a seed sweep can prove it explored it.

mod causality;
mod convergence;
mod exactly_once;
mod facts;
#[cfg(test)]
pub(crate) mod fixture;
mod isolation;
mod monotonic_reads;
mod no_lost_acknowledged_writes;
mod no_resurrection;
mod queue_drains;
mod reached_conflict;
mod reached_kill_during_push;
mod reached_lost_acknowledgement;
mod read_your_writes;
mod retries_back_off;
mod stale_overwrite;
mod strategy_honoured;
mod upgrade_preserves_data;

pub use causality::Causality;
pub use convergence::Convergence;
pub use exactly_once::ExactlyOnce;
pub use isolation::Isolation;
pub use monotonic_reads::MonotonicReads;
pub use no_lost_acknowledged_writes::NoLostAcknowledgedWrites;
pub use no_resurrection::NoResurrection;
pub use queue_drains::QueueDrains;
pub use reached_conflict::ReachedConflict;
pub use reached_kill_during_push::ReachedKillDuringPush;
pub use reached_lost_acknowledgement::ReachedLostAcknowledgement;
pub use read_your_writes::ReadYourWrites;
pub use retries_back_off::RetriesBackOff;
pub use strategy_honoured::StrategyHonoured;
pub use upgrade_preserves_data::UpgradePreservesData;

use crate::history::History;
use crate::operation::RecordKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::rc::Rc;

/// When an invariant must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// At every point of the run.
    Always,
    /// After the final phase (faults stopped, every device synced until idle).
    Eventually,
    /// At least once over a seed sweep: a coverage counter, never a violation.
    Sometimes,
}

/// One violation of an invariant: data for the report, never a panic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The invariant's stable name.
    pub invariant: String,
    /// Virtual time of the violation (ms); for Eventually invariants, the end of the run.
    pub t_ms: u64,
    /// The host where it shows, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// What is wrong, in words.
    pub details: String,
    /// The operations it involves, by number (the `op` of their events), in the order the
    /// details cite them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<u64>,
    /// The records it involves, in the order the details name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordKey>,
}

impl Violation {
    /// A violation of invariant `invariant` seen at `t_ms`, on `host` if it shows on one.
    pub(crate) fn new(invariant: &str, t_ms: u64, host: Option<&str>, details: impl Into<Details>) -> Self {
        let Details { text, ops, records } = details.into();
        Self { invariant: invariant.to_owned(), t_ms, host: host.map(str::to_owned), details: text, ops, records }
    }
}

/// A violation's words, with the operations and records they involve as data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Details {
    pub(crate) text: String,
    pub(crate) ops: Vec<u64>,
    pub(crate) records: Vec<RecordKey>,
}

impl Details {
    /// Involves operation `op` (once).
    pub(crate) fn op(mut self, op: u64) -> Self {
        if !self.ops.contains(&op) {
            self.ops.push(op);
        }
        self
    }

    /// Involves every operation of `ops`.
    pub(crate) fn ops(self, ops: impl IntoIterator<Item = u64>) -> Self {
        ops.into_iter().fold(self, Details::op)
    }

    /// Involves record `key` (once).
    pub(crate) fn record(mut self, key: &RecordKey) -> Self {
        if !self.records.contains(key) {
            self.records.push(key.clone());
        }
        self
    }
}

impl From<String> for Details {
    fn from(text: String) -> Self {
        Details { text, ..Details::default() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} ms", self.invariant, self.t_ms)?;
        if let Some(host) = &self.host {
            write!(f, " on {host}")?;
        }
        write!(f, ": {}", self.details)
    }
}

/// What checking one history found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// Violations in time order (empty when the invariant holds).
    pub violations: Vec<Violation>,
    /// For Sometimes invariants: how many times the run reached the case.
    pub hits: u64,
}

impl Check {
    /// A check that found nothing wrong.
    pub fn ok() -> Self {
        Self::default()
    }

    /// A Sometimes check that reached its case `hits` times.
    pub fn hits(hits: u64) -> Self {
        Self { violations: Vec::new(), hits }
    }

    /// A check that found these violations, put in time order (stable among equal times).
    pub(crate) fn found(mut violations: Vec<Violation>) -> Self {
        violations.sort_by_key(|v| v.t_ms);
        Self { violations, hits: 0 }
    }
}

/// A property of runs.
pub trait Invariant {
    /// The stable lower-case name used in reports and filters.
    fn name(&self) -> &'static str;
    /// When it must hold.
    fn expectation(&self) -> Expectation;
    /// One sentence on what it means, for `syncsim list`.
    fn description(&self) -> &'static str;
    /// Checks one history.
    fn check(&self, history: &History) -> Check;
}

/// Every invariant, in report order: the Always and Eventually ones first, in the order of
/// the design's list, then the Sometimes counters. A scenario checks all of them by default.
pub fn all() -> Vec<Rc<dyn Invariant>> {
    vec![
        Rc::new(NoLostAcknowledgedWrites),
        Rc::new(ExactlyOnce),
        Rc::new(Convergence),
        Rc::new(NoResurrection),
        Rc::new(Causality),
        Rc::new(StrategyHonoured),
        Rc::new(ReadYourWrites),
        Rc::new(MonotonicReads),
        Rc::new(QueueDrains),
        Rc::new(Isolation),
        Rc::new(RetriesBackOff),
        Rc::new(UpgradePreservesData),
        Rc::new(ReachedConflict),
        Rc::new(ReachedKillDuringPush),
        Rc::new(ReachedLostAcknowledgement),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_invariant_has_a_distinct_lower_case_name_and_one_sentence() {
        let invariants = all();
        let names: BTreeSet<&str> = invariants.iter().map(|i| i.name()).collect();
        assert_eq!(names.len(), invariants.len(), "reports and filters find invariants by name: {names:?}");
        for invariant in &invariants {
            let name = invariant.name();
            assert_eq!(name, name.to_lowercase(), "names are stable lower-case phrases");
            assert!(!invariant.description().contains(". "), "{name}: one sentence for `syncsim list`");
        }
    }

    #[test]
    fn sometimes_counters_come_last_in_report_order() {
        let order: Vec<Expectation> = all().iter().map(|i| i.expectation()).collect();
        let first = order.iter().position(|e| *e == Expectation::Sometimes).expect("there are coverage counters");
        assert!(order[first..].iter().all(|e| *e == Expectation::Sometimes), "{order:?}");
    }

    #[test]
    fn an_empty_history_reaches_no_interesting_case() {
        let history = fixture::Timeline::new(&[fixture::ALICE]).build();
        for invariant in all().iter().filter(|i| i.expectation() == Expectation::Sometimes) {
            assert_eq!(invariant.check(&history), Check::hits(0), "{}", invariant.name());
        }
    }
}
