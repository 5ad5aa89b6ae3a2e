//! Verdicts: what a run's invariants found, and how to replay it.

use crate::error::{Error, Result};
use crate::history::{EventKind, History};
use crate::invariant::{Expectation, Violation};
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What one invariant found in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The invariant's stable name.
    pub invariant: &'static str,
    /// When it must hold.
    pub expectation: Expectation,
    /// Its violations, in time order.
    pub violations: Vec<Violation>,
    /// For Sometimes invariants: how many times the run reached the case.
    pub hits: u64,
}

/// The verdict of one run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// One finding per invariant checked.
    pub findings: Vec<Finding>,
    /// Virtual time from the start of the final phase to convergence, if reached.
    pub converged_after_ms: Option<u64>,
    /// The command that replays this run.
    pub replay: String,
    /// The whole history.
    pub history: History,
}

impl Report {
    pub(crate) fn new(scenario: &Scenario, history: History) -> Self {
        let findings = scenario
            .invariants()
            .iter()
            .map(|inv| {
                let check = inv.check(&history);
                Finding {
                    invariant: inv.name(),
                    expectation: inv.expectation(),
                    violations: check.violations,
                    hits: check.hits,
                }
            })
            .collect();
        let converged_after_ms = history.events.iter().find_map(|e| match e.kind {
            EventKind::Converged { after_ms } => Some(after_ms),
            _ => None,
        });
        Report {
            scenario: scenario.name().to_owned(),
            seed: history.header.seed,
            findings,
            converged_after_ms,
            replay: scenario.replay_command(history.header.seed),
            history,
        }
    }

    /// Whether no invariant was violated.
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| f.violations.is_empty())
    }

    /// Every violation, invariant by invariant.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.findings.iter().flat_map(|f| &f.violations)
    }

    /// The finding of invariant `name`, if it was checked.
    pub fn finding(&self, name: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.invariant == name)
    }

    /// Writes the history as JSON lines to `path`.
    pub fn write_history(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, self.history.to_jsonl()).map_err(io)
    }

    /// Where a failing run's history goes: `$SYNCSIM_HISTORY_DIR` or the system's
    /// temporary directory, under `syncsim/<scenario>-<seed>.jsonl`.
    pub fn default_history_path(&self) -> PathBuf {
        let dir =
            std::env::var_os("SYNCSIM_HISTORY_DIR").map_or_else(|| std::env::temp_dir().join("syncsim"), PathBuf::from);
        dir.join(format!("{}-{}.jsonl", self.scenario, self.seed))
    }

    /// Panics with the report when an invariant was violated, after writing the history
    /// to [`Report::default_history_path`]. The one place a failing test panics.
    #[track_caller]
    pub fn assert_ok(&self) {
        if self.ok() {
            return;
        }
        let path = self.default_history_path();
        let written = match self.write_history(&path) {
            Ok(()) => format!("history: {}", path.display()),
            Err(e) => format!("history not written: {e}"),
        };
        panic!("{self}{written}");
    }

    /// The timeline in human form: one line per event, `  12.345s device0 ...`.
    pub fn timeline(&self) -> String {
        let mut out = String::new();
        for event in &self.history.events {
            out.push_str(&event.line());
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.ok() { "pass" } else { "FAIL" };
        writeln!(f, "scenario {} seed {}: {verdict}", self.scenario, self.seed)?;
        for finding in &self.findings {
            match (finding.expectation, finding.violations.first()) {
                (_, Some(first)) => {
                    writeln!(f, "  violated: {first}")?;
                    if finding.violations.len() > 1 {
                        writeln!(f, "    ({} more violations of {})", finding.violations.len() - 1, finding.invariant)?;
                    }
                }
                (Expectation::Sometimes, None) => {
                    writeln!(f, "  reached {} times: {}", finding.hits, finding.invariant)?
                }
                (_, None) => {}
            }
        }
        match self.converged_after_ms {
            Some(ms) => writeln!(f, "  converged {ms} ms into the final phase")?,
            None => writeln!(f, "  did not converge")?,
        }
        writeln!(f, "  replay: {}", self.replay)
    }
}

/// The verdicts of a seed sweep of one scenario.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Failing runs, whole.
    pub failures: Vec<Report>,
    /// Sometimes counters summed over the sweep, by invariant.
    pub hits: BTreeMap<&'static str, u64>,
    /// Time to converge of each run that converged (ms), in seed order.
    pub converge_ms: Vec<u64>,
}

impl Sweep {
    pub(crate) fn new(scenario: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            seeds: Vec::new(),
            failures: Vec::new(),
            hits: BTreeMap::new(),
            converge_ms: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, report: Report) {
        self.seeds.push(report.seed);
        for finding in &report.findings {
            if finding.expectation == Expectation::Sometimes {
                *self.hits.entry(finding.invariant).or_default() += finding.hits;
            }
        }
        self.converge_ms.extend(report.converged_after_ms);
        if !report.ok() {
            self.failures.push(report);
        }
    }

    /// Whether every run passed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The slowest convergence of the sweep (ms).
    pub fn max_converge_ms(&self) -> Option<u64> {
        self.converge_ms.iter().copied().max()
    }

    /// Panics with the first failing run's report (its history written), if any failed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if let Some(first) = self.failures.first() {
            let seeds: Vec<u64> = self.failures.iter().map(|r| r.seed).collect();
            eprintln!("{} of {} seeds failed: {seeds:?}", self.failures.len(), self.seeds.len());
            first.assert_ok();
        }
    }

    /// Panics unless the Sometimes invariant `name` was reached in at least one run.
    #[track_caller]
    pub fn assert_reached(&self, name: &str) {
        let hits = self.hits.get(name).copied().unwrap_or(0);
        assert!(
            hits > 0,
            "scenario {}: `{name}` was never reached in {} seeds: the sweep does not explore it",
            self.scenario,
            self.seeds.len()
        );
    }
}
