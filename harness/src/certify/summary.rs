//! Verdicts: a scenario's runs summed up into one row, and the rows into a certificate.

use super::run::{Determinism, RunOutcome, SeedRun};
use super::subject::Subject;
use crate::history::Divergence;
use crate::invariant::{Expectation, Violation};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// What a run, a scenario or a whole certification proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The scenario is about something the implementation does not declare: not run.
    NotApplicable,
    /// Every invariant held on every seed.
    Pass,
    /// A run panicked: nothing is proved either way (exit status 2).
    Unknown,
    /// An invariant was violated, or a seed did not repeat itself (exit status 1).
    Fail,
}

impl Verdict {
    /// The verdict of several: a failure is a proof and outweighs an undecided run, which
    /// outweighs passes, which outweigh scenarios that do not apply. None at all is not
    /// applicable: nothing was proved.
    pub fn of(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::NotApplicable)
    }

    /// How reports spell it: `pass`, `fail`, `unknown`, `not_applicable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NotApplicable => "not_applicable",
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }

    /// The exit status of a command whose verdict this is: 0 on a pass, 1 on a failure,
    /// 2 when undecided or when nothing applied.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Unknown | Verdict::NotApplicable => 2,
        })
    }
}

/// Something that went wrong in one seed, with the command that replays it.
#[derive(Clone, Debug)]
pub(crate) struct Sample<T> {
    /// The seed.
    pub(crate) seed: u64,
    /// The command that replays it.
    pub(crate) replay: String,
    /// What went wrong.
    pub(crate) what: T,
}

impl<T> Sample<T> {
    fn new(seed: u64, replay: &str, what: T) -> Self {
        Sample { seed, replay: replay.to_owned(), what }
    }
}

/// One scenario's runs, summed up.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    /// The scenario's name.
    pub(crate) scenario: String,
    /// Seeds run, panicked ones included.
    pub(crate) seeds_run: usize,
    /// Fail if any seed failed, else unknown if any panicked, else pass.
    pub(crate) verdict: Verdict,
    /// Times to converge of the runs that converged (virtual ms), sorted.
    pub(crate) converge_ms: Vec<u64>,
    /// The invariants checked, in report order, with their expectations and, for
    /// Sometimes ones, the hits summed over the seeds.
    pub(crate) checked: Vec<(&'static str, Expectation, u64)>,
    /// Every violation, seed by seed, in time order within a seed.
    pub(crate) violations: Vec<Sample<Violation>>,
    /// Why the scenario does not apply to the implementation, when it does not.
    pub(crate) not_applicable: Option<String>,
    /// Runs that decided nothing, with why: `panicked: MESSAGE`, or what went wrong with
    /// a live run's processes.
    pub(crate) undecided: Vec<Sample<String>>,
    /// Seeds whose second run differed from the first.
    pub(crate) divergences: Vec<Sample<Divergence>>,
    /// The timelines written of failing seeds, by seed: the path relative to the
    /// certification page, or why it could not be written.
    pub(crate) timelines: BTreeMap<u64, Result<String, String>>,
}

impl Summary {
    /// Sums up the runs of scenario `scenario`, in seed order.
    pub(crate) fn new(scenario: &str, runs: Vec<SeedRun>) -> Self {
        let mut summary = Summary {
            scenario: scenario.to_owned(),
            seeds_run: runs.len(),
            verdict: Verdict::of(runs.iter().map(SeedRun::verdict)),
            not_applicable: None,
            converge_ms: Vec::new(),
            checked: Vec::new(),
            violations: Vec::new(),
            undecided: Vec::new(),
            divergences: Vec::new(),
            timelines: BTreeMap::new(),
        };
        for run in runs {
            summary.add(run);
        }
        summary.converge_ms.sort_unstable();
        summary
    }

    /// A scenario that does not apply, and why.
    pub(crate) fn not_applicable(scenario: &str, reason: String) -> Self {
        let mut summary = Summary::new(scenario, Vec::new());
        summary.verdict = Verdict::NotApplicable;
        summary.not_applicable = Some(reason);
        summary
    }

    fn add(&mut self, run: SeedRun) {
        let (seed, replay) = (run.seed, run.replay.as_str());
        self.timelines.extend(run.timeline.map(|timeline| (seed, timeline)));
        match run.outcome {
            RunOutcome::Undecided(message) => self.undecided.push(Sample::new(seed, replay, message)),
            RunOutcome::Checked { findings, converged_after_ms, divergence } => {
                self.converge_ms.extend(converged_after_ms);
                self.divergences.extend(divergence.map(|d| Sample::new(seed, replay, d)));
                for finding in findings {
                    self.count(finding.invariant, finding.expectation, finding.hits);
                    self.violations.extend(finding.violations.into_iter().map(|v| Sample::new(seed, replay, v)));
                }
            }
        }
    }

    fn count(&mut self, invariant: &'static str, expectation: Expectation, hits: u64) {
        match self.checked.iter_mut().find(|(name, ..)| *name == invariant) {
            Some((.., sum)) => *sum += hits,
            None => self.checked.push((invariant, expectation, hits)),
        }
    }

    /// Whether the scenario checks `invariant`, and for a Sometimes one, its hits.
    pub(crate) fn hits(&self, invariant: &str) -> Option<u64> {
        self.checked.iter().find(|(name, ..)| *name == invariant).map(|(.., hits)| *hits)
    }

    /// The median time to converge (the lower middle for an even count), if any run did.
    pub(crate) fn median_converge_ms(&self) -> Option<u64> {
        self.converge_ms.get(self.converge_ms.len().saturating_sub(1) / 2).copied()
    }

    /// The slowest time to converge, if any run did.
    pub(crate) fn max_converge_ms(&self) -> Option<u64> {
        self.converge_ms.last().copied()
    }

    /// The first violation of `invariant` in each seed that violated it, seed order.
    pub(crate) fn first_per_seed(&self, invariant: &str) -> Vec<&Sample<Violation>> {
        let mut firsts: Vec<&Sample<Violation>> = Vec::new();
        for sample in self.violations.iter().filter(|s| s.what.invariant == invariant) {
            if firsts.last().is_none_or(|last| last.seed != sample.seed) {
                firsts.push(sample);
            }
        }
        firsts
    }

    /// How many violations of `invariant` the runs found, over every seed.
    pub(crate) fn violation_count(&self, invariant: &str) -> usize {
        self.violations.iter().filter(|s| s.what.invariant == invariant).count()
    }

    /// The timeline of seed `seed`, relative to the certification page, if it was written.
    pub(crate) fn timeline(&self, seed: u64) -> Option<&str> {
        self.timelines.get(&seed).and_then(|t| t.as_deref().ok())
    }

    /// The invariants violated, in the order the scenario checks them.
    pub(crate) fn violated(&self) -> Vec<&'static str> {
        self.checked.iter().map(|(name, ..)| *name).filter(|name| self.violation_count(name) > 0).collect()
    }
}

/// A whole certification: how it was run, and one summary per scenario. Print it with
/// [`Certificate::table`], write it with [`Certificate::write_json`],
/// [`Certificate::write_junit`] and [`Certificate::write_html`], or fail a test with
/// [`Certificate::assert_pass`].
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The implementation under test.
    pub(crate) subject: Subject,
    /// Seeds run per scenario (`1..=seeds`).
    pub(crate) seeds: u64,
    /// Whether every seed was run twice.
    pub(crate) determinism: Determinism,
    /// Whether it ran live: real processes in real time, a seed replaying the plan, not
    /// the timing.
    pub(crate) live: bool,
    /// The invariants, in report order, with their expectations: the table's columns.
    pub(crate) invariants: Vec<(&'static str, Expectation)>,
    /// One summary per scenario, in suite order.
    pub(crate) summaries: Vec<Summary>,
}

impl Certificate {
    /// The verdict over every scenario: not applicable ones count only when nothing else
    /// ran.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.summaries.iter().map(|s| s.verdict))
    }

    /// Each scenario's name and verdict, in suite order.
    pub fn verdicts(&self) -> impl Iterator<Item = (&str, Verdict)> {
        self.summaries.iter().map(|s| (s.scenario.as_str(), s.verdict))
    }

    /// Why scenario `name` does not apply, if it does not.
    pub fn not_applicable(&self, name: &str) -> Option<&str> {
        self.summaries.iter().find(|s| s.scenario == name).and_then(|s| s.not_applicable.as_deref())
    }

    /// For a mutant: the scenarios where its expected invariant caught it, with the seeds
    /// that did. `None` when no bug was planted.
    pub fn caught(&self) -> Option<Vec<(&str, usize)>> {
        let planted = self.subject.planted.as_ref()?;
        let caught = self.summaries.iter().map(|s| (s.scenario.as_str(), s.first_per_seed(&planted.caught_by).len()));
        Some(caught.filter(|(_, seeds)| *seeds > 0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outweighs_an_undecided_run_which_outweighs_a_pass() {
        use Verdict::*;
        assert_eq!(Verdict::of([Pass, Unknown, Pass]), Unknown);
        assert_eq!(Verdict::of([Unknown, Fail, Pass]), Fail, "a violation is a proof, a panic is not");
        assert_eq!(Verdict::of([NotApplicable, Pass]), Pass, "a scenario that does not apply proves nothing");
        assert_eq!(Verdict::of([]), NotApplicable, "nothing ran: nothing was proved");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle() {
        let runs = [300, 100, 200, 400].map(|ms| SeedRun {
            seed: ms,
            replay: String::new(),
            outcome: RunOutcome::Checked { findings: Vec::new(), converged_after_ms: Some(ms), divergence: None },
            timeline: None,
        });
        let summary = Summary::new("s", runs.into());
        assert_eq!((summary.median_converge_ms(), summary.max_converge_ms()), (Some(200), Some(400)));
    }
}
