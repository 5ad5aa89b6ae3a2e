//! The invariants: what must hold of every run, each a type with a stable name.
//!
//! An invariant reads only the [`History`]: the operations with their completions, the
//! reads, the faults, and the final snapshots of every device and of the server. Always
//! and Eventually invariants report violations; Sometimes invariants count how often a run
//! reached an interesting case, so a seed sweep can prove it explored it.

use crate::history::History;
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// What is wrong, with the operation numbers and records involved.
    pub details: String,
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

/// Every invariant, in report order.
pub fn all() -> Vec<std::rc::Rc<dyn Invariant>> {
    Vec::new()
}
