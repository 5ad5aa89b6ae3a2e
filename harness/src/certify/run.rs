//! One run of a certification: a scenario, a seed, what its invariants found, and what
//! became of it when it panicked or, checked twice, did not repeat itself.

use super::subject::Subject;
use super::summary::Verdict;
use crate::fuzz::panic_message;
use crate::history::Divergence;
use crate::implementation::{Client, Server};
use crate::report::{Finding, Report};
use crate::Scenario;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

/// Whether every seed runs a second time to prove the simulation repeats itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Determinism {
    /// Run each seed once. The default.
    #[default]
    Trust,
    /// Run each seed twice and fail on any difference between the two histories.
    Check,
}

/// One seed of one scenario, run.
#[derive(Debug)]
pub(crate) struct SeedRun {
    /// The seed.
    pub(crate) seed: u64,
    /// The command that replays it.
    pub(crate) replay: String,
    /// What came of it.
    pub(crate) outcome: RunOutcome,
    /// Its timeline, for a failing run when timelines were asked for: the file's path
    /// relative to the certification page, or why it could not be written.
    pub(crate) timeline: Option<Result<String, String>>,
}

/// What came of a run.
#[derive(Debug)]
pub(crate) enum RunOutcome {
    /// It ran to the end and its invariants were checked.
    Checked {
        /// One finding per invariant the scenario checks.
        findings: Vec<Finding>,
        /// Virtual time from the final phase to convergence, if reached.
        converged_after_ms: Option<u64>,
        /// How the second run differed, when determinism was checked and it did.
        divergence: Option<Divergence>,
    },
    /// It decided nothing, with why: it panicked (a harness bug, or an implementation the
    /// harness could not drive: `panicked: MESSAGE`), or a live run's process misbehaved.
    Undecided(String),
}

/// What every run of one certification shares: the implementation, how reports name it,
/// whether seeds run twice, where failing runs write their timelines.
pub(crate) struct Job<'a, C, S> {
    pub(crate) client: &'a C,
    pub(crate) server: &'a S,
    /// Live: the commands, and what the implementation declares.
    pub(crate) live: Option<(&'a crate::live::Commands, &'a crate::capability::Capabilities)>,
    pub(crate) subject: &'a Subject,
    pub(crate) determinism: Determinism,
    /// The certification page's directory, when failing runs write their timelines there.
    pub(crate) timelines: Option<&'a Path>,
}

impl SeedRun {
    /// Runs seed `seed` of `scenario` as `job` says, twice under [`Determinism::Check`]. A
    /// panic becomes [`RunOutcome::Undecided`], not the caller's. A run that violates an
    /// invariant writes its timeline when `job` names a directory for them.
    pub(crate) fn execute<C: Client, S: Server>(scenario: &Scenario, seed: u64, job: &Job<'_, C, S>) -> Self {
        let checked = panic::catch_unwind(AssertUnwindSafe(|| check(scenario, seed, job)));
        let (outcome, report) = match checked {
            Ok(Ok((outcome, report))) => (outcome, Some(report)),
            Ok(Err(why)) => (RunOutcome::Undecided(why), None),
            Err(payload) => (RunOutcome::Undecided(format!("panicked: {}", panic_message(payload.as_ref()))), None),
        };
        let failed = report.filter(|report| !report.ok());
        let timeline = job.timelines.zip(failed).map(|(dir, report)| write_timeline(dir, &report, job.subject));
        SeedRun { seed, replay: job.subject.replay_command(scenario.name(), seed), outcome, timeline }
    }

    /// A run that decided nothing for `why`, without running.
    pub(crate) fn undecided(seed: u64, replay: String, why: String) -> Self {
        SeedRun { seed, replay, outcome: RunOutcome::Undecided(why), timeline: None }
    }

    /// Fail on a violation or a divergence, unknown on a panic, else pass.
    pub(crate) fn verdict(&self) -> Verdict {
        match &self.outcome {
            RunOutcome::Undecided(_) => Verdict::Unknown,
            RunOutcome::Checked { divergence: Some(_), .. } => Verdict::Fail,
            RunOutcome::Checked { findings, .. } if findings.iter().any(|f| !f.violations.is_empty()) => Verdict::Fail,
            RunOutcome::Checked { .. } => Verdict::Pass,
        }
    }
}

/// Runs and checks one seed; `Err` when a live run decided nothing.
fn check<C: Client, S: Server>(
    scenario: &Scenario,
    seed: u64,
    job: &Job<'_, C, S>,
) -> Result<(RunOutcome, Report), String> {
    let history = match job.live {
        Some((commands, capabilities)) => crate::live::execute(scenario, commands, capabilities, seed)?,
        None => scenario.history(job.client, job.server, seed),
    };
    let divergence = match job.determinism {
        Determinism::Trust => None,
        Determinism::Check => Divergence::between(&history, &scenario.history(job.client, job.server, seed)),
    };
    let mut report = scenario.check(history);
    report.replay = job.subject.replay_command(scenario.name(), seed);
    let findings = report.findings.clone();
    Ok((RunOutcome::Checked { findings, converged_after_ms: report.converged_after_ms, divergence }, report))
}

/// Writes `report`'s timeline under `dir`: the same page as `run ... --html`.
fn write_timeline(dir: &Path, report: &Report, subject: &Subject) -> Result<String, String> {
    let relative = subject.timeline_path(&report.scenario, report.seed);
    let path = dir.join(&relative);
    report.write_timeline(&path).map(|()| relative).map_err(|e| format!("could not write the timeline: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_run_is_unknown_with_its_message() {
        let payload: Box<dyn std::any::Any + Send> = Box::new(format!("the simulation stopped: {}", 42));
        assert_eq!(panic_message(payload.as_ref()), "the simulation stopped: 42");
        let run = SeedRun {
            seed: 3,
            replay: String::new(),
            outcome: RunOutcome::Undecided("panicked: boom".to_owned()),
            timeline: None,
        };
        assert_eq!(run.verdict(), Verdict::Unknown, "a panic decides nothing about the implementation");
    }
}
