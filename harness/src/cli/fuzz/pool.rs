//! Runs a campaign's cases on worker threads until the first failure.
//!
//! Workers take cases in campaign order from a shared counter. Once a case fails, no worker
//! starts a later one, and every earlier one has been started and runs to its end: the
//! first failing case, and how many cases ran up to it, do not depend on the number of
//! workers or on their timing.

use crate::fuzz::{run_caught, Campaign, Failure};
use crate::implementation::{Client, Server};
use crate::progress::Progress;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

/// A worker's stack, as large as the main thread's.
const STACK: usize = 8 << 20;

/// What a sweep of cases found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sweep {
    /// Cases run, up to and including the first failing one.
    pub(crate) run: usize,
    /// The first failing case: its position among the swept cases, and how it failed.
    pub(crate) first_failure: Option<(usize, Failure)>,
}

/// Runs cases `indexes` of `campaign` on `client` and `server` with `threads` workers, in
/// order, stopping at the first failure.
pub(crate) fn sweep<C: Client + Sync, S: Server + Sync>(
    campaign: &Campaign,
    indexes: &[u64],
    client: &C,
    server: &S,
    threads: usize,
) -> Sweep {
    let progress = Progress::start(indexes.len(), "cases");
    let (next, first) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
    let (sender, receiver) = mpsc::channel();
    let results = thread::scope(|scope| {
        for i in 0..threads {
            let (sender, next, first) = (sender.clone(), &next, &first);
            let worker = thread::Builder::new().name(format!("fuzz-{i}")).stack_size(STACK);
            #[allow(clippy::disallowed_methods)]
            let spawned = worker.spawn_scoped(scope, move || {
                // allowed: whole runs on workers, none shared
                loop {
                    let position = next.fetch_add(1, Ordering::SeqCst);
                    if position >= indexes.len() || position > first.load(Ordering::SeqCst) {
                        return;
                    }
                    let case = campaign.case(indexes[position]);
                    let outcome = run_caught(&case.scenario(&campaign.capabilities), client, server, case.seed);
                    let failure = Failure::of(&outcome);
                    if failure.is_some() {
                        first.fetch_min(position, Ordering::SeqCst);
                    }
                    if sender.send((position, failure)).is_err() {
                        return;
                    }
                }
            });
            spawned.expect("the OS starts a worker thread");
        }
        drop(sender);
        let mut results: Vec<Option<Option<Failure>>> = vec![None; indexes.len()];
        for (position, failure) in receiver {
            results[position] = Some(failure);
            progress.advance();
        }
        results
    });
    progress.finish();
    let first_failure = results.into_iter().enumerate().find_map(|(i, r)| r.flatten().map(|failure| (i, failure)));
    let run = first_failure.as_ref().map_or(indexes.len(), |(position, _)| position + 1);
    Sweep { run, first_failure }
}
