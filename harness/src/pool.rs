//! Runs numbered jobs on worker threads, with a progress bar, and hands their results back
//! in job order.
//!
//! turmoil keeps a simulation's world in a thread local, so a job (a whole run) is one
//! worker's from start to end; scenarios hold `Rc`s, so each worker builds what its jobs
//! share with its own `setup`. Workers take jobs in order from a shared counter and keep
//! their results; when they end the results are put in job order, so what is printed does
//! not depend on the number of workers or on their timing.
//!
//! Not rayon: its workers split the range of jobs in halves and steal from each other, so
//! job `len / 2` starts before job 1. Stopping at the first failure needs jobs started in
//! order, or a campaign would spend its workers on cases after a failure that a single
//! worker never reaches. A counter and scoped threads do that in a few lines of `std`.

use crate::progress::Progress;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// A worker's stack, as large as the main thread's: a run that `syncsim run` completes
/// must not overflow on a worker.
const STACK: usize = 8 << 20;

/// Worker threads named `{name}-{i}`, counting finished jobs in `unit`s on the bar.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pool {
    /// Names the threads: `certify`, `fuzz`.
    pub(crate) name: &'static str,
    /// How many threads, at most one per job and at least one.
    pub(crate) workers: usize,
    /// What a job is to the progress bar: `runs`, `cases`.
    pub(crate) unit: &'static str,
}

impl Pool {
    /// Runs jobs `0..len`: `setup` once on each worker, then `job(&setup's result, i)`
    /// for each job `i` the worker takes. Returns every result, in job order.
    pub(crate) fn run<W, T: Send>(
        &self,
        len: usize,
        setup: impl Fn() -> W + Sync,
        job: impl Fn(&W, usize) -> T + Sync,
    ) -> Vec<T> {
        self.run_until(len, setup, job, |_| false)
    }

    /// Like [`run`](Self::run), but stops at the first result that `failed` says is a
    /// failure: once job `i` has failed no job after `i` is started, and every job before
    /// `i` runs to its end. Returns the results of jobs `0..=i`, or of all of them when
    /// none fails, whatever the number of workers.
    pub(crate) fn run_until<W, T: Send>(
        &self,
        len: usize,
        setup: impl Fn() -> W + Sync,
        job: impl Fn(&W, usize) -> T + Sync,
        failed: impl Fn(&T) -> bool + Sync,
    ) -> Vec<T> {
        let progress = Progress::start(len, self.unit);
        let (next, first) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
        let worker = || {
            let state = setup();
            let mut done = Vec::new();
            loop {
                // Jobs are taken in order, so every job before a failure has been taken
                // (and will finish) by the time the failure is known.
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= len || i > first.load(Ordering::SeqCst) {
                    return done;
                }
                let result = job(&state, i);
                if failed(&result) {
                    first.fetch_min(i, Ordering::SeqCst);
                }
                done.push((i, result));
                progress.advance();
            }
        };
        let finished = self.spawn(len, &worker);
        progress.finish();
        let end = first.into_inner().saturating_add(1).min(len);
        in_order(finished, end)
    }

    /// Runs `worker` on each thread and gathers what the threads finished.
    fn spawn<T: Send>(&self, len: usize, worker: &(impl Fn() -> Vec<(usize, T)> + Sync)) -> Vec<(usize, T)> {
        thread::scope(|scope| {
            let threads: Vec<_> = (0..self.workers.min(len).max(1))
                .map(|i| {
                    let builder = thread::Builder::new().name(format!("{}-{i}", self.name)).stack_size(STACK);
                    #[allow(clippy::disallowed_methods)]
                    let spawned = builder.spawn_scoped(scope, worker); // allowed: whole runs on workers, none shared
                    spawned.expect("the OS starts a worker thread")
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }
}

/// The results of jobs `0..end` in job order, dropping any later job a worker had started
/// before the failure that ends the sweep was known.
fn in_order<T>(finished: Vec<(usize, T)>, end: usize) -> Vec<T> {
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(end).collect();
    for (i, result) in finished.into_iter().filter(|(i, _)| *i < end) {
        slots[i] = Some(result);
    }
    slots.into_iter().map(|slot| slot.expect("every job before the first failure runs to its end")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn pool(workers: usize) -> Pool {
        Pool { name: "test", workers, unit: "jobs" }
    }

    #[test]
    fn results_come_back_in_job_order_whatever_the_number_of_workers() {
        for workers in 1..=4 {
            let squares = pool(workers).run(20, || (), |_, i| i * i);
            assert_eq!(squares, (0..20).map(|i| i * i).collect::<Vec<_>>(), "{workers} workers");
        }
    }

    #[test]
    fn a_job_runs_whole_on_the_named_worker_that_set_it_up() {
        let setup = || (Rc::new(()), thread::current().id());
        let on_own_thread = pool(3).run(12, setup, |(_, id), _| {
            let name = thread::current().name().map(str::to_owned);
            *id == thread::current().id() && name.is_some_and(|name| name.starts_with("test-"))
        });
        assert!(on_own_thread.iter().all(|&ok| ok), "an `Rc` built by setup never leaves its thread");
    }

    #[test]
    fn the_first_failure_ends_the_sweep_whatever_the_number_of_workers() {
        for workers in 1..=4 {
            let results = pool(workers).run_until(40, || (), |_, i| i, |&i| i == 7 || i == 11 || i == 30);
            assert_eq!(results, (0..=7).collect::<Vec<_>>(), "{workers} workers: jobs up to the first failure");
        }
    }

    #[test]
    fn one_worker_starts_no_job_after_a_failure() {
        let started = AtomicUsize::new(0);
        let results = pool(1).run_until(
            40,
            || (),
            |_, i| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |&i| i == 7,
        );
        assert_eq!((results.len(), started.into_inner()), (8, 8), "jobs 0 to 7 and no other");
    }

    #[test]
    fn no_jobs_give_no_results() {
        assert!(pool(2).run(0, || (), |_, i| i).is_empty());
    }
}
