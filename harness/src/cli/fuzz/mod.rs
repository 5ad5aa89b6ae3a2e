//! `fuzz`: a campaign of generated runs ([`crate::fuzz`]) on the implementation or one of
//! its variants, stopped at the first failing case, which is shrunk and printed as a timeline, a
//! replay command and a ready-to-paste regression test. Exit status: 0 when no case fails,
//! 1 when one does, 2 on a usage error or an incomplete merge.
//!
//! Case `k` of campaign `--seed S` is drawn from `S` and `k` alone, so `--shard I/N` (the
//! cases `k` with `k % N == I - 1`) splits a campaign across machines, `--merge` joins their
//! reports, and `--case K` replays one case anywhere.
//!
//! Modules: `sweep` (the cases on worker threads, stopping at the first failure),
//! `report` (the JSON report and the merge), `junit` (the JUnit XML of a campaign, or of
//! every mutant's).

mod junit;
mod report;
mod sweep;

use super::{prepare_outputs, usage, Chosen, Cli, LiveOptions};
use crate::capability::Capabilities;
use crate::certify::json;
use crate::fuzz::{run_caught, Campaign, Counterexample, MAX_SHRINK_ITERS};
use crate::implementation::{Client, Server};
use crate::junit::{CaseResult as JunitResult, TestCase as JunitCase};
use report::{CampaignReport, FailureReport};
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use sweep::Sweep;

/// Cases of a campaign by default: about a minute and a half on two cores, release build.
pub(crate) const DEFAULT_CASES: u64 = 200;
/// Live cases at once by default: they mostly wait for real time to pass.
const LIVE_JOBS: usize = 4;

/// How to fuzz.
#[derive(clap::Args, Debug)]
pub struct FuzzOptions {
    /// Runs cases 0..N of the campaign.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CASES, value_parser = clap::value_parser!(u64).range(1..))]
    cases: u64,
    /// The campaign's seed: the same seed draws the same cases.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Fuzzes this build with a planted bug instead (`list --mutants`).
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
    /// Runs only shard I of N: the cases k with k % N == I - 1.
    #[arg(long, value_name = "I/N", conflicts_with = "case")]
    shard: Option<Shard>,
    /// Replays case K alone, shrinking it if it fails.
    #[arg(long, value_name = "K")]
    case: Option<u64>,
    /// Writes the campaign's result as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Writes the campaign's result as JUnit XML to PATH: one test case for the campaign
    /// (for the shard, the case replayed or the merged shards; one per mutant with
    /// `--every-mutant`), a failing one carrying the shrunk violation and its replay command.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Shrink attempts at most, each a whole run.
    #[arg(long, value_name = "N", default_value_t = MAX_SHRINK_ITERS)]
    max_shrink: u32,
    /// Worker threads [default: the available parallelism].
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// Runs a campaign on every variant with a planted bug, each shrunk when found, and prints a
    /// table: mutant, the first failing case, the invariant, the sizes drawn and shrunk.
    #[arg(long, conflicts_with_all = ["mutant", "shard", "case", "report", "merge"])]
    every_mutant: bool,
    /// Merges the JSON reports of a campaign's shards (into --report PATH, if given) and
    /// prints the campaign's verdict.
    #[arg(long, value_name = "REPORT", num_args = 1.., conflicts_with_all = ["mutant", "shard", "case"])]
    merge: Vec<PathBuf>,
    #[command(flatten)]
    live: LiveOptions,
}

/// How the command runs a case: in the simulation, or live (real processes; a case's plan
/// leaves out the long absence, which needs skipped time).
pub(crate) enum Runs<'a, C, S> {
    Simulated(&'a C, &'a S),
    Live(&'a crate::live::Commands, &'a Capabilities),
}

impl<C: Client, S: Server> Runs<'_, C, S> {
    /// Runs `scenario` with `seed`; a panic, or a live run that decided nothing, is the
    /// outcome's error.
    pub(crate) fn run(&self, scenario: &crate::Scenario, seed: u64) -> crate::fuzz::CaseOutcome {
        match self {
            Runs::Simulated(client, server) => run_caught(scenario, *client, *server, seed),
            Runs::Live(commands, capabilities) => {
                let history = crate::live::execute(scenario, commands, capabilities, seed);
                history.map(|history| scenario.check(history)).map_err(|why| format!("undecided: {why}"))
            }
        }
    }

    /// Case `index` of `campaign`, as this runs it.
    pub(crate) fn case(&self, campaign: &Campaign, index: u64) -> crate::fuzz::Case {
        let mut case = campaign.case(index);
        if let Runs::Live(..) = self {
            // What real time cannot do: days away, a server clock, steps or rules the harness
            // does not own.
            use crate::fuzz::Event;
            case.plan.away = None;
            case.plan.events.retain(|(_, event)| {
                !matches!(
                    event,
                    Event::ServerClockStep { .. }
                        | Event::ServerCrashAfterCommit
                        | Event::ServerStall { .. }
                        | Event::RefuseNotes
                )
            });
        }
        case
    }
}

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    index: u64,
    count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("`{text}` is not a shard: write I/N with 1 <= I <= N, e.g. 2/4");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let (index, count) = (index.trim().parse().map_err(|_| wrong())?, count.trim().parse().map_err(|_| wrong())?);
        if !(1..=count).contains(&index) {
            return Err(wrong());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// The cases of `0..cases` in this shard.
    fn cases(self, cases: u64) -> Vec<u64> {
        (0..cases).filter(|k| k % self.count == self.index - 1).collect()
    }
}

/// Fuzzes, replays a case or merges reports, as `options` say.
pub(super) fn fuzz<C: Client + Sync, S: Server + Sync>(cli: &Cli<C, S>, options: &FuzzOptions) -> ExitCode {
    if let Err(message) = prepare_outputs([&options.report, &options.junit].into_iter().flatten().map(PathBuf::as_path))
    {
        return usage(&message);
    }
    if !options.merge.is_empty() {
        return merge(options);
    }
    if options.every_mutant {
        return every_mutant(cli, options);
    }
    let chosen = match cli.choose(options.mutant.as_deref(), options.live.preset()) {
        Ok(chosen) => chosen,
        Err(message) => return usage(&message),
    };
    let live = match options.live.commands(cli, options.mutant.as_deref()) {
        Ok(live) => live,
        Err(message) => return usage(&message),
    };
    let mut campaign = campaign(&chosen, options);
    if let Some(commands) = &live {
        match crate::live::declared(commands, campaign.capabilities.clone()) {
            Ok((declared, _)) => campaign.capabilities = declared,
            Err(why) => return usage(&format!("undecided: {why}")),
        }
        campaign.replay.push_str(&options.live.flags());
    }
    let runs = match &live {
        Some(commands) => Runs::Live(commands, &campaign.capabilities),
        None => Runs::Simulated(chosen.client, chosen.server),
    };
    let latest = campaign.capabilities.latest_app_version;
    let shard = options.shard.unwrap_or(Shard::WHOLE);
    let indexes = match options.case {
        Some(case) => vec![case],
        None => shard.cases(options.cases),
    };
    let default_jobs = || if live.is_some() { LIVE_JOBS } else { available() };
    let threads = options.jobs.map_or_else(default_jobs, NonZeroUsize::get).min(indexes.len()).max(1);
    println!(
        "fuzz: campaign {}, {} of its {} cases{}, on the {} (latest app version {latest}), {threads} workers",
        campaign.seed,
        indexes.len(),
        campaign.cases,
        match (options.case, shard) {
            (Some(k), _) => format!(" (case {k} alone)"),
            (None, Shard::WHOLE) => String::new(),
            (None, shard) => format!(" (shard {}/{})", shard.index, shard.count),
        },
        chosen.subject.name.replace(':', " "),
    );
    if let Some(index) = options.case {
        // A replay: the whole run on this thread, with its logs (`RUST_LOG`) and timeline.
        crate::trace::init();
        let case = runs.case(&campaign, index);
        println!("case {index}, run seed {}:\n{}", case.seed, case.plan.timeline());
        match runs.run(&case.scenario(&campaign.capabilities), case.seed) {
            Ok(report) => print!("{}{report}", report.timeline()),
            Err(message) => println!("the run panics: {message}"),
        }
    }
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now(); // allowed: the wall clock of the CLI, outside any simulation
    let sweep = Sweep::run(&campaign, &indexes, &runs, threads);
    let wall = started.elapsed().as_secs_f64();
    let rate = sweep.run as f64 / wall.max(1e-9);
    println!("{} cases in {wall:.1} s ({rate:.2} cases/s)", sweep.run);
    let failure = sweep.first_failure.map(|(position, _)| {
        let index = indexes[position];
        println!("case {index} fails, the first of {}; shrinking it with its run seed pinned", sweep.run);
        let counterexample = shrink(&campaign, index, &runs);
        print_counterexample(&counterexample, &chosen, options.case.is_some());
        if live.is_some() {
            println!("(the regression test runs the shrunk plan in the simulation; the replay runs it live)");
        }
        failure_report(&counterexample, &chosen)
    });
    let shards = vec![shard.index];
    // This shard's verdict: whether the whole campaign passes is for `--merge` to say.
    let verdict = if failure.is_some() { "fail" } else { "pass" };
    if failure.is_none() {
        println!("no case fails. Verdict: {verdict}.");
    } else {
        println!("Verdict: {verdict}.");
    }
    let report = CampaignReport {
        schema: report::SCHEMA.to_owned(),
        version: report::VERSION,
        verdict: verdict.to_owned(),
        seed: campaign.seed,
        cases: campaign.cases,
        implementation: chosen.subject.name.clone(),
        latest_app_version: latest,
        shards,
        shard_count: shard.count,
        cases_run: sweep.run as u64,
        wall_seconds: wall,
        cases_per_second: rate,
        failure,
        build: serde_json::to_value(json::build()).expect("build facts serialize"),
    };
    if let Err(status) = write_reports(options, &report, options.case) {
        return status;
    }
    exit(verdict)
}

/// Writes `report` as JSON and as JUnit XML where `options` say; the error is the exit
/// status of a file that could not be written.
fn write_reports(options: &FuzzOptions, report: &CampaignReport, replayed: Option<u64>) -> Result<(), ExitCode> {
    if let Some(path) = &options.report {
        report.write(path).map_err(|e| usage(&format!("could not write the report to {}: {e}", path.display())))?;
    }
    if let Some(path) = &options.junit {
        let case = junit::campaign(report, replayed);
        junit::write(path, vec![case], properties(report.seed, &report.implementation))
            .map_err(|e| usage(&format!("could not write the JUnit report to {}: {e}", path.display())))?;
    }
    Ok(())
}

/// The JUnit suite's properties: the campaign's seed, the implementation, the build.
fn properties(seed: u64, implementation: &str) -> Vec<(String, String)> {
    let build = json::build();
    let mut properties = vec![
        ("seed".to_owned(), seed.to_string()),
        ("implementation".to_owned(), implementation.to_owned()),
        ("syncsim_version".to_owned(), build.version.to_owned()),
    ];
    properties.extend(build.commit.map(|c| ("commit".to_owned(), c.to_owned())));
    properties
}

fn available() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The campaign `options` ask for, on `chosen`.
fn campaign<C: Client, S: Server>(chosen: &Chosen<'_, C, S>, options: &FuzzOptions) -> Campaign {
    let capabilities = Capabilities::of(chosen.client, chosen.server);
    Campaign {
        max_shrink_iters: options.max_shrink,
        replay: chosen.fuzz_replay.clone(),
        ..Campaign::new(options.seed, options.cases, capabilities)
    }
}

/// Runs case `index` again on this thread and shrinks it, drawing the attempts on a
/// terminal.
fn shrink<C: Client, S: Server>(campaign: &Campaign, index: u64, runs: &Runs<'_, C, S>) -> Counterexample {
    let case = runs.case(campaign, index);
    let outcome = runs.run(&case.scenario(&campaign.capabilities), case.seed);
    let terminal = std::io::stderr().is_terminal();
    let mut tries = 0;
    let counterexample = campaign.counterexample(case, outcome, |scenario, seed| {
        tries += 1;
        if terminal {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[Kshrinking: try {tries} of at most {}", campaign.max_shrink_iters);
            let _ = err.flush();
        }
        runs.run(scenario, seed)
    });
    if terminal {
        eprintln!();
    }
    counterexample.unwrap_or_else(|| match runs {
        Runs::Simulated(..) => panic!("the case failed on a worker, and runs are deterministic: it fails here too"),
        Runs::Live(..) => panic!("the case failed live, then passed when run again: real time does not repeat itself"),
    })
}

fn print_counterexample<C, S>(counterexample: &Counterexample, chosen: &Chosen<'_, C, S>, timeline: bool) {
    if let (true, Ok(report)) = (timeline, &counterexample.shrunk.outcome) {
        println!("the shrunk run:\n{}", report.timeline());
    }
    println!("{counterexample}");
    println!("regression test, to paste into a test file:\n");
    println!("{}", counterexample.regression_test(chosen.adapters));
    println!("replay: {}", counterexample.case.replay_command());
}

fn failure_report<C, S>(counterexample: &Counterexample, chosen: &Chosen<'_, C, S>) -> FailureReport {
    let (case, shrunk) = (&counterexample.case, &counterexample.shrunk);
    let violations = match &shrunk.outcome {
        Ok(report) => report.violations().map(ToString::to_string).collect(),
        Err(_) => Vec::new(),
    };
    FailureReport {
        case: case.index,
        run_seed: case.seed,
        failure: counterexample.failure.to_string(),
        violations,
        drawn_size: case.plan.size(),
        drawn: case.plan.timeline(),
        shrunk_size: shrunk.plan.size(),
        shrunk: shrunk.plan.timeline(),
        shrink_tries: shrunk.tries,
        replay: case.replay_command(),
        regression_test: counterexample.regression_test(chosen.adapters),
    }
}

/// One campaign per variant: whether each is found within the cases, how soon, and how
/// small its counterexample shrinks.
fn every_mutant<C: Client + Sync, S: Server + Sync>(cli: &Cli<C, S>, options: &FuzzOptions) -> ExitCode {
    let threads = options.jobs.map_or_else(available, NonZeroUsize::get).max(1);
    let indexes: Vec<u64> = (0..options.cases).collect();
    println!(
        "fuzz: campaign {} on each of the {} mutants, up to {} cases and {} shrink runs each",
        options.seed,
        cli.variants().len(),
        options.cases,
        options.max_shrink
    );
    println!(
        "| mutant | found at case | violated | its own invariant | drawn size | shrunk size | shrink runs | seconds |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut missed = Vec::new();
    let mut cases = Vec::new();
    for variant in cli.variants() {
        let m = &variant.planted;
        let chosen = cli.choose(Some(&m.name), None).expect("a variant of this command line");
        let campaign = campaign(&chosen, options);
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now(); // allowed: the wall clock of the CLI, outside any simulation
        let runs = Runs::Simulated(chosen.client, chosen.server);
        let sweep = Sweep::run(&campaign, &indexes, &runs, threads.min(indexes.len()));
        let classname = junit::classname(&chosen.subject.name);
        let Some((position, _)) = sweep.first_failure else {
            println!("| `{}` | not found in {} cases | | no | | | | {:.0} |", m.name, sweep.run, wall(started));
            missed.push(m.name.as_str());
            let message = format!("{} not found in {} cases of campaign {}", m.name, sweep.run, options.seed);
            let result = JunitResult::Failed { kind: "not found".to_owned(), message, text: m.change.clone() };
            cases.push(JunitCase { name: m.name.clone(), classname, result, out: String::new() });
            continue;
        };
        let counterexample = shrink(&campaign, indexes[position], &runs);
        let violated: Vec<&str> = match &counterexample.shrunk.outcome {
            Ok(report) => report.findings.iter().filter(|f| !f.violations.is_empty()).map(|f| f.invariant).collect(),
            Err(_) => vec!["a panic"],
        };
        println!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.0} |",
            m.name,
            indexes[position],
            violated.join(", "),
            if violated.contains(&m.caught_by.as_str()) { "yes" } else { "no" },
            counterexample.case.plan.size(),
            counterexample.shrunk.plan.size(),
            counterexample.shrunk.tries,
            wall(started)
        );
        let out = format!(
            "found at case {} ({}), violating {}; shrunk from size {} to {}\nreplay: {}\n",
            indexes[position],
            counterexample.failure,
            violated.join(", "),
            counterexample.case.plan.size(),
            counterexample.shrunk.plan.size(),
            counterexample.case.replay_command()
        );
        cases.push(JunitCase { name: m.name.clone(), classname, result: JunitResult::Passed, out });
    }
    if let Some(path) = &options.junit {
        if let Err(e) = junit::write(path, cases, properties(options.seed, "every mutant")) {
            return usage(&format!("could not write the JUnit report to {}: {e}", path.display()));
        }
    }
    if missed.is_empty() {
        println!("every mutant found. Verdict: pass.");
        ExitCode::SUCCESS
    } else {
        println!("not found: {}. Verdict: fail.", missed.join(", "));
        ExitCode::from(1)
    }
}

fn wall(started: std::time::Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

fn merge(options: &FuzzOptions) -> ExitCode {
    let reports: Result<Vec<CampaignReport>, String> =
        options.merge.iter().map(|path| CampaignReport::read(path)).collect();
    let merged = match reports.and_then(report::merge) {
        Ok(merged) => merged,
        Err(message) => return usage(&message),
    };
    println!(
        "campaign {} of {} cases on the {}: shards {:?} of {}, {} cases run in {:.1} s ({:.2} cases/s)",
        merged.seed,
        merged.cases,
        merged.implementation.replace(':', " "),
        merged.shards,
        merged.shard_count,
        merged.cases_run,
        merged.wall_seconds,
        merged.cases_per_second
    );
    if let Some(failure) = &merged.failure {
        println!("first failing case: {} ({}), shrunk to size {}:", failure.case, failure.failure, failure.shrunk_size);
        print!("{}", failure.shrunk);
        println!("replay: {}", failure.replay);
    }
    println!("Verdict: {}.", merged.verdict);
    if let Err(status) = write_reports(options, &merged, None) {
        return status;
    }
    exit(&merged.verdict)
}

fn exit(verdict: &str) -> ExitCode {
    match verdict {
        "pass" => ExitCode::SUCCESS,
        "fail" => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_i_of_n_and_the_shards_split_the_cases() {
        let shards: Vec<Shard> = ["1/3", "2/3", "3/3"].iter().map(|s| s.parse().unwrap()).collect();
        let mut all: Vec<u64> = shards.iter().flat_map(|s| s.cases(10)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>(), "every case in exactly one shard");
        assert_eq!(shards[1].cases(10), [1, 4, 7]);
        for wrong in ["0/3", "4/3", "3", "a/b", "1/0"] {
            let error = wrong.parse::<Shard>().unwrap_err();
            assert!(error.contains("I/N"), "{wrong}: {error}");
        }
    }
}
