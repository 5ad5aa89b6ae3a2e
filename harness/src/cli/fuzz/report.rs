//! A campaign's JSON report (`syncsim fuzz --report PATH`), and the merging of the reports
//! of a campaign's shards (`syncsim fuzz --merge A B ...`) into the campaign's.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The report's `schema`, so a tool can tell it from a certificate or a history.
pub(crate) const SCHEMA: &str = "syncsim-fuzz";
/// The report format's version.
pub(crate) const VERSION: u32 = 1;

/// What a campaign, or some of its shards, found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CampaignReport {
    pub(crate) schema: String,
    pub(crate) version: u32,
    /// `fail`: a case failed; `pass`: none did (and, once merged, every shard ran);
    /// `incomplete`: a merge with no failing case, but shards missing.
    pub(crate) verdict: String,
    /// The campaign's seed.
    pub(crate) seed: u64,
    /// The campaign's cases, over all shards.
    pub(crate) cases: u64,
    /// `reference` or `mutant:NAME`.
    pub(crate) implementation: String,
    /// The latest app version of the client.
    pub(crate) latest_app_version: u32,
    /// The campaign is split in `shard_count` shards; these ran (1-based).
    pub(crate) shards: Vec<u64>,
    pub(crate) shard_count: u64,
    /// Cases run: a shard stops at its first failing case.
    pub(crate) cases_run: u64,
    /// Wall time of the shards, added up.
    pub(crate) wall_seconds: f64,
    /// `cases_run / wall_seconds`: the speed of one machine.
    pub(crate) cases_per_second: f64,
    /// The first failing case, by case index, if any.
    pub(crate) failure: Option<FailureReport>,
    /// The build that ran the first shard.
    pub(crate) build: serde_json::Value,
}

/// A failing case, as drawn and as shrunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FailureReport {
    /// The case's index in the campaign.
    pub(crate) case: u64,
    /// Its run seed, pinned while it shrank.
    pub(crate) run_seed: u64,
    /// How it fails: `violates INVARIANT` or `panics: MESSAGE`.
    pub(crate) failure: String,
    /// The shrunk run's violations, one line each (empty for a panic).
    pub(crate) violations: Vec<String>,
    pub(crate) drawn_size: usize,
    pub(crate) drawn: String,
    pub(crate) shrunk_size: usize,
    pub(crate) shrunk: String,
    pub(crate) shrink_tries: u32,
    /// The command that replays the case and shrinks it again.
    pub(crate) replay: String,
    /// A `#[test]` that replays the shrunk case.
    pub(crate) regression_test: String,
}

impl CampaignReport {
    /// Writes the report to `path`, creating its directory.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a report always serializes");
        std::fs::write(path, text + "\n")
    }

    /// Reads a report a campaign wrote.
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
        let report: CampaignReport = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a report of `syncsim fuzz --report`: {e}", path.display()))?;
        if report.schema != SCHEMA || report.version != VERSION {
            return Err(format!(
                "{} is a `{}` report, version {}; this syncsim merges `{SCHEMA}` version {VERSION}",
                path.display(),
                report.schema,
                report.version
            ));
        }
        Ok(report)
    }

    /// The verdict of a campaign: `fail` on a failure, else `pass` when every shard ran.
    pub(crate) fn verdict(failure: Option<&FailureReport>, shards: &[u64], shard_count: u64) -> &'static str {
        match failure {
            Some(_) => "fail",
            None if shards.len() as u64 == shard_count => "pass",
            None => "incomplete",
        }
    }
}

/// Merges the reports of shards of one campaign: the same seed, cases, implementation and
/// shard count, no shard twice. The first failing case is the one with the lowest index.
pub(crate) fn merge(reports: Vec<CampaignReport>) -> Result<CampaignReport, String> {
    let mut reports = reports.into_iter();
    let mut merged = reports.next().ok_or("nothing to merge: name the shards' reports")?;
    let mut seen: BTreeSet<u64> = merged.shards.iter().copied().collect();
    for report in reports {
        let campaign =
            |r: &CampaignReport| (r.seed, r.cases, r.implementation.clone(), r.shard_count, r.latest_app_version);
        if campaign(&report) != campaign(&merged) {
            return Err(format!(
                "these reports are of different campaigns: seed {} of {} cases on {}, {} shards, and seed {} of {} \
                 cases on {}, {} shards",
                merged.seed,
                merged.cases,
                merged.implementation,
                merged.shard_count,
                report.seed,
                report.cases,
                report.implementation,
                report.shard_count
            ));
        }
        if let Some(twice) = report.shards.iter().find(|s| seen.contains(s)) {
            return Err(format!(
                "shard {twice}/{} is in two of the reports: merge each shard once",
                merged.shard_count
            ));
        }
        seen.extend(report.shards.iter().copied());
        merged.cases_run += report.cases_run;
        merged.wall_seconds += report.wall_seconds;
        merged.failure = match (merged.failure.take(), report.failure) {
            (Some(a), Some(b)) => Some(if b.case < a.case { b } else { a }),
            (a, b) => a.or(b),
        };
    }
    merged.shards = seen.into_iter().collect();
    merged.cases_per_second = merged.cases_run as f64 / merged.wall_seconds.max(1e-9);
    merged.verdict = CampaignReport::verdict(merged.failure.as_ref(), &merged.shards, merged.shard_count).to_owned();
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(shard: u64, cases_run: u64, failure: Option<u64>) -> CampaignReport {
        let failure = failure.map(|case| FailureReport {
            case,
            run_seed: 7,
            failure: "violates exactly once".to_owned(),
            violations: Vec::new(),
            drawn_size: 30,
            drawn: String::new(),
            shrunk_size: 3,
            shrunk: String::new(),
            shrink_tries: 50,
            replay: format!("fuzz --seed 1 --case {case}"),
            regression_test: String::new(),
        });
        CampaignReport {
            schema: SCHEMA.to_owned(),
            version: VERSION,
            verdict: String::new(),
            seed: 1,
            cases: 100,
            implementation: "reference".to_owned(),
            latest_app_version: 5,
            shards: vec![shard],
            shard_count: 3,
            cases_run,
            wall_seconds: 10.0,
            cases_per_second: 0.0,
            failure,
            build: serde_json::Value::Null,
        }
    }

    #[test]
    fn merged_shards_add_up_and_keep_the_lowest_failing_case() {
        let merged = merge(vec![shard(2, 10, Some(40)), shard(1, 34, None), shard(3, 4, Some(11))]).unwrap();
        assert_eq!(merged.shards, [1, 2, 3]);
        assert_eq!((merged.cases_run, merged.wall_seconds), (48, 30.0));
        assert_eq!(merged.failure.map(|f| f.case), Some(11), "case 11 comes before case 40");
        assert_eq!(merged.verdict, "fail");
        let passing = merge(vec![shard(1, 34, None), shard(2, 33, None), shard(3, 33, None)]).unwrap();
        assert_eq!((passing.verdict.as_str(), passing.cases_run), ("pass", 100));
    }

    #[test]
    fn missing_shards_leave_the_campaign_undecided() {
        let merged = merge(vec![shard(1, 34, None), shard(3, 33, None)]).unwrap();
        assert_eq!(merged.verdict, "incomplete", "shard 2 of 3 never ran");
    }

    #[test]
    fn shards_of_different_campaigns_or_twice_the_same_are_refused() {
        let mut other = shard(2, 33, None);
        other.seed = 2;
        let error = merge(vec![shard(1, 34, None), other]).unwrap_err();
        assert!(error.contains("different campaigns"), "{error}");
        let error = merge(vec![shard(1, 34, None), shard(1, 34, None)]).unwrap_err();
        assert!(error.contains("shard 1/3 is in two"), "{error}");
        assert!(merge(Vec::new()).is_err());
    }
}
