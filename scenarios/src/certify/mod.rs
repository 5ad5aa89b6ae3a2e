//! `syncsim certify`: the whole suite over many seeds on one implementation, summed up in
//! a table (and, on request, a JSON report, an HTML page with the failing runs' timelines,
//! and JUnit XML), with an exit status for CI: 0 when every scenario passes, 1 on a
//! violation or a seed that does not repeat itself, 2 when it could not decide (a usage
//! error, a run that panicked, a file it could not write).
//!
//! Modules: `implementation` (the reference or a mutant), `run` (one seed, its panic, its
//! determinism, its timeline), `pool` (worker threads, results in a fixed order; its bar is
//! the crate's `progress`), `summary` (verdicts), and the outputs: `table`, `json`, `html`
//! and `junit`.

mod html;
mod implementation;
pub(crate) mod json;
mod junit;
mod pool;
mod run;
mod summary;
mod table;

pub(crate) use implementation::Implementation;

use crate::usage;
use pool::Plan;
use run::Determinism;
use scenarios::suite;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use summary::{Certificate, Summary};

/// Seeds per scenario by default, so that the whole suite takes about a minute on two
/// cores in a release build: measured on its 25 scenarios, a seed of each costs 9 to 11 s
/// of CPU, so 10 seeds take 50 s on two idle cores, 75 s on two shared ones. Lower it when
/// the suite grows; `--seeds` runs more for a longer campaign.
pub(crate) const DEFAULT_SEEDS: u64 = 10;

/// How to certify. Defaults: the reference, every scenario, [`DEFAULT_SEEDS`] seeds, each
/// run once, one worker per available core, no JSON report.
#[derive(clap::Args, Debug)]
pub(crate) struct Options {
    /// Runs seeds 1..=N of each scenario.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEEDS, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Runs only the scenarios whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Certifies this mutant of the catalog instead of the reference (`syncsim list --mutants`).
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
    /// Also writes the verdict as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Also writes a certification page to PATH: the scenario x invariant grid with the
    /// verdicts, seeds, times to converge and coverage, linked to the timeline of every
    /// failing run, written beside it under `runs/`.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// Also writes the verdict as JUnit XML to PATH: a test case per scenario, failures
    /// carrying the violations and the commands that replay them.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Runs every seed twice and fails on any difference between the two histories.
    #[arg(long)]
    check_determinism: bool,
    /// Worker threads [default: the available parallelism, at most one per run].
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
}

/// Certifies as `options` say, prints the table, writes the report, returns the status.
pub(crate) fn certify(options: &Options) -> ExitCode {
    let (implementation, scenarios) = match prepare(options) {
        Ok(prepared) => prepared,
        Err(message) => return usage(&message),
    };
    let pages = options.html.as_deref().map(html::directory);
    if let Some(Err(message)) = &pages {
        return usage(message);
    }
    let certificate = execute(options, implementation, &scenarios, pages.and_then(Result::ok).as_deref());
    print!("{}", table::render(&certificate));
    let written = [
        options.report.as_deref().map(|path| ("report", path, json::write(&certificate, path))),
        options.html.as_deref().map(|path| ("page", path, html::write(&certificate, path))),
        options.junit.as_deref().map(|path| ("JUnit report", path, junit::write(&certificate, path))),
    ];
    let mut status = certificate.verdict().exit_code();
    for (what, path, result) in written.into_iter().flatten() {
        match result {
            Ok(()) => println!("{what}: {}", path.display()),
            Err(e) => status = usage(&format!("could not write the {what} to {}: {e}", path.display())),
        }
    }
    for (seed, error) in certificate.summaries.iter().flat_map(|s| s.timelines.iter()) {
        if let Err(message) = error {
            status = usage(&format!("seed {seed}: {message}"));
        }
    }
    status
}

/// The implementation and the scenarios' names, or what is wrong with the options (or
/// with the paths of the files to write).
fn prepare(options: &Options) -> Result<(Implementation, Vec<String>), String> {
    let implementation = Implementation::resolve(options.mutant.as_deref())?;
    let outputs = [&options.report, &options.html, &options.junit];
    crate::prepare_outputs(outputs.into_iter().flatten().map(PathBuf::as_path))?;
    let filter = options.filter.as_deref();
    let suite = suite::all();
    let names: Vec<String> =
        suite.iter().map(|s| s.name().to_owned()).filter(|name| filter.is_none_or(|f| name.contains(f))).collect();
    if names.is_empty() {
        return Err(format!("no scenario name contains `{}`; `syncsim list` shows them", filter.unwrap_or_default()));
    }
    Ok((implementation, names))
}

/// Runs the plan; failing runs write their timelines under `timelines`, if given.
fn execute(
    options: &Options,
    implementation: Implementation,
    scenarios: &[String],
    timelines: Option<&Path>,
) -> Certificate {
    let determinism = if options.check_determinism { Determinism::Check } else { Determinism::Trust };
    let plan = Plan { scenarios, seeds: options.seeds, implementation, determinism, timelines };
    let runs = pool::run(plan, threads(options.jobs, plan.len()));
    Certificate {
        implementation,
        seeds: options.seeds,
        determinism,
        invariants: syncsim::invariant::all().iter().map(|i| (i.name(), i.expectation())).collect(),
        summaries: scenarios.iter().zip(runs).map(|(name, runs)| Summary::new(name, runs)).collect(),
    }
}

/// `--jobs`, or the available parallelism; never more than the runs, never none.
fn threads(jobs: Option<NonZeroUsize>, runs: usize) -> usize {
    let available = || std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    jobs.map_or_else(available, NonZeroUsize::get).min(runs).max(1)
}
