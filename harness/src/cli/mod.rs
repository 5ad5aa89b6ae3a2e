//! The command line for any implementation: `list`, `run`, `certify` and `fuzz`, with the
//! same flags, outputs and exit statuses whatever the implementation, in the binary of the
//! team that certifies it.
//!
//! ```no_run
//! # #[derive(Clone)] struct MyClient;
//! # #[derive(Clone)] struct MyServer;
//! # impl syncsim::Client for MyClient { type App = MyApp; async fn open(&self, _: syncsim::DeviceEnv) -> Result<MyApp, syncsim::BoxError> { todo!() } }
//! # struct MyApp;
//! # impl syncsim::App for MyApp {
//! #     async fn perform(&self, _: &syncsim::Operation) -> Result<(), syncsim::BoxError> { todo!() }
//! #     async fn sync(&self) -> Result<syncsim::SyncOutcome, syncsim::BoxError> { todo!() }
//! #     fn state(&self) -> Result<syncsim::DeviceState, syncsim::BoxError> { todo!() }
//! # }
//! # impl syncsim::Server for MyServer {
//! #     fn router(&self, _: &syncsim::ServerEnv) -> Result<axum::Router, syncsim::BoxError> { todo!() }
//! #     fn state(&self, _: &syncsim::ServerEnv) -> Result<syncsim::ServerState, syncsim::BoxError> { todo!() }
//! # }
//! fn main() -> std::process::ExitCode {
//!     syncsim::cli::main(MyClient, MyServer)
//! }
//! ```
//!
//! - `list` prints the scenarios (and which apply), the invariants and the network
//!   profiles; `list --mutants` the names of the planted bugs, one per line;
//! - `run SCENARIO [--seed S] [--mutant NAME] [--history PATH] [--html PATH] [--quiet]`
//!   runs one seed (default 1), prints the timeline, the verdict and the simulation's speed;
//!   exits 0 on a pass, 1 on a violation, 2 on a usage error, a scenario that does not
//!   apply, or a file it could not write;
//! - `certify [--seeds N] [--filter TEXT] [--mutant NAME] [--report PATH] [--html PATH]
//!   [--junit PATH] [--check-determinism] [--jobs N]` (see [`crate::certify`]): exits 0
//!   when all pass, 1 on a violation or a nondeterministic seed, 2 when it could not
//!   decide;
//! - `fuzz [--cases N] [--seed S] [--mutant NAME] [--shard I/N] [--case K] [--report PATH]
//!   [--junit PATH] [--jobs N] [--max-shrink N] [--every-mutant] [--merge REPORT..]` (see
//!   [`crate::fuzz`]): exits 0 when no case fails, 1 when one does, 2 on a usage error or
//!   an incomplete merge;
//! - `proxy --upstream ADDR [--listen ADDR] [--profile NAME] [--http SPEC].. [--at
//!   TIME=ACTION].. [--for TIME] [--seed S]` (see [`crate::live::proxy`]): the live fault
//!   proxy in front of a server, printing each request and fault; exits 2 when it cannot
//!   listen;
//! - `serve [--mutant NAME]` and `drive [--mutant NAME]`: this binary's server on real TCP
//!   and its client behind the driver protocol (`DRIVERS.md`), what `--live` starts.
//!
//! `run`, `certify` and `fuzz` run live with `--live NAME` (this binary's implementation,
//! named by [`Cli::live_name`]) or `--server-cmd CMD --client-cmd CMD [--server-declares
//! PATH]` (any other): real processes in real time, each device behind its port of the
//! fault proxy ([`crate::live`]).
//!
//! Replay commands name the binary that printed them ([`Subject::default_replay`]). A
//! [`Cli`] with [`Variant`]s also certifies deliberately broken builds (`--mutant NAME`),
//! which prove that the checks bite.
//!
//! Modules: `certify` (the `certify` command), `fuzz` (the `fuzz` command: its worker pool,
//! JSON report and merge, JUnit XML).

mod certify;
mod fuzz;
mod live;
mod proxy;

pub use certify::CertifyOptions;
pub use fuzz::FuzzOptions;
pub use live::{LiveOptions, Preset, PresetVariant, RoleOptions};
pub use proxy::ProxyOptions;

use crate::capability::Capabilities;
use crate::certify::{Planted, Subject};
use crate::fuzz::Adapters;
use crate::implementation::{Client, Server};
use crate::net::Profile;
use crate::Scenario;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The commands, for a binary that adds its own beside them (`#[command(flatten)]`) and
/// hands these to [`Cli::execute`].
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists the scenarios (and whether each applies), the invariants and the network profiles.
    List {
        /// Prints only the names of the planted bugs (`--mutant`), one per line.
        #[arg(long)]
        mutants: bool,
    },
    /// Runs one scenario with one seed; prints the timeline and the verdict.
    Run(RunOptions),
    /// Runs every scenario over many seeds and prints a verdict per scenario and invariant.
    Certify(CertifyOptions),
    /// Runs generated scenarios until one fails, shrinks it and prints it as a test.
    Fuzz(FuzzOptions),
    /// Runs the live fault proxy in front of a server: network profiles, partitions,
    /// holds and HTTP faults on real sockets.
    Proxy(ProxyOptions),
    /// Serves this binary's server on real TCP, configured by the environment of
    /// DRIVERS.md: what `--live` starts as the server.
    Serve(RoleOptions),
    /// Runs this binary's client behind the driver protocol of DRIVERS.md on standard
    /// input and output: what `--live` starts for each device.
    Drive(RoleOptions),
}

/// How to run one scenario.
#[derive(clap::Args, Debug)]
pub struct RunOptions {
    /// The scenario's name (see `list`).
    scenario: String,
    /// The seed: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Runs this build with a planted bug instead (`list --mutants`).
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
    #[command(flatten)]
    live: LiveOptions,
}

#[derive(Parser)]
#[command(about = "Certifies an offline-first sync implementation in a deterministic simulation")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// A build of the implementation with a bug planted on purpose, selected with
/// `--mutant NAME`.
#[derive(Clone, Debug)]
pub struct Variant<C, S> {
    /// The bug: its name, the change, the invariant that must catch it.
    pub planted: Planted,
    /// The client with the bug, when it is a client bug.
    pub client: C,
    /// The server with the bug, when it is a server bug.
    pub server: S,
    /// How a printed regression test builds this client and server.
    pub adapters: Adapters,
}

/// The command line of one implementation and its variants.
///
/// Defaults: reports name it [`Subject::default`] (the package cargo runs it in), regression
/// tests build `C::default()` and `S::default()`, no variants.
pub struct Cli<C, S> {
    client: C,
    server: S,
    subject: Subject,
    adapters: Adapters,
    fuzz_replay: String,
    variants: Vec<Variant<C, S>>,
    live_name: String,
    presets: Vec<Preset<S>>,
}

/// Parses the command line and runs it on `client` and `server`: the whole `main` of a
/// certifying binary.
pub fn main<C: Client + Sync, S: Server + Sync>(client: C, server: S) -> ExitCode {
    Cli::new(client, server).main()
}

/// The implementation a command runs on: the one the [`Cli`] was made with, or a variant.
pub(crate) struct Chosen<'a, C, S> {
    pub(crate) client: &'a C,
    pub(crate) server: &'a S,
    pub(crate) subject: Subject,
    pub(crate) adapters: &'a Adapters,
    pub(crate) fuzz_replay: String,
}

impl<C: Client + Sync, S: Server + Sync> Cli<C, S> {
    /// The command line of `client` and `server`.
    pub fn new(client: C, server: S) -> Self {
        let adapters = Adapters::defaults::<C, S>();
        let fuzz_replay = crate::fuzz::default_replay();
        let live_name = "self".to_owned();
        let (subject, variants, presets) = (Subject::default(), Vec::new(), Vec::new());
        Cli { client, server, subject, adapters, fuzz_replay, variants, live_name, presets }
    }

    /// Adds a live preset: another client, run by its driver, against this binary's server
    /// as `preset.server` (`--live NAME`).
    pub fn preset(mut self, preset: Preset<S>) -> Self {
        self.presets.push(preset);
        self
    }

    /// The name `--live NAME` gives this binary's own implementation (default: `self`).
    pub fn live_name(mut self, name: &str) -> Self {
        self.live_name = name.to_owned();
        self
    }

    /// How reports name the implementation and replay a scenario's seed.
    pub fn subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }

    /// How printed regression tests build the client and the server.
    pub fn adapters(mut self, adapters: Adapters) -> Self {
        self.adapters = adapters;
        self
    }

    /// The command that replays one fuzz case (`{campaign}` and `{case}` are filled in).
    pub fn fuzz_replay(mut self, command: &str) -> Self {
        self.fuzz_replay = command.to_owned();
        self
    }

    /// Adds a build with a planted bug, selected with `--mutant NAME`.
    pub fn variant(mut self, variant: Variant<C, S>) -> Self {
        self.variants.push(variant);
        self
    }

    /// Parses the process's arguments and runs the command.
    pub fn main(self) -> ExitCode {
        self.execute(Args::parse().command)
    }

    /// Runs one parsed command and returns its exit status.
    pub fn execute(&self, command: Command) -> ExitCode {
        match command {
            Command::List { mutants: false } => {
                self.list();
                ExitCode::SUCCESS
            }
            Command::List { mutants: true } => {
                self.variants.iter().for_each(|v| println!("{}", v.planted.name));
                ExitCode::SUCCESS
            }
            Command::Run(options) => self.run(&options),
            // No log subscriber: the logs of hundreds of runs on several threads interleave
            // into noise. `run` replays one seed with its logs.
            Command::Certify(options) => certify::certify(self, &options),
            Command::Fuzz(options) => fuzz::fuzz(self, &options),
            Command::Proxy(options) => proxy::proxy(&options),
            Command::Serve(options) => self.serve(&options),
            Command::Drive(options) => self.drive(&options),
        }
    }

    /// The implementation itself when `mutant` is `None`, else the variant of that name; live
    /// with the preset named `preset`, that preset's server, or a variant of it. The error
    /// names the variants there are.
    pub(crate) fn choose(&self, mutant: Option<&str>, preset: Option<&str>) -> Result<Chosen<'_, C, S>, String> {
        let preset = preset.and_then(|preset| self.presets.iter().find(|p| p.name == preset));
        let Some(name) = mutant else {
            let (client, adapters) = (&self.client, &self.adapters);
            let server = preset.map_or(&self.server, |preset| &preset.server);
            let (subject, fuzz_replay) = (self.subject.clone(), self.fuzz_replay.clone());
            return Ok(Chosen { client, server, subject, adapters, fuzz_replay });
        };
        let (planted, client, server, adapters) = match preset {
            Some(preset) => {
                let variant = preset.variants.iter().find(|v| v.planted.name == name).ok_or_else(|| {
                    let names: Vec<&str> = preset.variants.iter().map(|v| v.planted.name.as_str()).collect();
                    match names.is_empty() {
                        true => format!("no mutant named `{name}`: the live preset `{}` has none", preset.name),
                        false => format!(
                            "no mutant named `{name}` of the live preset `{}`; its mutants are: {}",
                            preset.name,
                            names.join(", ")
                        ),
                    }
                })?;
                (&variant.planted, &self.client, &variant.server, &self.adapters)
            }
            None => {
                let variant =
                    self.variants.iter().find(|v| v.planted.name == name).ok_or_else(|| self.no_variant(name))?;
                (&variant.planted, &variant.client, &variant.server, &variant.adapters)
            }
        };
        let subject = Subject {
            name: format!("mutant:{name}"),
            replay: self.subject.replay.clone(),
            planted: Some(planted.clone()),
        };
        let fuzz_replay = format!("{} --mutant {name}", self.fuzz_replay);
        Ok(Chosen { client, server, subject, adapters, fuzz_replay })
    }

    /// Why there is no variant `name` of the implementation itself.
    fn no_variant(&self, name: &str) -> String {
        if let Some(preset) = self.presets.iter().find(|p| p.variants.iter().any(|v| v.planted.name == name)) {
            return format!(
                "mutant `{name}` is planted in the server of the live preset `{0}`: add --live {0}",
                preset.name
            );
        }
        let names: Vec<&str> = self.variants.iter().map(|v| v.planted.name.as_str()).collect();
        if names.is_empty() {
            format!("no mutant named `{name}`: this implementation declares none")
        } else {
            format!("no mutant named `{name}`; the mutants are: {}", names.join(", "))
        }
    }

    /// The variants, in the order they were added.
    pub(crate) fn variants(&self) -> &[Variant<C, S>] {
        &self.variants
    }

    fn list(&self) {
        let capabilities = Capabilities::of(&self.client, &self.server);
        println!("scenarios:");
        for scenario in crate::suite::all() {
            let applies = match scenario.applies_to(&capabilities) {
                Ok(()) => String::new(),
                Err(reason) => format!(" (not applicable: {reason})"),
            };
            println!("  {:<40} {}{applies}", scenario.name(), scenario.description());
        }
        println!("faults (a scenario's schedule; the fuzz draws most of them):");
        for (kinds, what) in crate::fault::VOCABULARY {
            println!("  {kinds:<46} {what}");
        }
        println!("invariants:");
        for invariant in crate::invariant::all() {
            let expectation = format!("{:?}", invariant.expectation()).to_lowercase();
            println!("  {:<36} {expectation:<10} {}", invariant.name(), invariant.description());
        }
        println!("profiles:");
        for profile in Profile::ALL {
            println!("  {profile}");
        }
        println!("live (--live NAME):");
        println!("  {:<40} this binary's own client and server", self.live_name);
        for preset in &self.presets {
            println!("  {:<40} {}", preset.name, preset.client);
            for variant in &preset.variants {
                println!("    --mutant {:<34} {}", variant.planted.name, variant.planted.change);
            }
        }
    }

    fn run(&self, options: &RunOptions) -> ExitCode {
        let outputs = [&options.history, &options.html];
        if let Err(message) = prepare_outputs(outputs.into_iter().flatten().map(PathBuf::as_path)) {
            return usage(&message);
        }
        let chosen = match self.choose(options.mutant.as_deref(), options.live.preset()) {
            Ok(chosen) => chosen,
            Err(message) => return usage(&message),
        };
        let Some(scenario) = crate::suite::by_name(&options.scenario) else {
            return usage(&format!("no scenario named `{}`; `list` shows them", options.scenario));
        };
        let live = match options.live.commands(self, options.mutant.as_deref()) {
            Ok(live) => live,
            Err(message) => return usage(&message),
        };
        let mut capabilities = Capabilities::of(chosen.client, chosen.server);
        if let Some(commands) = &live {
            if let Err(reason) = crate::live::fits(&scenario) {
                return usage(&format!("{} cannot run live: {reason}", scenario.name()));
            }
            match crate::live::declared(commands, capabilities) {
                Ok((declared, _)) => capabilities = declared,
                Err(why) => return usage(&format!("undecided: {why}")),
            }
        }
        if let Err(reason) = scenario.applies_to(&capabilities) {
            return usage(&format!("{} does not apply to this implementation: {reason}", scenario.name()));
        }
        run_one(&scenario, options, &chosen, live.as_ref().map(|commands| (commands, &capabilities)))
    }
}

fn run_one<C: Client, S: Server>(
    scenario: &Scenario,
    options: &RunOptions,
    chosen: &Chosen<'_, C, S>,
    live: Option<(&crate::live::Commands, &Capabilities)>,
) -> ExitCode {
    crate::trace::init();
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now(); // allowed: the wall clock measures the simulation's speed
    let mut report = match live {
        None => scenario.run(chosen.client, chosen.server, options.seed),
        Some((commands, capabilities)) => match crate::live::execute(scenario, commands, capabilities, options.seed) {
            Ok(history) => scenario.check(history),
            Err(why) => {
                eprintln!("undecided: {why}");
                return ExitCode::from(2);
            }
        },
    };
    let wall = started.elapsed().as_secs_f64();
    report.replay = chosen.subject.replay_command(scenario.name(), options.seed) + &options.live.flags();
    if !options.quiet {
        print!("{}", report.timeline());
    }
    print!("{report}");
    let simulated = report.history.events.last().map_or(0.0, |e| e.t_ms as f64 / 1000.0);
    if live.is_some() {
        println!("  live: {wall:.1} s of real time (a seed replays the plan, not the timing)");
    } else {
        println!("  simulated {simulated:.1} s in {wall:.2} s of wall time ({:.0}x)", simulated / wall.max(1e-9));
    }
    if let Some(path) = &options.history {
        if let Err(e) = report.write_history(path) {
            return usage(&format!("could not write the history: {e}"));
        }
        println!("  history: {}", path.display());
    }
    if let Some(path) = &options.html {
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

/// Creates the directories of the files a command will write, and refuses a path that is
/// a directory, so that a long run does not end in a file it cannot write.
pub(crate) fn prepare_outputs<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), String> {
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
