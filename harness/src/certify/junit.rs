//! The certificate as JUnit XML (`--junit PATH`): one test suite for the implementation,
//! one test case per scenario. A scenario that violated an invariant is a `<failure>`
//! whose `type` names the invariants and whose text gives each seed's first violation with
//! the command that replays it; one whose runs panicked (nothing decided) is an `<error>`.

use super::run::Determinism;
use super::summary::{Certificate, Summary, Verdict};
use crate::invariant::Expectation;
use crate::junit::{self, CaseResult, Suite, TestCase};
use std::fmt::Write as _;
use std::path::Path;

/// Writes the JUnit document of `certificate` to `path`.
pub(super) fn write(certificate: &Certificate, path: &Path) -> std::io::Result<()> {
    junit::write(path, &render(certificate))
}

/// The whole document.
pub(super) fn render(certificate: &Certificate) -> String {
    let label = certificate.subject.name.clone();
    let classname = match &certificate.subject.planted {
        None => format!("syncsim.certify.{}", label.replace(['.', ' '], "_")),
        Some(planted) => format!("syncsim.certify.mutant.{}", planted.name),
    };
    let build = super::json::build();
    let mut properties = vec![
        ("implementation".to_owned(), label.clone()),
        ("seeds".to_owned(), format!("1..={}", certificate.seeds)),
        ("check_determinism".to_owned(), (certificate.determinism == Determinism::Check).to_string()),
        ("syncsim_version".to_owned(), build.version.to_owned()),
    ];
    properties.extend(build.commit.map(|c| ("commit".to_owned(), c.to_owned())));
    let cases = certificate.summaries.iter().map(|s| case(s, &classname)).collect();
    let suite = Suite { name: format!("syncsim certify {label}"), properties, cases };
    junit::document("syncsim certify", &[suite])
}

fn case(summary: &Summary, classname: &str) -> TestCase {
    let result = match summary.verdict {
        Verdict::Pass => CaseResult::Passed,
        Verdict::NotApplicable => CaseResult::Skipped {
            message: format!("not applicable: {}", summary.not_applicable.as_deref().unwrap_or_default()),
        },
        Verdict::Fail => failure(summary),
        Verdict::Unknown => {
            let first = &summary.undecided[0];
            let message = format!("seed {} {}", first.seed, first.what);
            CaseResult::Error { kind: "panic".to_owned(), message, text: problems(summary) }
        }
    };
    TestCase { name: summary.scenario.clone(), classname: classname.to_owned(), result, out: facts(summary) }
}

fn failure(summary: &Summary) -> CaseResult {
    let mut kinds: Vec<&str> = summary.violated();
    if !summary.divergences.is_empty() {
        kinds.push("determinism");
    }
    let message = match kinds.first().and_then(|first| summary.first_per_seed(first).first().copied()) {
        Some(sample) => format!("{} (seed {})", sample.what, sample.seed),
        None => format!("seed {} did not repeat itself", summary.divergences[0].seed),
    };
    CaseResult::Failed { kind: kinds.join(", "), message, text: problems(summary) }
}

/// Every problem, seed by seed: the first violation of each invariant per seed, the panics
/// and the divergences, each with its replay command (and its timeline, if written).
fn problems(summary: &Summary) -> String {
    let mut out = String::new();
    for invariant in summary.violated() {
        let samples = summary.first_per_seed(invariant);
        let _ = writeln!(
            out,
            "{invariant}: violated on {} seed{}",
            samples.len(),
            if samples.len() == 1 { "" } else { "s" }
        );
        for sample in samples {
            let _ = writeln!(out, "  seed {}: {}\n    replay: {}", sample.seed, sample.what, sample.replay);
            if let Some(timeline) = summary.timeline(sample.seed) {
                let _ = writeln!(out, "    timeline: {timeline}");
            }
        }
    }
    for sample in &summary.undecided {
        let _ = writeln!(out, "seed {} {}\n    replay: {}", sample.seed, sample.what, sample.replay);
    }
    for sample in &summary.divergences {
        let d = &sample.what;
        let _ = writeln!(
            out,
            "seed {}: its two runs differ at line {} of the history\n    first:  {}\n    second: {}\n    replay: {}",
            sample.seed, d.line, d.first, d.second, sample.replay
        );
    }
    out
}

/// What the scenario ran and reached: seeds, time to converge, coverage counters.
fn facts(summary: &Summary) -> String {
    let converge = match (summary.median_converge_ms(), summary.max_converge_ms()) {
        (Some(median), Some(max)) => format!("converged in {median} ms (median), {max} ms (max) after the final phase"),
        _ => "no run converged".to_owned(),
    };
    let sometimes: Vec<String> = summary
        .checked
        .iter()
        .filter(|(_, expectation, _)| *expectation == Expectation::Sometimes)
        .map(|(name, _, hits)| format!("{name}: {hits}"))
        .collect();
    format!("{} seeds run; {converge}; reached {}\n", summary.seeds_run, sometimes.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::run::{RunOutcome, SeedRun};
    use super::*;
    use crate::invariant::Violation;
    use crate::report::Finding;

    fn run(seed: u64, outcome: RunOutcome) -> SeedRun {
        SeedRun {
            seed,
            replay: format!("cargo run --release -p scenarios -- run s --seed {seed}"),
            outcome,
            timeline: None,
        }
    }

    fn checked(violations: Vec<Violation>) -> RunOutcome {
        let finding = Finding { invariant: "exactly once", expectation: Expectation::Always, violations, hits: 0 };
        RunOutcome::Checked { findings: vec![finding], converged_after_ms: Some(700), divergence: None }
    }

    #[test]
    fn a_violated_scenario_fails_with_the_violation_and_its_replay_and_a_panic_is_an_error() {
        let violation = Violation::new("exactly once", 9, None, "x <y> & \"z\"".to_owned());
        let certificate = Certificate {
            subject: super::super::Subject::new("reference", ""),
            seeds: 2,
            determinism: Determinism::Trust,
            live: false,
            invariants: vec![("exactly once", Expectation::Always)],
            summaries: vec![
                Summary::new("passes", vec![run(1, checked(Vec::new())), run(2, checked(Vec::new()))]),
                Summary::new("fails", vec![run(1, checked(Vec::new())), run(2, checked(vec![violation]))]),
                Summary::new("panics", vec![run(1, RunOutcome::Undecided("panicked: boom".into()))]),
                Summary::not_applicable("needs", "the server does not declare counter fields".into()),
            ],
        };
        let xml = render(&certificate);
        assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"1\""), "{xml}");
        assert!(
            xml.contains("<skipped message=\"not applicable: the server does not declare counter fields\"/>"),
            "{xml}"
        );
        assert!(xml.contains("<testcase name=\"passes\" classname=\"syncsim.certify.reference\">"), "{xml}");
        assert!(xml.contains("<failure type=\"exactly once\" message=\"exactly once at 9 ms: x &lt;y&gt; &amp; &quot;z&quot; (seed 2)\">"), "{xml}");
        assert!(xml.contains("replay: cargo run --release -p scenarios -- run s --seed 2"), "{xml}");
        assert!(xml.contains("<error type=\"panic\" message=\"seed 1 panicked: boom\">"), "{xml}");
        assert!(!xml.contains(" time=") && !xml.contains("timestamp"), "no wall time: the same verdict, the same file");
    }
}
