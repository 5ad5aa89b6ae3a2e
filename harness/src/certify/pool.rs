//! Runs a certification's seeds on worker threads and gathers them in a fixed order.
//!
//! turmoil keeps a simulation's world in a thread local, so a whole run is one worker's
//! from start to end. The workers take runs from a shared counter and send them back; the
//! runs are put back in plan order, so what is printed does not depend on thread timing.

use super::run::{Job, SeedRun};
use crate::implementation::{Client, Server};
use crate::progress::Progress;
use crate::Scenario;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

/// A worker's stack, as large as the main thread's: a run that `syncsim run` completes
/// must not overflow on a worker.
const STACK: usize = 8 << 20;

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

impl<C, S> Plan<'_, C, S> {
    /// How many runs the plan holds.
    pub(crate) fn len(&self) -> usize {
        self.scenarios.len() * self.seeds as usize
    }

    /// Run `i`: the scenario's index and the seed.
    fn job(&self, i: usize) -> (usize, u64) {
        let seeds = self.seeds as usize;
        (i / seeds, (i % seeds) as u64 + 1)
    }
}

/// Runs the plan on `threads` worker threads, with a progress bar; returns the runs
/// scenario by scenario, each in seed order.
pub(crate) fn run<C: Client + Sync, S: Server + Sync>(plan: &Plan<'_, C, S>, threads: usize) -> Vec<Vec<SeedRun>> {
    if plan.len() == 0 {
        return plan.scenarios.iter().map(|_| Vec::new()).collect();
    }
    let mut progress = Progress::start(plan.len(), "runs");
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    // Worker threads are outside any simulation: each run is whole on one of them.
    let runs = thread::scope(|scope| {
        for i in 0..threads {
            let (sender, next) = (sender.clone(), &next);
            let worker = thread::Builder::new().name(format!("certify-{i}")).stack_size(STACK);
            #[allow(clippy::disallowed_methods)]
            let spawned = worker.spawn_scoped(scope, move || work(plan, next, sender)); // allowed: whole runs on workers, none shared
            spawned.expect("the OS starts a worker thread");
        }
        drop(sender);
        gather(receiver, plan.len(), &mut progress)
    });
    progress.finish();
    let mut runs = runs.into_iter().map(|run| run.expect("every run reports once"));
    plan.scenarios.iter().map(|_| runs.by_ref().take(plan.seeds as usize).collect()).collect()
}

/// Takes runs from `next` until the plan is done. Scenarios hold `Rc`s and stay on their
/// thread: each worker builds its own copy of the suite.
fn work<C: Client, S: Server>(plan: &Plan<'_, C, S>, next: &AtomicUsize, sender: Sender<(usize, SeedRun)>) {
    let suite = (plan.suite)();
    let find = |name: &String| suite.iter().find(|s| s.name() == name).expect("the plan names scenarios of the suite");
    let scenarios: Vec<&Scenario> = plan.scenarios.iter().map(find).collect();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= plan.len() {
            return;
        }
        let (scenario, seed) = plan.job(i);
        let run = SeedRun::execute(scenarios[scenario], seed, &plan.job);
        if sender.send((i, run)).is_err() {
            return;
        }
    }
}

/// Puts every run in its place in plan order as it comes in.
fn gather(receiver: Receiver<(usize, SeedRun)>, total: usize, progress: &mut Progress) -> Vec<Option<SeedRun>> {
    let mut runs: Vec<Option<SeedRun>> = std::iter::repeat_with(|| None).take(total).collect();
    for (i, run) in receiver {
        runs[i] = Some(run);
        progress.advance();
    }
    runs
}
