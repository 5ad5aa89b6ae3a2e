//! `syncsim`: lists, runs and certifies the scenarios of the suite on the reference
//! implementation or on one of its mutants.
//!
//! - `syncsim list` prints the scenarios, the invariants and the network profiles;
//!   `syncsim list --mutants` only the mutants' names, one per line, for scripts;
//! - `syncsim run SCENARIO [--seed S] [--mutant NAME] [--history PATH] [--html PATH]
//!   [--quiet]` runs one seed (default 1), prints the timeline (unless `--quiet`), the
//!   verdict and the simulation's speed, and exits 0 on a pass, 1 on a violation, 2 on a
//!   usage error or a file it could not write;
//! - `syncsim certify [--seeds N] [--filter TEXT] [--mutant NAME] [--report PATH]
//!   [--html PATH] [--junit PATH] [--check-determinism] [--jobs N]` runs every scenario over seeds 1..=N and prints a
//!   table, a row per scenario and a column per invariant; exits 0 when all pass, 1 on a
//!   violation or a nondeterministic seed, 2 when it could not decide;
//! - `syncsim fuzz [--cases N] [--seed S] [--mutant NAME] [--shard I/N] [--case K]
//!   [--report PATH] [--junit PATH] [--jobs N]` runs generated scenarios until one fails, shrinks it and
//!   prints it as a timeline and a regression test; `--merge A B ..` joins the reports of a
//!   campaign's shards; exits 0 when no case fails, 1 when one does, 2 on a usage error;
//! - `syncsim bench-report [--write PATH]` prints the figures of the last
//!   `cargo bench -p benches` (criterion's medians, sync work in virtual time, database
//!   sizes) against the targets, as markdown tables; exits 2 when nothing was measured.

mod certify;
mod fuzz;
mod junit;
mod progress;

use certify::Implementation;
use clap::{Parser, Subcommand};
use scenarios::{mutant, suite};
use std::path::PathBuf;
use std::process::ExitCode;
use syncsim::{Profile, Scenario};

#[derive(Parser)]
#[command(
    name = "syncsim",
    about = "Deterministic simulation of offline-first sync: lists, runs and certifies the suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the scenarios, the invariants and the network profiles.
    List {
        /// Prints only the mutants' names, one per line.
        #[arg(long)]
        mutants: bool,
    },
    /// Runs one scenario with one seed; prints the timeline and the verdict.
    Run {
        /// The scenario's name (see `syncsim list`).
        scenario: String,
        /// The seed: the same seed replays the same run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runs this mutant of the catalog instead of the reference (`syncsim list --mutants`).
        #[arg(long, value_name = "NAME")]
        mutant: Option<String>,
        /// Also writes the history, as JSON lines, to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Also writes the run's timeline to this file: one self-contained HTML page (no
        /// network needed) with a lane per device and one for the server, the operations,
        /// sync rounds, faults, kills and the violations, to open in a browser.
        #[arg(long, value_name = "PATH")]
        html: Option<PathBuf>,
        /// Prints only the verdict, not the timeline.
        #[arg(long)]
        quiet: bool,
    },
    /// Runs every scenario over many seeds and prints a verdict per scenario and invariant.
    Certify(certify::Options),
    /// Runs generated scenarios until one fails, shrinks it and prints it as a test.
    Fuzz(fuzz::Options),
    /// Prints the performance figures of the last `cargo bench -p benches` against the targets.
    BenchReport {
        /// Also writes the report, as markdown, to this file.
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::List { mutants: false } => {
            list();
            ExitCode::SUCCESS
        }
        Command::List { mutants: true } => {
            mutant::ALL.iter().for_each(|m| println!("{}", m.name));
            ExitCode::SUCCESS
        }
        Command::Run { scenario, seed, mutant, history, html, quiet } => {
            let implementation = Implementation::resolve(mutant.as_deref());
            let outputs = Outputs { history, html };
            if let Err(message) = prepare_outputs(outputs.history.iter().chain(&outputs.html).map(PathBuf::as_path)) {
                return usage(&message);
            }
            match (suite::by_name(&scenario), implementation) {
                (Some(scenario), Ok(implementation)) => run(&scenario, seed, implementation, &outputs, quiet),
                (None, _) => usage(&format!("no scenario named `{scenario}`; `syncsim list` shows them")),
                (_, Err(message)) => usage(&message),
            }
        }
        // No log subscriber: the logs of hundreds of runs on several threads interleave into
        // noise. `run` replays one seed with its logs.
        Command::Certify(options) => certify::certify(&options),
        Command::Fuzz(options) => fuzz::fuzz(&options),
        Command::BenchReport { write } => bench_report(write.as_deref()),
    }
}

/// Prints the report of the figures the benches left in the target directory; exits 2
/// when there are none to report, or the figures file is unreadable.
fn bench_report(write: Option<&std::path::Path>) -> ExitCode {
    use scenarios::figures::{self, Measured};
    let target = figures::target_dir();
    let measured = match Measured::load(&target) {
        Ok(measured) => measured,
        Err(message) => return usage(&message),
    };
    if !measured.any(&target) {
        return usage(&format!(
            "no figures under {}: `cargo bench -p benches -- --quick` measures them",
            target.display()
        ));
    }
    let report = figures::report(&target, &measured);
    print!("{report}");
    if let Some(out) = write {
        if let Err(e) = std::fs::write(out, &report) {
            return usage(&format!("cannot write {}: {e}", out.display()));
        }
    }
    ExitCode::SUCCESS
}

/// Creates the directories of the files a command will write, and refuses a path that is
/// a directory, so that a long run does not end in a file it cannot write.
pub(crate) fn prepare_outputs<'a>(paths: impl IntoIterator<Item = &'a std::path::Path>) -> Result<(), String> {
    for path in paths {
        if path.is_dir() {
            return Err(format!("{} is a directory: give a file name", path.display()));
        }
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// Prints `message` and returns the exit status of a usage error.
pub(crate) fn usage(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}

fn list() {
    println!("scenarios:");
    for scenario in suite::all() {
        println!("  {:<40} {}", scenario.name(), scenario.description());
    }
    println!("invariants:");
    for invariant in syncsim::invariant::all() {
        let expectation = format!("{:?}", invariant.expectation()).to_lowercase();
        println!("  {:<36} {expectation:<10} {}", invariant.name(), invariant.description());
    }
    println!("profiles:");
    for profile in Profile::ALL {
        println!("  {profile}");
    }
}

/// The files `run` writes besides its output.
struct Outputs {
    /// The history, as JSON lines.
    history: Option<PathBuf>,
    /// The timeline, as an HTML page.
    html: Option<PathBuf>,
}

fn run(scenario: &Scenario, seed: u64, implementation: Implementation, outputs: &Outputs, quiet: bool) -> ExitCode {
    syncsim::trace::init();
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now(); // allowed: the wall clock measures the simulation's speed
    let mut report = scenario.run(&implementation.client(), &implementation.server(), seed);
    let wall = started.elapsed().as_secs_f64();
    report.replay = implementation.replay(scenario, seed);
    if !quiet {
        print!("{}", report.timeline());
    }
    print!("{report}");
    let simulated = report.history.events.last().map_or(0.0, |e| e.t_ms as f64 / 1000.0);
    println!("  simulated {simulated:.1} s in {wall:.2} s of wall time ({:.0}x)", simulated / wall.max(1e-9));
    if let Some(path) = &outputs.history {
        if let Err(e) = report.write_history(path) {
            return usage(&format!("could not write the history: {e}"));
        }
        println!("  history: {}", path.display());
    }
    if let Some(path) = &outputs.html {
        if let Err(e) = report.write_timeline(path) {
            return usage(&format!("could not write the timeline: {e}"));
        }
        println!("  timeline: {}", path.display());
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
