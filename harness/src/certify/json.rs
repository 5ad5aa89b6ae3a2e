//! The certificate as a JSON report (`--report PATH`), for CI and for tools: the verdict,
//! how it was run, one entry per scenario with a few violations each, and the build.

use super::run::Determinism;
use super::summary::{Certificate, Sample, Summary};
use crate::history::Divergence;
use crate::invariant::{Expectation, Violation};
use crate::operation::RecordKey;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The report's `schema`, so a tool can tell it from a history.
const SCHEMA: &str = "syncsim-certificate";
/// The report format's version.
const VERSION: u32 = 1;
/// Violations kept per scenario and invariant (the first of each of the first failing
/// seeds); `violations_left_off` counts the rest, so the report stays small.
const KEPT: usize = 3;

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    version: u32,
    verdict: &'static str,
    seeds: u64,
    implementation: &'a str,
    mutant: Option<MutantEntry<'a>>,
    check_determinism: bool,
    /// Real processes in real time: a seed replays the plan, not the timing.
    live: bool,
    invariants: Vec<InvariantEntry>,
    scenarios: Vec<ScenarioEntry<'a>>,
    build: Build,
}

#[derive(Serialize)]
struct MutantEntry<'a> {
    name: &'a str,
    caught_by: &'a str,
    caught: bool,
}

#[derive(Serialize)]
struct InvariantEntry {
    name: &'static str,
    expectation: Expectation,
}

#[derive(Serialize)]
struct ScenarioEntry<'a> {
    name: &'a str,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_applicable: Option<&'a str>,
    seeds_run: usize,
    converge_ms: Converge,
    sometimes: BTreeMap<&'static str, u64>,
    violations: Vec<Located<'a, Found<'a>>>,
    violations_left_off: BTreeMap<&'static str, usize>,
    unknown: Vec<Located<'a, Panic<'a>>>,
    divergences: Vec<Located<'a, &'a Divergence>>,
}

#[derive(Serialize)]
struct Converge {
    median: Option<u64>,
    max: Option<u64>,
}

/// A problem found in one seed: its fields, then the seed and the replay command.
#[derive(Serialize)]
struct Located<'a, T> {
    #[serde(flatten)]
    what: T,
    seed: u64,
    replay: &'a str,
}

/// A violation, its host null when it shows on none.
#[derive(Serialize)]
struct Found<'a> {
    invariant: &'a str,
    t_ms: u64,
    host: Option<&'a str>,
    details: &'a str,
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    ops: &'a [u64],
    #[serde(skip_serializing_if = "<[RecordKey]>::is_empty")]
    records: &'a [RecordKey],
}

#[derive(Serialize)]
struct Panic<'a> {
    details: &'a str,
}

/// Where the certifying binary came from: `target` and `commit` are null when the build
/// could not tell (no git, or a build script without a target).
#[derive(Serialize)]
pub(crate) struct Build {
    pub(crate) version: &'static str,
    pub(crate) profile: &'static str,
    pub(crate) target: Option<&'static str>,
    pub(crate) commit: Option<&'static str>,
}

/// Writes the report to `path`, creating its directory.
pub(crate) fn write(certificate: &Certificate, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&report(certificate)).expect("a report always serializes");
    std::fs::write(path, text + "\n")
}

fn report(certificate: &Certificate) -> Document<'_> {
    Document {
        schema: SCHEMA,
        version: VERSION,
        verdict: certificate.verdict().as_str(),
        seeds: certificate.seeds,
        implementation: &certificate.subject.name,
        mutant: mutant(certificate),
        check_determinism: certificate.determinism == Determinism::Check,
        live: certificate.live,
        invariants: certificate
            .invariants
            .iter()
            .map(|&(name, expectation)| InvariantEntry { name, expectation })
            .collect(),
        scenarios: certificate.summaries.iter().map(scenario).collect(),
        build: build(),
    }
}

fn mutant(certificate: &Certificate) -> Option<MutantEntry<'_>> {
    let planted = certificate.subject.planted.as_ref()?;
    let caught = certificate.caught().is_some_and(|caught| !caught.is_empty());
    Some(MutantEntry { name: &planted.name, caught_by: &planted.caught_by, caught })
}

fn scenario(summary: &Summary) -> ScenarioEntry<'_> {
    let mut violations = Vec::new();
    let mut left_off = BTreeMap::new();
    for invariant in summary.violated() {
        let firsts = summary.first_per_seed(invariant);
        let kept = firsts.len().min(KEPT);
        violations.extend(firsts[..kept].iter().map(|s| located(s, found(&s.what))));
        let more = summary.violation_count(invariant) - kept;
        left_off.extend((more > 0).then_some((invariant, more)));
    }
    ScenarioEntry {
        name: &summary.scenario,
        verdict: summary.verdict.as_str(),
        not_applicable: summary.not_applicable.as_deref(),
        seeds_run: summary.seeds_run,
        converge_ms: Converge { median: summary.median_converge_ms(), max: summary.max_converge_ms() },
        sometimes: sometimes(summary),
        violations,
        violations_left_off: left_off,
        unknown: summary.undecided.iter().map(|s| located(s, Panic { details: &s.what })).collect(),
        divergences: summary.divergences.iter().map(|s| located(s, &s.what)).collect(),
    }
}

fn found(v: &Violation) -> Found<'_> {
    Found {
        invariant: &v.invariant,
        t_ms: v.t_ms,
        host: v.host.as_deref(),
        details: &v.details,
        ops: &v.ops,
        records: &v.records,
    }
}

fn located<'a, T, U>(sample: &'a Sample<T>, what: U) -> Located<'a, U> {
    Located { what, seed: sample.seed, replay: &sample.replay }
}

fn sometimes(summary: &Summary) -> BTreeMap<&'static str, u64> {
    let counters = summary.checked.iter().filter(|(_, expectation, _)| *expectation == Expectation::Sometimes);
    counters.map(|&(name, _, hits)| (name, hits)).collect()
}

pub(crate) fn build() -> Build {
    let known = |value: &'static str| (!value.is_empty()).then_some(value);
    Build {
        version: env!("CARGO_PKG_VERSION"),
        profile: env!("SYNCSIM_PROFILE"),
        target: known(env!("SYNCSIM_TARGET")),
        commit: known(env!("SYNCSIM_GIT_COMMIT")),
    }
}
