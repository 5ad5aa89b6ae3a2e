//! What a certification runs, seeds `1..=seeds` of each applicable scenario, and running
//! it on the worker pool ([`crate::pool`]) with the runs gathered in plan order.

use super::run::{Job, SeedRun};
use crate::implementation::{Client, Server};
use crate::pool::Pool;
use crate::Scenario;

/// What to run: seeds `1..=seeds` of each scenario, as `job` says.
pub(crate) struct Plan<'a, C, S> {
    /// The scenarios' names, in suite order.
    pub(crate) scenarios: &'a [String],
    /// Builds the suite the names come from; each worker builds its own copy.
    pub(crate) suite: fn() -> Vec<Scenario>,
    /// Seeds per scenario.
    pub(crate) seeds: u64,
    /// The implementation and what every run shares.
    pub(crate) job: Job<'a, C, S>,
}

impl<C: Client + Sync, S: Server + Sync> Plan<'_, C, S> {
    /// How many runs the plan holds.
    pub(crate) fn len(&self) -> usize {
        self.scenarios.len() * self.seeds as usize
    }

    /// Runs the plan on `threads` worker threads, with a progress bar; returns the runs
    /// scenario by scenario, each in seed order.
    pub(crate) fn run(&self, threads: usize) -> Vec<Vec<SeedRun>> {
        let pool = Pool { name: "certify", workers: threads, unit: "runs" };
        let runs = pool.run(self.len(), self.suite, |suite, i| {
            let (scenario, seed) = self.job(i);
            let name = &self.scenarios[scenario];
            let scenario = suite.iter().find(|s| s.name() == name).expect("the plan names scenarios of the suite");
            SeedRun::execute(scenario, seed, &self.job)
        });
        let mut runs = runs.into_iter();
        self.scenarios.iter().map(|_| runs.by_ref().take(self.seeds as usize).collect()).collect()
    }

    /// Run `i`: the scenario's index and the seed.
    fn job(&self, i: usize) -> (usize, u64) {
        let seeds = self.seeds as usize;
        (i / seeds, (i % seeds) as u64 + 1)
    }
}
