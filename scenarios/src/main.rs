//! `syncsim`: the command line of [`syncsim::cli`] on the reference implementation, with
//! the mutant catalog as its variants (`--mutant NAME`), and `bench-report`.
//!
//! - `syncsim list`, `run`, `certify`, `fuzz`: see [`syncsim::cli`];
//! - `syncsim bench-report [--write PATH]` prints the figures of the last
//!   `cargo bench -p benches` (criterion's medians, sync work in virtual time, database
//!   sizes) against the targets, as markdown tables; exits 2 when nothing was measured.

use clap::{Parser, Subcommand};
use scenarios::reference::{ReferenceClient, ReferenceServer};
use scenarios::{mutant, preset};
use std::path::PathBuf;
use std::process::ExitCode;
use syncsim::certify::Subject;
use syncsim::cli::{Cli, Command};

/// How a run of the reference is replayed.
const REPLAY: &str = "cargo run --release -p scenarios -- run {scenario} --seed {seed}";
/// How a fuzz case of the reference is replayed.
const FUZZ_REPLAY: &str = "cargo run --release -p scenarios -- fuzz --seed {campaign} --case {case}";

#[derive(Parser)]
#[command(
    name = "syncsim",
    about = "Deterministic simulation of offline-first sync: lists, runs and certifies the suite on the reference"
)]
struct Args {
    #[command(subcommand)]
    command: Ours,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process: boxing would only add noise
enum Ours {
    #[command(flatten)]
    Syncsim(Command),
    /// Prints the performance figures of the last `cargo bench -p benches` against the targets.
    BenchReport {
        /// Also writes the report, as markdown, to this file.
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Args::parse().command {
        Ours::Syncsim(command) => reference().execute(command),
        Ours::BenchReport { write } => bench_report(write.as_deref()),
    }
}

/// The reference and its mutants.
fn reference() -> Cli<ReferenceClient, ReferenceServer> {
    let cli = Cli::new(ReferenceClient::default(), ReferenceServer::default())
        .subject(Subject::new("reference", REPLAY))
        .live_name("reference")
        .fuzz_replay(FUZZ_REPLAY)
        .adapters(scenarios::reference::adapters());
    let cli = preset::all().into_iter().fold(cli, |cli, preset| cli.preset(preset));
    mutant::ALL.iter().fold(cli, |cli, m| cli.variant(m.variant()))
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

/// Prints `message` and returns the exit status of a usage error.
fn usage(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}
