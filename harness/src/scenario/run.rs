//! Running a scenario: its history, its report, a sweep of seeds, a determinism check.

use super::Scenario;
use crate::history::{Divergence, History};
use crate::implementation::{Client, Server};
use crate::report::{Report, Sweep};
use crate::sim;

impl Scenario {
    /// Runs the scenario once on `client` and `server` and records the history.
    pub fn history<C: Client, S: Server>(&self, client: &C, server: &S, seed: u64) -> History {
        sim::execute(self, client, server, seed)
    }

    /// Runs the scenario once and checks its invariants.
    pub fn run<C: Client, S: Server>(&self, client: &C, server: &S, seed: u64) -> Report {
        self.check(self.history(client, server, seed))
    }

    /// Checks this scenario's invariants on a recorded history.
    pub fn check(&self, history: History) -> Report {
        Report::new(self, history)
    }

    /// Runs every seed of `seeds` and gathers the verdicts.
    pub fn run_seeds<C: Client, S: Server>(
        &self,
        client: &C,
        server: &S,
        seeds: impl IntoIterator<Item = u64>,
    ) -> Sweep {
        let mut sweep = Sweep::new(&self.name);
        for seed in seeds {
            sweep.add(self.run(client, server, seed));
        }
        sweep
    }

    /// Runs seed `seed` twice and compares the histories byte for byte: the first line
    /// where they differ, with both versions of it, or `None` when they match.
    pub fn divergence<C: Client, S: Server>(&self, client: &C, server: &S, seed: u64) -> Option<Divergence> {
        Divergence::between(&self.history(client, server, seed), &self.history(client, server, seed))
    }
}
