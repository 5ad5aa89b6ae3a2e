//! Certification: every scenario of the suite over many seeds on one implementation, summed
//! up in a [`Certificate`] that prints as a table and writes JSON, JUnit XML and an HTML
//! page, or fails a test with every violation and the command that replays it.
//!
//! ```no_run
//! # fn demo<C: syncsim::Client + Sync, S: syncsim::Server + Sync>(client: C, server: S) {
//! use syncsim::certify::Certification;
//!
//! let certificate = Certification::new(client, server).seeds(4).run();
//! print!("{}", certificate.table());
//! certificate.write_junit(std::path::Path::new("target/certify.xml")).unwrap();
//! certificate.assert_pass();
//! # }
//! ```
//!
//! A scenario about something the implementation does not declare
//! ([`crate::Scenario::applies_to`]) is not run: it is `not applicable`, with the reason,
//! in every output, and never counts as a pass.
//!
//! Modules: `subject` (how reports name the implementation and replay a seed), `run` (one
//! seed, its panic, its determinism, its timeline), `plan` (every run of a certification,
//! on the worker pool, in a fixed order), `summary` (verdicts), and the outputs: `table`,
//! `json`, `html`, `junit`.

mod html;
pub(crate) mod json;
mod junit;
mod plan;
mod run;
mod subject;
mod summary;
mod table;

pub use crate::history::Divergence;
pub use run::Determinism;
pub use subject::{Planted, Subject};
pub use summary::{Certificate, Verdict};

use crate::capability::Capabilities;
use crate::implementation::{Client, Server};
use crate::live::Commands;
use crate::Scenario;
use plan::Plan;
use run::Job;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use summary::Summary;

/// Seeds per scenario by default, so that the whole suite takes about a minute on two
/// cores in a release build: measured on the reference, a seed of each of the 30
/// scenarios costs 9 to 11 s of CPU. `Certification::seeds` runs more for a longer
/// campaign.
pub const DEFAULT_SEEDS: u64 = 10;

/// A certification of one implementation, built by value and run once or many times.
///
/// Defaults: every scenario of [`crate::suite::all`], [`DEFAULT_SEEDS`] seeds each, every
/// seed run once, one worker per available core, [`Subject::default`] (named after the
/// package that runs it, replayed with its `run` command), no timelines written.
#[must_use]
pub struct Certification<C, S> {
    client: C,
    server: S,
    subject: Subject,
    seeds: u64,
    filter: Option<String>,
    jobs: Option<NonZeroUsize>,
    determinism: Determinism,
    timelines: Option<PathBuf>,
    suite: fn() -> Vec<Scenario>,
    live: Option<Commands>,
}

impl<C: Client + Sync, S: Server + Sync> Certification<C, S> {
    /// Certifies `client` and `server` together.
    pub fn new(client: C, server: S) -> Self {
        Certification {
            client,
            server,
            subject: Subject::default(),
            seeds: DEFAULT_SEEDS,
            filter: None,
            jobs: None,
            determinism: Determinism::Trust,
            timelines: None,
            suite: crate::suite::all,
            live: None,
        }
    }

    /// How reports name the implementation and replay a failing seed.
    pub fn subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }

    /// Runs seeds `1..=seeds` of each scenario. Panics on 0.
    pub fn seeds(mut self, seeds: u64) -> Self {
        assert!(seeds > 0, "a certification runs at least one seed per scenario");
        self.seeds = seeds;
        self
    }

    /// Runs only the scenarios whose name contains `text`.
    pub fn filter(mut self, text: &str) -> Self {
        self.filter = Some(text.to_owned());
        self
    }

    /// Worker threads (default: the available parallelism, at most one per run). The
    /// certificate does not depend on it.
    pub fn jobs(mut self, jobs: NonZeroUsize) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Runs every seed twice and fails on any difference between the two histories.
    pub fn check_determinism(mut self) -> Self {
        self.determinism = Determinism::Check;
        self
    }

    /// Writes the timeline of every failing run under `dir` (`runs/SCENARIO-SEED.html`),
    /// where [`Certificate::write_html`]'s page links to them.
    pub fn timelines(mut self, dir: &Path) -> Self {
        self.timelines = Some(dir.to_owned());
        self
    }

    /// Certifies against these scenarios instead of the suite's (built once per worker:
    /// scenarios stay on their thread).
    pub fn scenarios(mut self, suite: fn() -> Vec<Scenario>) -> Self {
        self.suite = suite;
        self
    }

    /// Runs the implementation live instead (`DRIVERS.md`): `commands` start its server and
    /// a driver per device boot, in real time, each device behind its port of the fault
    /// proxy. The client declares what it has in its driver's hello; the server declares
    /// what `S` does. Scenarios that cannot run in real time ([`crate::live::fits`]) are not
    /// applicable, with the reason; a seed replays the plan, not the timing.
    pub fn live(mut self, commands: Commands) -> Self {
        self.live = Some(commands);
        self
    }

    /// The names of the scenarios it runs, in suite order; empty when the filter matches
    /// none.
    pub fn scenario_names(&self) -> Vec<String> {
        let filter = self.filter.as_deref();
        let names = (self.suite)().into_iter().map(|s| s.name().to_owned());
        names.filter(|name| filter.is_none_or(|f| name.contains(f))).collect()
    }

    /// Runs the certification: the applicable scenarios' seeds on the workers, the others
    /// noted with the reason they do not apply.
    pub fn run(&self) -> Certificate {
        let own = Capabilities::of(&self.client, &self.server);
        let (capabilities, client) = match &self.live {
            None => (own, None),
            Some(commands) => match crate::live::declared(commands, own) {
                Ok(declared) => declared,
                Err(why) => return self.undecided(&why),
            },
        };
        let suite = (self.suite)();
        let names = self.scenario_names();
        let reasons: Vec<Option<String>> = names
            .iter()
            .map(|name| {
                suite.iter().find(|s| s.name() == name).and_then(|s| self.reason_not_applicable(s, &capabilities))
            })
            .collect();
        let applicable: Vec<String> =
            names.iter().zip(&reasons).filter(|(_, reason)| reason.is_none()).map(|(n, _)| n.clone()).collect();
        let job = Job {
            client: &self.client,
            server: &self.server,
            live: self.live.as_ref().map(|commands| (commands, &capabilities)),
            subject: &self.subject,
            determinism: self.determinism,
            timelines: self.timelines.as_deref(),
        };
        let plan = Plan { scenarios: &applicable, suite: self.suite, seeds: self.seeds, job };
        let mut runs = plan.run(threads(self.jobs, plan.len())).into_iter();
        let summaries = names
            .iter()
            .zip(reasons)
            .map(|(name, reason)| match reason {
                Some(reason) => Summary::not_applicable(name, reason),
                None => Summary::new(name, runs.next().expect("a row of runs per applicable scenario")),
            })
            .collect();
        let mut certificate = self.certificate(summaries);
        if let Some(client) = client.filter(|client| *client != self.subject.name) {
            certificate.subject.name = format!("{} (client: {client})", self.subject.name);
        }
        certificate
    }

    /// Why `scenario` does not apply: to what the implementation declares, or, live, to
    /// real time.
    fn reason_not_applicable(&self, scenario: &Scenario, capabilities: &Capabilities) -> Option<String> {
        let declared = scenario.applies_to(capabilities).err();
        let live = self.live.as_ref().and_then(|_| crate::live::fits(scenario).err()).map(|why| format!("live: {why}"));
        declared.or(live)
    }

    /// Every scenario undecided for `why`: the live client's driver could not even say
    /// hello.
    fn undecided(&self, why: &str) -> Certificate {
        let runs = |name: &String| {
            let replay = self.subject.replay_command(name, 1);
            Summary::new(name, vec![run::SeedRun::undecided(1, replay, why.to_owned())])
        };
        self.certificate(self.scenario_names().iter().map(runs).collect())
    }

    fn certificate(&self, summaries: Vec<Summary>) -> Certificate {
        Certificate {
            subject: self.subject.clone(),
            seeds: self.seeds,
            determinism: self.determinism,
            live: self.live.is_some(),
            invariants: crate::invariant::all().iter().map(|i| (i.name(), i.expectation())).collect(),
            summaries,
        }
    }

    /// Runs the certification and panics unless it passes, once, with the table and every
    /// problem with its replay command. For `cargo test`.
    #[track_caller]
    pub fn assert_pass(&self) -> Certificate {
        let certificate = self.run();
        certificate.assert_pass();
        certificate
    }
}

impl Certificate {
    /// The certificate for a terminal: a row per scenario, a column per invariant, a
    /// legend, the scenarios that do not apply and why, and every problem with the command
    /// that replays it.
    pub fn table(&self) -> String {
        table::render(self)
    }

    /// Writes the verdict as JSON to `path` (`verdict`, `seeds`, `scenarios` with their
    /// violations and replay commands, or the reason they do not apply, and the build).
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        json::write(self, path)
    }

    /// Writes the verdict as JUnit XML to `path`: a test case per scenario, a violated one
    /// a `<failure>`, a panicked one an `<error>`, one that does not apply `<skipped>`.
    pub fn write_junit(&self, path: &Path) -> std::io::Result<()> {
        junit::write(self, path)
    }

    /// Writes the certification page to `path`: the grid, coverage and problems, linked to
    /// the timelines written by [`Certification::timelines`] of the page's directory.
    pub fn write_html(&self, path: &Path) -> std::io::Result<()> {
        html::write(self, path)
    }

    /// Panics unless the verdict is a pass, with the whole table: every violation, its
    /// seed and the command that replays it.
    #[track_caller]
    pub fn assert_pass(&self) {
        let verdict = self.verdict();
        assert!(verdict == Verdict::Pass, "certification verdict: {}\n{}", verdict.as_str(), self.table());
    }
}

impl Certificate {
    /// The failing runs whose timeline could not be written, with why.
    pub(crate) fn unwritten_timelines(&self) -> impl Iterator<Item = (u64, &str)> {
        let timelines = self.summaries.iter().flat_map(|s| s.timelines.iter());
        timelines.filter_map(|(seed, written)| written.as_ref().err().map(|message| (*seed, message.as_str())))
    }
}

/// The page's directory, with its `runs/` directory created for the timelines.
pub fn timelines_beside(page: &Path) -> Result<PathBuf, String> {
    html::directory(page)
}

/// `jobs`, or the available parallelism; never more than the runs, never none.
fn threads(jobs: Option<NonZeroUsize>, runs: usize) -> usize {
    let available = || std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    jobs.map_or_else(available, NonZeroUsize::get).min(runs).max(1)
}
