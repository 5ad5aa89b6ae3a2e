//! Campaigns of generated runs: case `k` of campaign `seed` is drawn from the two alone, a
//! failing case is shrunk with its run seed pinned, and what is left is a
//! [`Counterexample`] with a timeline and a regression test.

use super::{sized_plan, Plan, FULL_SIZE};
use crate::capability::Capabilities;
use crate::implementation::{Client, Server};
use crate::report::Report;
use crate::scenario::Scenario;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

/// Shrink attempts after a failure, by default: each one is a whole run.
pub const MAX_SHRINK_ITERS: u32 = 200;

/// The case from which a campaign draws plans of full size.
pub const GROWN: u64 = 40;

/// How a generated case is replayed from the command line when nothing else is said:
/// `{campaign}` and `{case}` are filled in; the package is the one cargo runs this in.
pub fn default_replay() -> String {
    crate::command::fuzz()
}

/// A campaign: cases `0..cases` drawn from `seed`, for an implementation with
/// `capabilities`: its cases use only what it declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Campaign {
    /// The campaign's seed: with a case's index, all its case is drawn from.
    pub seed: u64,
    /// How many cases it runs.
    pub cases: u64,
    /// What the implementation under test declares.
    pub capabilities: Capabilities,
    /// Shrink attempts at most, each a whole run.
    pub max_shrink_iters: u32,
    /// The command that replays one case (`{campaign}` and `{case}` are filled in).
    /// Default: [`default_replay`].
    pub replay: String,
}

/// One generated case: a plan and the run seed it runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The campaign's seed.
    pub campaign: u64,
    /// Its index in the campaign.
    pub index: u64,
    /// The run seed, drawn with the plan and pinned while the plan shrinks.
    pub seed: u64,
    /// What the run does.
    pub plan: Plan,
    /// The command that replays it, `{campaign}` and `{case}` not yet filled in.
    pub replay: String,
}

/// How a case fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// It violated this invariant (the first, when it violated several).
    Violated(String),
    /// The run panicked, with this message: the harness could not drive the
    /// implementation, or the implementation itself panicked.
    Panicked(String),
}

/// What came of one run of a case: its report, or the message of its panic.
pub type CaseOutcome = Result<Report, String>;

/// A failing case shrunk as far as it goes.
#[derive(Debug)]
pub struct Shrunk {
    /// The smallest plan that still fails the same way.
    pub plan: Plan,
    /// Its run.
    pub outcome: CaseOutcome,
    /// Runs tried while shrinking.
    pub tries: u32,
    /// Of those, the ones that still failed the same way and were kept.
    pub kept: u32,
}

/// A failing case of a campaign, as drawn and as shrunk.
#[derive(Debug)]
pub struct Counterexample {
    /// The case as drawn.
    pub case: Case,
    /// How it failed: the shrunk case fails the same way.
    pub failure: Failure,
    /// The case shrunk.
    pub shrunk: Shrunk,
    /// What the implementation it failed on declares.
    pub capabilities: Capabilities,
}

impl Failure {
    /// How `outcome` fails, if it does.
    pub fn of(outcome: &CaseOutcome) -> Option<Failure> {
        match outcome {
            Ok(report) => report.violations().next().map(|v| Failure::Violated(v.invariant.clone())),
            Err(message) => Some(Failure::Panicked(message.clone())),
        }
    }

    /// Whether `outcome` fails this way: the same invariant violated (among others), or a
    /// panic (any message: shrinking changes what is printed).
    fn matches(&self, outcome: &CaseOutcome) -> bool {
        match (self, outcome) {
            (Failure::Violated(invariant), Ok(report)) => report.violations().any(|v| &v.invariant == invariant),
            (Failure::Panicked(_), Err(_)) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Violated(invariant) => write!(f, "violates {invariant}"),
            Failure::Panicked(message) => write!(f, "panics: {message}"),
        }
    }
}

/// Runs `scenario` with `seed`, turning a panic into its message.
pub fn run_caught<C: Client, S: Server>(scenario: &Scenario, client: &C, server: &S, seed: u64) -> CaseOutcome {
    panic::catch_unwind(AssertUnwindSafe(|| scenario.run(client, server, seed))).map_err(|p| panic_message(p.as_ref()))
}

/// The message a panic was raised with.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(message), _) => (*message).to_owned(),
        (_, Some(message)) => message.clone(),
        _ => "a panic without a message".to_owned(),
    }
}

impl Campaign {
    /// Campaign `seed` of `cases` cases for an implementation with `capabilities`
    /// ([`Capabilities::of`] a client and a server).
    pub fn new(seed: u64, cases: u64, capabilities: Capabilities) -> Self {
        Campaign { seed, cases, capabilities, max_shrink_iters: MAX_SHRINK_ITERS, replay: default_replay() }
    }

    /// Case `index`, drawn from the campaign's seed and `index` alone.
    pub fn case(&self, index: u64) -> Case {
        let tree = self.tree(index);
        let seed = crate::seed::derive(self.seed, &format!("fuzz run {index}")) % 1_000_000 + 1;
        Case { campaign: self.seed, index, seed, plan: tree.current(), replay: self.replay.clone() }
    }

    /// The size case `index` is drawn at: campaigns start small and reach
    /// [`FULL_SIZE`] at case [`GROWN`].
    pub fn size(&self, index: u64) -> u32 {
        (index.min(GROWN) * u64::from(FULL_SIZE) / GROWN) as u32
    }

    /// The value tree case `index` is drawn from and shrinks along.
    fn tree(&self, index: u64) -> impl ValueTree<Value = Plan> {
        let bytes: Vec<u8> = (0..4u64)
            .flat_map(|word| crate::seed::derive(self.seed, &format!("fuzz case {index} word {word}")).to_le_bytes())
            .collect();
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let config = Config { failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, rng);
        sized_plan(self.capabilities.latest_app_version, self.size(index))
            .new_tree(&mut runner)
            .expect("a plan is always drawn: no filter rejects one")
    }

    /// Shrinks failing case `case`, whose run ended in `outcome`, with its run seed pinned:
    /// `run` runs a candidate scenario with that seed, and a candidate ([`Plan::smaller`])
    /// is kept when it fails the same way ([`Failure`]). Returns the last kept plan and its
    /// outcome, or the case's own when nothing smaller fails.
    pub fn shrink(
        &self,
        case: &Case,
        failure: &Failure,
        outcome: CaseOutcome,
        mut run: impl FnMut(&Scenario, u64) -> CaseOutcome,
    ) -> Shrunk {
        let mut shrunk = Shrunk { plan: case.plan.clone(), outcome, tries: 0, kept: 0 };
        // Greedily: the first smaller plan that still fails, again, until none does. Not
        // proptest's own shrinking: it spends its runs on times and durations that leave the
        // size as it is, and cannot return to a part once it has moved past it.
        'greedy: while shrunk.tries < self.max_shrink_iters {
            for candidate in shrunk.plan.smaller() {
                if shrunk.tries >= self.max_shrink_iters {
                    break 'greedy;
                }
                if shrunk.keeps(case, candidate, failure, &self.capabilities, &mut run) {
                    continue 'greedy;
                }
            }
            break;
        }
        shrunk
    }

    /// Runs case `index` on `client` and `server`; when it fails, shrinks it.
    pub fn try_case<C: Client, S: Server>(&self, index: u64, client: &C, server: &S) -> Option<Counterexample> {
        let case = self.case(index);
        let outcome = run_caught(&case.scenario(&self.capabilities), client, server, case.seed);
        self.counterexample(case, outcome, |scenario, seed| run_caught(scenario, client, server, seed))
    }

    /// The counterexample of `case` when `outcome`, its run, failed: the case shrunk with
    /// `run` (see [`Campaign::shrink`]).
    pub fn counterexample(
        &self,
        case: Case,
        outcome: CaseOutcome,
        run: impl FnMut(&Scenario, u64) -> CaseOutcome,
    ) -> Option<Counterexample> {
        let failure = Failure::of(&outcome)?;
        let shrunk = self.shrink(&case, &failure, outcome, run);
        Some(Counterexample { case, failure, shrunk, capabilities: self.capabilities.clone() })
    }

    /// Runs every case in order and returns the first that fails, shrunk.
    pub fn run<C: Client, S: Server>(&self, client: &C, server: &S) -> Result<(), Box<Counterexample>> {
        match (0..self.cases).find_map(|index| self.try_case(index, client, server)) {
            Some(counterexample) => Err(Box::new(counterexample)),
            None => Ok(()),
        }
    }

    /// Panics with the shrunk counterexample, its timeline and a regression test when a
    /// case fails. The regression test names `client` and `server` as `C::default()` and
    /// `S::default()`: edit them if your adapters are built otherwise.
    #[track_caller]
    pub fn assert_survives<C: Client, S: Server>(&self, client: &C, server: &S) {
        if let Err(counterexample) = self.run(client, server) {
            let test = counterexample.regression_test(&Adapters::defaults::<C, S>());
            panic!("{counterexample}\nregression test:\n{test}");
        }
    }
}

/// `use` paths for `uses` (names at the root of `syncsim`, or `module::Name`): one per
/// module, its names in braces when there are several.
fn syncsim_imports(uses: BTreeSet<&str>) -> Vec<String> {
    let mut by_module: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for path in uses {
        let (module, name) = path.rsplit_once("::").unwrap_or(("", path));
        by_module.entry(module).or_default().push(name);
    }
    by_module
        .into_iter()
        .map(|(module, names)| {
            let module = if module.is_empty() { String::new() } else { format!("{module}::") };
            match names.as_slice() {
                [one] => format!("syncsim::{module}{one}"),
                many => format!("syncsim::{module}{{{}}}", many.join(", ")),
            }
        })
        .collect()
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

impl Case {
    /// The scenario's name: `fuzz_seed_{campaign}_case_{index}`.
    pub fn name(&self) -> String {
        format!("fuzz_seed_{}_case_{}", self.campaign, self.index)
    }

    /// The scenario of this case for an implementation with `capabilities`, with its
    /// replay command.
    pub fn scenario(&self, capabilities: &Capabilities) -> Scenario {
        self.plan.builder(&self.name(), capabilities).replay(&self.replay_command()).build()
    }

    /// The command that replays this case and shrinks it again.
    pub fn replay_command(&self) -> String {
        self.replay.replace("{campaign}", &self.campaign.to_string()).replace("{case}", &self.index.to_string())
    }

    fn with_plan(&self, plan: Plan) -> Case {
        Case { plan, ..self.clone() }
    }
}

impl Shrunk {
    /// Runs `candidate` and keeps it when it fails as `failure` says.
    fn keeps(
        &mut self,
        case: &Case,
        candidate: Plan,
        failure: &Failure,
        capabilities: &Capabilities,
        run: &mut impl FnMut(&Scenario, u64) -> CaseOutcome,
    ) -> bool {
        self.tries += 1;
        let outcome = run(&case.with_plan(candidate.clone()).scenario(capabilities), case.seed);
        let keep = failure.matches(&outcome);
        if keep {
            self.kept += 1;
            self.plan = candidate;
            self.outcome = outcome;
        }
        keep
    }
}

/// How a regression test makes the implementation under test: the `use` paths it needs,
/// statements that set it up, and the expressions of the client and the server.
#[derive(Clone, Debug, Default)]
pub struct Adapters {
    /// `use` paths, without `use` and `;`: `my_app::sim::{MyClient, MyServer}`.
    pub imports: Vec<String>,
    /// Statements before the run: `let server = MyServer::new();`.
    pub setup: Vec<String>,
    /// The client adapter: `MyClient::default()`.
    pub client: String,
    /// The server adapter: `server`.
    pub server: String,
}

impl Adapters {
    /// `C::default()` and `S::default()`, by their short type names, with no import: what a
    /// regression test says when nothing else is known of the implementation.
    pub fn defaults<C, S>() -> Self {
        Adapters {
            client: format!("{}::default()", short_type_name::<C>()),
            server: format!("{}::default()", short_type_name::<S>()),
            ..Adapters::default()
        }
    }
}

impl Counterexample {
    /// A `#[test]` that replays the shrunk case with its pinned seed and asserts it holds:
    /// it fails until the bug is fixed, then guards against its return.
    pub fn regression_test(&self, adapters: &Adapters) -> String {
        let name = self.case.name();
        let mut uses = BTreeSet::from(["Scenario"]);
        let calls: Vec<String> = self.shrunk.plan.calls(&self.capabilities).iter().map(|c| c.rust(&mut uses)).collect();
        let mut imports = vec!["std::time::Duration".to_owned()];
        imports.extend(syncsim_imports(uses));
        imports.extend(adapters.imports.iter().cloned());
        imports.sort();
        let mut out: String = imports.iter().map(|import| format!("use {import};\n")).collect();
        out += &format!(
            "\n/// Found by `{}`: {}; shrunk from size {} to {}.\n",
            self.case.replay_command(),
            self.failure,
            self.case.plan.size(),
            self.shrunk.plan.size()
        );
        out += &format!("fn {name}() -> Scenario {{\n    let ms = Duration::from_millis;\n");
        out += &format!("    Scenario::builder({name:?})\n");
        for call in calls {
            out += &format!("        {call}\n");
        }
        out += &format!("        .replay(\"cargo test {name}\")\n        .build()\n}}\n\n");
        out += &format!("#[test]\nfn {name}_holds() {{\n");
        for statement in &adapters.setup {
            out += &format!("    {statement}\n");
        }
        out += &format!(
            "    {name}().run(&{}, &{}, {}).assert_ok();\n}}\n",
            adapters.client, adapters.server, self.case.seed
        );
        out
    }
}

impl fmt::Display for Counterexample {
    /// The case as drawn and as shrunk, then the shrunk run's verdict or panic (its
    /// timeline is `shrunk.outcome`'s `Report::timeline`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (case, shrunk) = (&self.case, &self.shrunk);
        writeln!(f, "case {} of campaign {} (run seed {}) {}", case.index, case.campaign, case.seed, self.failure)?;
        writeln!(f, "drawn, size {}:\n{}", case.plan.size(), case.plan.timeline())?;
        writeln!(
            f,
            "shrunk to size {} ({} of {} tries kept):\n{}",
            shrunk.plan.size(),
            shrunk.kept,
            shrunk.tries,
            shrunk.plan.timeline()
        )?;
        match &shrunk.outcome {
            Ok(report) => write!(f, "{report}"),
            Err(message) => writeln!(f, "the shrunk run panics: {message}"),
        }
    }
}
