//! `syncsim`: lists and runs the scenarios of the suite on the reference implementation.
//!
//! - `syncsim list` prints the scenarios, the invariants and the network profiles;
//! - `syncsim run SCENARIO [--seed S] [--history PATH] [--quiet]` runs one seed (default
//!   1), prints the timeline (unless `--quiet`), the verdict and the simulation's speed,
//!   and exits 0 on a pass, 1 on a violation, 2 on a usage error.

use clap::{Parser, Subcommand};
use scenarios::reference::{ReferenceClient, ReferenceServer};
use scenarios::suite;
use std::path::PathBuf;
use std::process::ExitCode;
use syncsim::{Profile, Scenario};

#[derive(Parser)]
#[command(name = "syncsim", about = "Deterministic simulation of offline-first sync: the reference suite")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the scenarios, the invariants and the network profiles.
    List,
    /// Runs one scenario with one seed; prints the timeline and the verdict.
    Run {
        /// The scenario's name (see `syncsim list`).
        scenario: String,
        /// The seed: the same seed replays the same run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also writes the history, as JSON lines, to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Prints only the verdict, not the timeline.
        #[arg(long)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    syncsim::trace::init();
    match Cli::parse().command {
        Command::List => {
            list();
            ExitCode::SUCCESS
        }
        Command::Run { scenario, seed, history, quiet } => match suite::by_name(&scenario) {
            Some(scenario) => run(&scenario, seed, history, quiet),
            None => {
                eprintln!("no scenario named `{scenario}`; `syncsim list` shows them");
                ExitCode::from(2)
            }
        },
    }
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

fn run(scenario: &Scenario, seed: u64, history: Option<PathBuf>, quiet: bool) -> ExitCode {
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now(); // allowed: the wall clock measures the simulation's speed
    let report = scenario.run(&ReferenceClient::default(), &ReferenceServer::default(), seed);
    let wall = started.elapsed().as_secs_f64();
    if !quiet {
        print!("{}", report.timeline());
    }
    print!("{report}");
    let simulated = report.history.events.last().map_or(0.0, |e| e.t_ms as f64 / 1000.0);
    println!("  simulated {simulated:.1} s in {wall:.2} s of wall time ({:.0}x)", simulated / wall.max(1e-9));
    if let Some(path) = history {
        if let Err(e) = report.write_history(&path) {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        println!("  history: {}", path.display());
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
