//! A campaign as JUnit XML (`syncsim fuzz --junit PATH`).
//!
//! A campaign stops at its first failing case, so it is one test case: named for the
//! campaign (and the shard or the case replayed), passing when no case failed, failing with
//! the shrunk counterexample's violations, its timeline and the replay command, and an
//! `<error>` when merged shards are missing (nothing decided). Its `<system-out>` holds the
//! regression test to paste. `--every-mutant` gives one test case per mutant, failing when
//! the campaign did not find the mutant.

use super::report::CampaignReport;
use crate::junit::{self, CaseResult, Suite, TestCase};
use std::path::Path;

/// The test case of a campaign (a shard of one, a replayed case, or the merge of shards).
pub(super) fn campaign(report: &CampaignReport, replayed: Option<u64>) -> TestCase {
    let part = match (replayed, report.shards.as_slice()) {
        (Some(case), _) => format!(", case {case}"),
        (None, shards) if shards.len() as u64 == report.shard_count => String::new(),
        (None, shards) => {
            let shards: Vec<String> = shards.iter().map(|s| format!("{s}/{}", report.shard_count)).collect();
            format!(", shard {}", shards.join(" "))
        }
    };
    let name = format!("campaign {} of {} cases{part}", report.seed, report.cases);
    let out = format!("{} cases run on the {}\n", report.cases_run, report.implementation.replace(':', " "));
    let result = match (&report.failure, report.verdict.as_str()) {
        (Some(f), _) => {
            let mut text = format!(
                "case {} (run seed {}) {}, shrunk from size {} to {}:\n",
                f.case, f.run_seed, f.failure, f.drawn_size, f.shrunk_size
            );
            f.violations.iter().for_each(|v| text.push_str(&format!("  {v}\n")));
            text.push_str(&format!("the shrunk case:\n{}\nreplay: {}\n", f.shrunk, f.replay));
            let message = format!("case {} {}; replay: {}", f.case, f.failure, f.replay);
            let out = format!("{out}regression test, to paste into a test file:\n\n{}\n", f.regression_test);
            return TestCase {
                name,
                classname: classname(&report.implementation),
                result: failed(&f.failure, message, text),
                out,
            };
        }
        (None, "pass") => CaseResult::Passed,
        (None, verdict) => CaseResult::Error {
            kind: verdict.to_owned(),
            message: format!("shards {:?} of {} ran: the campaign is {verdict}", report.shards, report.shard_count),
            text: String::new(),
        },
    };
    TestCase { name, classname: classname(&report.implementation), result, out }
}

/// `violates INVARIANT` gives the type `INVARIANT`; `panics: ...` gives `panic`.
fn failed(failure: &str, message: String, text: String) -> CaseResult {
    let kind = failure.strip_prefix("violates ").map_or("panic", str::trim).to_owned();
    CaseResult::Failed { kind, message, text }
}

/// `syncsim.fuzz.reference` or `syncsim.fuzz.mutant.NAME`.
pub(super) fn classname(implementation: &str) -> String {
    format!("syncsim.fuzz.{}", implementation.replace(':', "."))
}

/// Writes `cases` as one test suite to `path`.
pub(super) fn write(path: &Path, cases: Vec<TestCase>, properties: Vec<(String, String)>) -> std::io::Result<()> {
    let suite = Suite { name: "syncsim fuzz".to_owned(), properties, cases };
    junit::write(path, &junit::document("syncsim fuzz", &[suite]))
}

#[cfg(test)]
mod tests {
    use super::super::report::{FailureReport, SCHEMA, VERSION};
    use super::*;

    fn report(failure: Option<FailureReport>, shards: Vec<u64>) -> CampaignReport {
        CampaignReport {
            schema: SCHEMA.to_owned(),
            version: VERSION,
            verdict: CampaignReport::verdict(failure.as_ref(), &shards, 2).to_owned(),
            seed: 1,
            cases: 10,
            implementation: "mutant:second_resolution_tie_break".to_owned(),
            latest_app_version: 5,
            shards,
            shard_count: 2,
            cases_run: 5,
            wall_seconds: 1.0,
            cases_per_second: 5.0,
            failure,
            build: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_failing_campaign_carries_the_shrunk_violation_and_the_replay_command() {
        let failure = FailureReport {
            case: 9,
            run_seed: 77,
            failure: "violates convergence".into(),
            violations: vec!["convergence at 9 ms: <x>".into()],
            drawn_size: 4,
            drawn: String::new(),
            shrunk_size: 1,
            shrunk: "at 1 s: create".into(),
            shrink_tries: 2,
            replay: "cargo run --release -p scenarios -- fuzz --seed 1 --case 9 --mutant m".into(),
            regression_test: "#[test]\nfn fuzz_seed_1_case_9() {}".into(),
        };
        let case = campaign(&report(Some(failure), vec![2]), None);
        assert_eq!(
            (case.name.as_str(), case.classname.as_str()),
            ("campaign 1 of 10 cases, shard 2/2", "syncsim.fuzz.mutant.second_resolution_tie_break")
        );
        let CaseResult::Failed { kind, message, text } = &case.result else { panic!("{case:?}") };
        assert_eq!(kind, "convergence");
        assert!(message.ends_with("fuzz --seed 1 --case 9 --mutant m"), "{message}");
        assert!(text.contains("convergence at 9 ms: <x>") && text.contains("at 1 s: create"), "{text}");
        assert!(case.out.contains("fn fuzz_seed_1_case_9()"), "the regression test: {}", case.out);
    }

    #[test]
    fn a_merge_with_shards_missing_is_an_error_and_a_whole_passing_campaign_passes() {
        let case = campaign(&report(None, vec![1]), None);
        assert!(matches!(case.result, CaseResult::Error { ref kind, .. } if kind == "incomplete"), "{case:?}");
        let case = campaign(&report(None, vec![1, 2]), None);
        assert!(matches!(case.result, CaseResult::Passed), "{case:?}");
        assert_eq!(case.name, "campaign 1 of 10 cases");
    }
}
