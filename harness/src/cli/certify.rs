//! `certify`: the whole suite over many seeds on the implementation or one of its variants,
//! summed up in a table (and, on request, a JSON report, an HTML page with the failing
//! runs' timelines, and JUnit XML), with an exit status for CI: 0 when every scenario that
//! applies passes, 1 on a violation or a seed that does not repeat itself, 2 when it could
//! not decide (a usage error, a run that panicked, nothing applicable, a file it could not
//! write).

use super::{prepare_outputs, usage, Cli, LiveOptions};
use crate::certify::{timelines_beside, Certification, DEFAULT_SEEDS};
use crate::implementation::{Client, Server};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

/// How to certify. Defaults: the implementation itself, every scenario, 10 seeds, each run
/// once, one worker per available core, no file written.
#[derive(clap::Args, Debug)]
pub struct CertifyOptions {
    /// Runs seeds 1..=N of each scenario.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEEDS, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Runs only the scenarios whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Certifies this build with a planted bug instead (`list --mutants`).
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
    /// carrying the violations and the commands that replay them, scenarios that do not
    /// apply skipped with the reason.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Runs every seed twice and fails on any difference between the two histories.
    #[arg(long)]
    check_determinism: bool,
    /// Worker threads [default: the available parallelism, at most one per run; live,
    /// where runs mostly wait, four].
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    #[command(flatten)]
    live: LiveOptions,
}

/// Live runs at once by default: they mostly wait for real time to pass.
const LIVE_JOBS: NonZeroUsize = NonZeroUsize::new(4).expect("four");

/// Certifies as `options` say, prints the table, writes the files, returns the status.
pub(super) fn certify<C: Client + Sync, S: Server + Sync>(cli: &Cli<C, S>, options: &CertifyOptions) -> ExitCode {
    let chosen = match cli.choose(options.mutant.as_deref(), options.live.preset()) {
        Ok(chosen) => chosen,
        Err(message) => return usage(&message),
    };
    let outputs = [&options.report, &options.html, &options.junit];
    if let Err(message) = prepare_outputs(outputs.into_iter().flatten().map(PathBuf::as_path)) {
        return usage(&message);
    }
    let live = match options.live.commands(cli, options.mutant.as_deref()) {
        Ok(live) => live,
        Err(message) => return usage(&message),
    };
    if live.is_some() && options.check_determinism {
        return usage(
            "--check-determinism compares two simulated runs byte for byte; live runs take real time and differ",
        );
    }
    let mut subject = chosen.subject.clone();
    subject.replay.push_str(&options.live.flags());
    let mut certification =
        Certification::new(chosen.client.clone(), chosen.server.clone()).subject(subject).seeds(options.seeds);
    if let Some(commands) = live {
        certification = certification.live(commands).jobs(LIVE_JOBS);
    }
    if let Some(filter) = &options.filter {
        certification = certification.filter(filter);
        if certification.scenario_names().is_empty() {
            return usage(&format!("no scenario name contains `{filter}`; `list` shows them"));
        }
    }
    if let Some(jobs) = options.jobs {
        certification = certification.jobs(jobs);
    }
    if options.check_determinism {
        certification = certification.check_determinism();
    }
    if let Some(page) = &options.html {
        match timelines_beside(page) {
            Ok(dir) => certification = certification.timelines(&dir),
            Err(message) => return usage(&message),
        }
    }
    let certificate = certification.run();
    print!("{}", certificate.table());
    let written = [
        options.report.as_deref().map(|path| ("report", path, certificate.write_json(path))),
        options.html.as_deref().map(|path| ("page", path, certificate.write_html(path))),
        options.junit.as_deref().map(|path| ("JUnit report", path, certificate.write_junit(path))),
    ];
    let mut status = certificate.verdict().exit_code();
    for (what, path, result) in written.into_iter().flatten() {
        match result {
            Ok(()) => println!("{what}: {}", path.display()),
            Err(e) => status = usage(&format!("could not write the {what} to {}: {e}", path.display())),
        }
    }
    for (seed, message) in certificate.unwritten_timelines() {
        status = usage(&format!("seed {seed}: {message}"));
    }
    status
}
