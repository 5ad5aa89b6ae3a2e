//! The certificate as a page (`--html PATH`): the scenario x invariant grid with verdicts,
//! seeds, times to converge and "sometimes" coverage, and each problem with the command
//! that replays it and a link to the failing run's timeline, written under `runs/` beside
//! the page. Self-contained (no network) and the same for the same certification.

use super::run::Determinism;
use super::summary::{Certificate, Sample, Summary, Verdict};
use super::table;
use crate::html::escape;
use crate::invariant::{Expectation, Violation};
use std::path::{Path, PathBuf};

const STYLE: &str = "\
body { margin: 0; padding: 18px 22px 40px; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 22px 0 8px; } h3 { font-size: 14px; margin: 14px 0 4px; }
code { font: 12.5px ui-monospace, Menlo, Consolas, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 3px; }
.muted { color: #656d76; }
.verdict { font-size: 13px; padding: 2px 8px; border-radius: 10px; color: #fff; vertical-align: 3px; }
.verdict.pass, td.verdict-pass { background: #2f9e44; } .verdict.fail, td.verdict-fail { background: #e03131; }
.verdict.unknown, td.verdict-unknown { background: #f08c00; }
.verdict.not_applicable, td.verdict-not_applicable { background: #868e96; }
.grid td.na { color: #868e96; font-style: italic; text-align: left; }
table.grid { border-collapse: collapse; margin-top: 8px; }
.grid th, .grid td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: center; }
.grid th.invariant { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; white-space: nowrap; padding: 6px 3px; }
.grid th.sometimes { background: #f1f3f5; }
.grid td.scenario { text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.grid td.ok { background: #ebfbee; color: #2b8a3e; }
.grid td.violated { background: #ffe3e3; color: #c92a2a; font-weight: 700; }
.grid td.violated a { color: inherit; }
.grid td.unchecked { color: #adb5bd; }
.grid td.reached { background: #f8f9fa; }
.grid td.unreached { background: #fff3bf; color: #e67700; }
.grid td.verdict-pass, .grid td.verdict-fail, .grid td.verdict-unknown, .grid td.verdict-not_applicable { color: #fff; font-weight: 700; }
.grid tr:hover td { outline: 1px solid #adb5bd; }
.problem { margin: 4px 0 10px; padding: 6px 10px; border-left: 4px solid #e03131; background: #fff5f5; }
.problem.unknown { border-left-color: #f08c00; background: #fff9db; }
.problem p { margin: 2px 0; }
";

/// The page's directory, with its `runs/` directory created for the timelines.
pub(super) fn directory(page: &Path) -> Result<PathBuf, String> {
    let dir = page.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs)
        .map_err(|e| format!("could not create {} for the timelines: {e}", runs.display()))?;
    Ok(dir)
}

/// Writes the page to `path`.
pub(super) fn write(certificate: &Certificate, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(certificate))
}

/// The whole page.
pub(super) fn render(certificate: &Certificate) -> String {
    let label = certificate.subject.name.replacen("mutant:", "mutant ", 1);
    let verdict = certificate.verdict();
    [
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>syncsim certification: {} {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
            escape(&label),
            verdict.as_str()
        ),
        header(certificate, &label, verdict),
        grid(certificate),
        problems(certificate),
        "</body>\n</html>\n".to_owned(),
    ]
    .concat()
}

fn header(certificate: &Certificate, label: &str, verdict: Verdict) -> String {
    let runs: usize = certificate.summaries.iter().map(|s| s.seeds_run).sum();
    let twice = if certificate.determinism == Determinism::Check { ", each run twice" } else { "" };
    let live = if certificate.live { ", live (a seed replays the plan, not the timing)" } else { "" };
    let build = super::json::build();
    let facts = format!(
        "{} scenarios, seeds 1 to {} each, {runs} runs{twice}{live} \u{b7} syncsim {} ({} build{})",
        certificate.summaries.len(),
        certificate.seeds,
        build.version,
        build.profile,
        build.commit.map(|c| format!(", commit {}", &c[..c.len().min(12)])).unwrap_or_default(),
    );
    let mutant = match &certificate.subject.planted {
        Some(m) => format!(
            "<p>mutant <code>{}</code>: {}<br>{}</p>\n",
            escape(&m.name),
            escape(&m.change),
            escape(&table::caught(certificate, m))
        ),
        None => String::new(),
    };
    format!(
        "<h1>syncsim certification: {} <span class=\"verdict {}\">{}</span></h1>\n<p class=\"muted\">{}</p>\n{mutant}",
        escape(label),
        verdict.as_str(),
        verdict.as_str(),
        escape(&facts)
    )
}

fn grid(certificate: &Certificate) -> String {
    let mut out = String::from("<table class=\"grid\">\n<thead><tr><th>scenario</th><th>seeds</th>");
    for (name, expectation) in &certificate.invariants {
        let class = if *expectation == Expectation::Sometimes { "invariant sometimes" } else { "invariant" };
        let kind = format!("{expectation:?}").to_lowercase();
        out.push_str(&format!("<th class=\"{class}\" title=\"{kind}\">{}</th>", escape(name)));
    }
    out.push_str(
        "<th>converge<br><span class=\"muted\">median / max</span></th><th>verdict</th></tr></thead>\n<tbody>\n",
    );
    for summary in &certificate.summaries {
        out.push_str(&row(summary, &certificate.invariants));
    }
    let clock = if certificate.live { "real" } else { "virtual" };
    out + &format!(
        "</tbody>\n</table>\n<p class=\"muted\">ok: held on every seed; \u{d7}N: violated on N seeds (the link opens the \
         first one's timeline); -: not checked. Sometimes counters (shaded columns): times the case was reached, over every \
         seed; 0 is marked: the sweep never reached it. converge: {clock} seconds from the final phase to convergence.</p>\n"
    )
}

fn row(summary: &Summary, invariants: &[(&'static str, Expectation)]) -> String {
    let mut out = format!(
        "<tr id=\"{0}\"><td class=\"scenario\">{0}</td><td>{1}</td>",
        escape(&summary.scenario),
        summary.seeds_run
    );
    if let Some(reason) = &summary.not_applicable {
        let reason = escape(&format!("not applicable: {reason}"));
        out.push_str(&format!("<td class=\"na\" colspan=\"{}\">{reason}</td>", invariants.len()));
    }
    for (name, expectation) in invariants.iter().filter(|_| summary.not_applicable.is_none()) {
        out.push_str(&cell(summary, name, *expectation));
    }
    let converge = match (summary.median_converge_ms(), summary.max_converge_ms()) {
        (Some(median), Some(max)) => format!("{:.1} / {:.1} s", median as f64 / 1000.0, max as f64 / 1000.0),
        _ => "-".to_owned(),
    };
    let verdict = summary.verdict.as_str();
    out + &format!("<td>{converge}</td><td class=\"verdict-{verdict}\">{verdict}</td></tr>\n")
}

fn cell(summary: &Summary, invariant: &str, expectation: Expectation) -> String {
    match (summary.hits(invariant), expectation) {
        (None, _) => "<td class=\"unchecked\">-</td>".to_owned(),
        (Some(0), Expectation::Sometimes) => "<td class=\"unreached\" title=\"never reached\">0</td>".to_owned(),
        (Some(hits), Expectation::Sometimes) => format!("<td class=\"reached\">{hits}</td>"),
        (Some(_), _) => {
            let firsts = summary.first_per_seed(invariant);
            let Some(first) = firsts.first() else { return "<td class=\"ok\">ok</td>".to_owned() };
            let text = format!("\u{d7}{}", firsts.len());
            let title = escape(&format!("{invariant}: first on seed {}", first.seed));
            match summary.timeline(first.seed) {
                Some(link) => {
                    format!("<td class=\"violated\" title=\"{title}\"><a href=\"{}\">{text}</a></td>", escape(link))
                }
                None => format!(
                    "<td class=\"violated\" title=\"{title}\"><a href=\"#problems-{}\">{text}</a></td>",
                    escape(&summary.scenario)
                ),
            }
        }
    }
}

fn problems(certificate: &Certificate) -> String {
    let failing: Vec<&Summary> = certificate.summaries.iter().filter(|s| s.verdict > Verdict::Pass).collect();
    if failing.is_empty() {
        return "<h2>Problems</h2>\n<p>None: every invariant held on every seed.</p>\n".to_owned();
    }
    let mut out = String::from("<h2>Problems</h2>\n");
    for summary in failing {
        out.push_str(&format!("<h3 id=\"problems-{0}\">{0}</h3>\n", escape(&summary.scenario)));
        for invariant in summary.violated() {
            for sample in summary.first_per_seed(invariant) {
                out.push_str(&violation(summary, sample));
            }
        }
        for sample in &summary.undecided {
            out.push_str(&problem("unknown", sample, &sample.what, None));
        }
        for sample in &summary.divergences {
            let d = &sample.what;
            let text = format!("its two runs differ at line {}: first {} / second {}", d.line, d.first, d.second);
            out.push_str(&problem("", sample, &text, None));
        }
    }
    out
}

fn violation(summary: &Summary, sample: &Sample<Violation>) -> String {
    problem("", sample, &sample.what.to_string(), summary.timeline(sample.seed))
}

fn problem<T>(class: &str, sample: &Sample<T>, text: &str, timeline: Option<&str>) -> String {
    let link = timeline.map(|t| format!(" \u{b7} <a href=\"{}\">timeline</a>", escape(t))).unwrap_or_default();
    format!(
        "<div class=\"problem {class}\"><p><b>seed {}</b>{link}: {}</p><p>replay: <code>{}</code></p></div>\n",
        sample.seed,
        escape(text),
        escape(&sample.replay)
    )
}

#[cfg(test)]
mod tests {
    use super::super::run::{RunOutcome, SeedRun};
    use super::*;
    use crate::report::Finding;

    fn certificate() -> Certificate {
        let violated = Violation::new("exactly once", 40_977, None, "task/<t1> pomodoros is 8 & more".to_owned());
        let finding = |invariant, expectation, violations: Vec<Violation>, hits| Finding {
            invariant,
            expectation,
            violations,
            hits,
        };
        let run = |seed, violations: Vec<Violation>| SeedRun {
            seed,
            replay: format!("cargo run --release -p scenarios -- run s --seed {seed}"),
            timeline: (!violations.is_empty()).then(|| Ok(format!("runs/s-{seed}.html"))),
            outcome: RunOutcome::Checked {
                findings: vec![
                    finding("exactly once", Expectation::Always, violations, 0),
                    finding("sometimes a conflict", Expectation::Sometimes, Vec::new(), 0),
                ],
                converged_after_ms: Some(500),
                divergence: None,
            },
        };
        Certificate {
            subject: super::super::Subject::new("reference", ""),
            seeds: 2,
            determinism: Determinism::Trust,
            live: false,
            invariants: vec![("exactly once", Expectation::Always), ("sometimes a conflict", Expectation::Sometimes)],
            summaries: vec![
                Summary::new("s", vec![run(1, Vec::new()), run(2, vec![violated])]),
                Summary::not_applicable("t", "the client does not declare set fields".into()),
            ],
        }
    }

    #[test]
    fn a_violated_cell_links_to_the_failing_runs_timeline_and_its_problem_carries_the_replay() {
        let page = render(&certificate());
        assert!(page.contains("<a href=\"runs/s-2.html\">\u{d7}1</a>"), "{page}");
        assert!(
            page.contains("<td class=\"unreached\" title=\"never reached\">0</td>"),
            "coverage never reached is marked"
        );
        assert!(page.contains("cargo run --release -p scenarios -- run s --seed 2"), "the replay command");
        assert!(page.contains("task/&lt;t1&gt; pomodoros is 8 &amp; more"), "the violation, escaped");
        assert!(page.contains("class=\"verdict fail\">fail"));
        assert!(page.contains("not applicable: the client does not declare set fields"), "the reason in the grid");
        assert!(page.contains("class=\"verdict-not_applicable\">not_applicable"), "{page}");
        assert_eq!(page, render(&certificate()), "the same certification gives the same page");
    }
}
