//! The certificate for a terminal: a row per scenario, a numbered column per invariant and
//! a legend under them, then what went wrong, each with the command that replays it.

use super::run::Determinism;
use super::subject::Planted;
use super::summary::{Certificate, Sample, Summary, Verdict};
use crate::invariant::Expectation;

/// Seeds named after the first one of a problem before "and N more".
const SEEDS_SHOWN: usize = 8;

/// The whole text: table, totals, legend, problems, and for a mutant whether it was caught.
pub(crate) fn render(certificate: &Certificate) -> String {
    let parts = [grid(certificate), totals(certificate), legend(certificate), not_applicable(certificate)];
    [parts.concat(), problems(certificate), mutant(certificate)].concat()
}

fn grid(certificate: &Certificate) -> String {
    let mut rows = vec![header(certificate)];
    rows.extend(certificate.summaries.iter().map(|s| row(s, &certificate.invariants)));
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|col| rows.iter().map(|r| r[col].chars().count()).max().unwrap_or(0)).collect();
    let gaps = gaps(&certificate.invariants);
    rows.iter().map(|cells| line(cells, &widths, &gaps)).collect()
}

fn header(certificate: &Certificate) -> Vec<String> {
    let numbers = (1..=certificate.invariants.len()).map(|i| i.to_string());
    ["scenario".to_owned(), "seeds".to_owned()]
        .into_iter()
        .chain(numbers)
        .chain(["converge".into(), "verdict".into()])
        .collect()
}

fn row(summary: &Summary, invariants: &[(&'static str, Expectation)]) -> Vec<String> {
    let cells = invariants.iter().map(|(name, expectation)| cell(summary, name, *expectation));
    let verdict = match summary.verdict {
        Verdict::Fail => "FAIL",
        Verdict::NotApplicable => "n/a",
        verdict => verdict.as_str(),
    };
    [summary.scenario.clone(), summary.seeds_run.to_string()]
        .into_iter()
        .chain(cells)
        .chain([converge(summary), verdict.to_owned()])
        .collect()
}

/// `ok`, `xN` (violated on N seeds) or `-` (not checked); hits for a Sometimes invariant.
fn cell(summary: &Summary, invariant: &str, expectation: Expectation) -> String {
    match (summary.hits(invariant), expectation) {
        (None, _) => "-".to_owned(),
        (Some(hits), Expectation::Sometimes) => compact(hits),
        (Some(_), _) => match summary.first_per_seed(invariant).len() {
            0 => "ok".to_owned(),
            seeds => format!("x{seeds}"),
        },
    }
}

/// A count in four characters or so: thousands and millions abbreviated.
fn compact(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..10_000_000 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}

fn converge(summary: &Summary) -> String {
    match (summary.median_converge_ms(), summary.max_converge_ms()) {
        (Some(median), Some(max)) => format!("{:.1}/{:.1}", median as f64 / 1000.0, max as f64 / 1000.0),
        _ => "-".to_owned(),
    }
}

/// Spaces before each column: two between groups (names, invariants that must hold,
/// coverage counters, results), one inside a group, so the table fits 120 columns.
fn gaps(invariants: &[(&'static str, Expectation)]) -> Vec<usize> {
    let first_sometimes = invariants.iter().position(|(_, e)| *e == Expectation::Sometimes);
    let mut gaps = vec![0, 2];
    gaps.extend((0..invariants.len()).map(|i| if i == 0 || Some(i) == first_sometimes { 2 } else { 1 }));
    gaps.extend([2, 1]);
    gaps
}

/// The first column and the last (the verdict) to the left, numbers to the right.
fn line(cells: &[String], widths: &[usize], gaps: &[usize]) -> String {
    let last = cells.len() - 1;
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let (gap, width) = (" ".repeat(gaps[i]), widths[i]);
        let aligned = if i == 0 || i == last { format!("{cell:<width$}") } else { format!("{cell:>width$}") };
        out.push_str(&gap);
        out.push_str(&aligned);
    }
    out.trim_end().to_owned() + "\n"
}

fn totals(certificate: &Certificate) -> String {
    let count = |v| certificate.summaries.iter().filter(|s| s.verdict == v).count();
    let runs: usize = certificate.summaries.iter().map(|s| s.seeds_run).sum();
    let twice = if certificate.determinism == Determinism::Check { ", each twice" } else { "" };
    let not_applicable = match count(Verdict::NotApplicable) {
        0 => String::new(),
        n => format!(", {n} not applicable"),
    };
    let live = if certificate.live { " live (a seed replays the plan, not the timing)" } else { "" };
    format!(
        "\n{}, {}{twice}, on the {}{live}: {} pass, {} fail, {} unknown{not_applicable}. Verdict: {}.\n",
        plural(certificate.summaries.len(), "scenario"),
        plural(runs, "run"),
        certificate.subject.name.replacen("mutant:", "mutant ", 1),
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Unknown),
        certificate.verdict().as_str(),
    )
}

fn legend(certificate: &Certificate) -> String {
    let mut out = String::from("\ninvariants (ok: held on every seed; xN: violated on N seeds; -: not checked;\n");
    out.push_str("sometimes: times the case was reached, over every seed):\n");
    let width = certificate.invariants.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (i, (name, expectation)) in certificate.invariants.iter().enumerate() {
        let expectation = format!("{expectation:?}").to_lowercase();
        out.push_str(&format!("  {:>2}  {name:<width$}  {expectation}\n", i + 1));
    }
    let clock = if certificate.live { "real" } else { "virtual" };
    out.push_str(&format!(
        "converge: {clock} seconds from the final phase to convergence, median/max over the seeds\n"
    ));
    out
}

/// The scenarios that do not apply, each with the reason.
fn not_applicable(certificate: &Certificate) -> String {
    let reasons: Vec<String> = certificate
        .summaries
        .iter()
        .filter_map(|s| s.not_applicable.as_ref().map(|why| format!("  {}: {why}\n", s.scenario)))
        .collect();
    if reasons.is_empty() {
        return String::new();
    }
    format!("\nnot applicable (what the implementation does not declare):\n{}", reasons.concat())
}

fn problems(certificate: &Certificate) -> String {
    let mut out = String::new();
    for summary in &certificate.summaries {
        for invariant in summary.violated() {
            let samples = summary.first_per_seed(invariant);
            out.push_str(&problem(&summary.scenario, &samples, |v| v.to_string()));
        }
        let undecided: Vec<_> = summary.undecided.iter().collect();
        out.push_str(&problem(&summary.scenario, &undecided, String::clone));
        let divergences: Vec<_> = summary.divergences.iter().collect();
        out.push_str(&problem(&summary.scenario, &divergences, |d| {
            format!(
                "its two runs differ at line {} of the history:\n    first:  {}\n    second: {}",
                d.line, d.first, d.second
            )
        }));
    }
    if out.is_empty() {
        out
    } else {
        format!("\nproblems (the first seed of each, and the command that replays it):\n{out}")
    }
}

/// The first sample in full, then the other seeds with the same problem.
fn problem<T>(scenario: &str, samples: &[&Sample<T>], describe: impl Fn(&T) -> String) -> String {
    let Some(first) = samples.first() else { return String::new() };
    let mut out =
        format!("  {scenario} seed {}: {}\n    replay: {}\n", first.seed, describe(&first.what), first.replay);
    let others: Vec<String> = samples[1..].iter().take(SEEDS_SHOWN).map(|s| s.seed.to_string()).collect();
    if !others.is_empty() {
        let more = samples.len() - 1 - others.len();
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        out.push_str(&format!("    also seeds {}{more}\n", others.join(", ")));
    }
    out
}

fn mutant(certificate: &Certificate) -> String {
    let Some(mutant) = &certificate.subject.planted else { return String::new() };
    let mut out = format!("\nmutant {}: {}\n  {}\n", mutant.name, mutant.change, caught(certificate, mutant));
    if !certificate.summaries.iter().any(|s| s.scenario == mutant.scenario) {
        out.push_str(&format!("  (its own scenario, {}, was not run)\n", mutant.scenario));
    }
    out
}

/// Whether the invariant that names the mutant's bug caught it, where, or what did.
pub(super) fn caught(certificate: &Certificate, mutant: &Planted) -> String {
    let expected = &mutant.caught_by;
    let caught = certificate.caught().unwrap_or_default();
    if caught.is_empty() {
        let others: Vec<&str> = certificate.summaries.iter().flat_map(|s| s.violated()).collect();
        let others =
            if others.is_empty() { "nor by any other".to_owned() } else { format!("but by: {}", dedup(others)) };
        return format!("NOT caught by `{expected}`, the invariant that names its bug, {others}");
    }
    let seeds = plural(certificate.seeds as usize, "seed");
    let whereby: Vec<String> = caught.iter().map(|(scenario, n)| format!("{scenario} ({n} of {seeds})")).collect();
    format!("caught by `{expected}`, as expected, in {}", whereby.join(", "))
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn dedup(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_are_abbreviated_to_fit_a_column() {
        assert_eq!([compact(9_999), compact(12_345), compact(123_456_789)], ["9999", "12k", "123M"]);
    }
}
