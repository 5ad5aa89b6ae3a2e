//! Runs a campaign's cases on the worker pool ([`crate::pool`]) until the first failure.
//!
//! Cases start in campaign order. Once a case fails, no later one is started, and every
//! earlier one runs to its end: the first failing case, and how many cases ran up to it,
//! do not depend on the number of workers or on their timing.

use super::Runs;
use crate::fuzz::{Campaign, Failure};
use crate::implementation::{Client, Server};
use crate::pool::Pool;

/// What a sweep of cases found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sweep {
    /// Cases run, up to and including the first failing one.
    pub(crate) run: usize,
    /// The first failing case: its position among the swept cases, and how it failed.
    pub(crate) first_failure: Option<(usize, Failure)>,
}

impl Sweep {
    /// Runs cases `indexes` of `campaign` as `runs` says with `threads` workers, in
    /// order, stopping at the first failure.
    pub(crate) fn run<C: Client + Sync, S: Server + Sync>(
        campaign: &Campaign,
        indexes: &[u64],
        runs: &Runs<'_, C, S>,
        threads: usize,
    ) -> Sweep {
        let pool = Pool { name: "fuzz", workers: threads, unit: "cases" };
        let case = |_: &(), position: usize| {
            let case = runs.case(campaign, indexes[position]);
            Failure::of(&runs.run(&case.scenario(&campaign.capabilities), case.seed))
        };
        let mut failures = pool.run_until(indexes.len(), || (), case, Option::is_some);
        let run = failures.len();
        let first_failure = failures.pop().flatten().map(|failure| (run - 1, failure));
        Sweep { run, first_failure }
    }
}
