//! The page around the timeline: the verdict, the violations and the checks as plain HTML,
//! the run's data as JSON, and the inline style and script that draw it.

use super::escape;
use super::model::Timeline;
use super::violation::Found;
use crate::invariant::Expectation;
use crate::report::{Finding, Report};
use serde::Serialize;

const STYLE: &str = include_str!("timeline.css");
const SCRIPT: &str = include_str!("timeline.js");

/// What the script reads: the run, its timeline and its violations.
#[derive(Serialize)]
struct Data<'a> {
    scenario: &'a str,
    seed: u64,
    ok: bool,
    /// The declared conflict strategy per entity: how a conflict is resolved.
    strategies: &'a std::collections::BTreeMap<String, String>,
    #[serde(flatten)]
    timeline: &'a Timeline,
    violations: &'a [Found],
}

/// The whole page.
pub(super) fn render(report: &Report) -> String {
    let timeline = Timeline::of(&report.history);
    let violations: Vec<Found> = report.violations().map(|v| Found::new(v, &timeline, &report.history)).collect();
    let data = Data {
        scenario: &report.scenario,
        seed: report.seed,
        ok: report.ok(),
        strategies: &report.history.header.strategies,
        timeline: &timeline,
        violations: &violations,
    };
    let verdict = if report.ok() { "pass" } else { "FAIL" };
    let title = format!("{} seed {}: {verdict}", report.scenario, report.seed);
    [
        head(&title),
        header(report, &timeline),
        violation_list(&violations),
        checks(&report.findings),
        chart(),
        format!("<script type=\"application/json\" id=\"run-data\">{}</script>\n", embedded(&data)),
        format!("<script>\n{SCRIPT}</script>\n</body>\n</html>\n"),
    ]
    .concat()
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"syncsim {}\">\n<title>syncsim: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    )
}

fn header(report: &Report, timeline: &Timeline) -> String {
    let (class, verdict) = if report.ok() { ("pass", "pass") } else { ("fail", "FAIL") };
    let header = &report.history.header;
    let devices: Vec<String> = header.devices.iter().map(|d| format!("{} ({})", d.host, d.user)).collect();
    let strategies: Vec<String> = header.strategies.iter().map(|(e, s)| format!("{e} {s}")).collect();
    let converged = match report.converged_after_ms {
        Some(ms) => format!("converged {ms} ms into the final phase"),
        None => "did not converge".to_owned(),
    };
    let facts = [
        format!("{} device{}: {}", devices.len(), if devices.len() == 1 { "" } else { "s" }, devices.join(", ")),
        format!("strategies: {}", if strategies.is_empty() { "-".to_owned() } else { strategies.join(", ") }),
        format!(
            "{} events over {} of {} time",
            report.history.events.len(),
            seconds(timeline.end_ms),
            if report.history.header.live { "real" } else { "virtual" }
        ),
        converged,
    ];
    format!(
        "<header id=\"run\">\n<h1><span class=\"scenario\">{}</span> <span class=\"seed\">seed {}</span> \
         <span class=\"verdict {class}\">{verdict}</span></h1>\n<p class=\"facts\">{}</p>\n\
         <p class=\"replay\">replay: <code>{}</code></p>\n</header>\n",
        escape(&report.scenario),
        report.seed,
        escape(&facts.join(" \u{b7} ")),
        escape(&report.replay),
    )
}

fn violation_list(violations: &[Found]) -> String {
    if violations.is_empty() {
        return "<section id=\"violations\" class=\"none\"><h2>No violation</h2></section>\n".to_owned();
    }
    let mut out = format!(
        "<section id=\"violations\">\n<h2>{} violation{}</h2>\n<ol>\n",
        violations.len(),
        plural(violations.len())
    );
    for (i, v) in violations.iter().enumerate() {
        let host = v.host.as_deref().map(|h| format!(" on {}", escape(h))).unwrap_or_default();
        out.push_str(&format!(
            "<li class=\"violation-item\" data-violation=\"{i}\"><button type=\"button\" class=\"show\" data-violation=\"{i}\">show</button> \
             <b>{}</b> at {}{host}: {}</li>\n",
            escape(&v.invariant),
            seconds(v.t),
            escape(&v.details)
        ));
    }
    out + "</ol>\n</section>\n"
}

/// Each invariant checked and what it found: held, violated N times, or reached N times.
fn checks(findings: &[Finding]) -> String {
    let mut out = String::from("<details id=\"checks\"><summary>Invariants checked</summary>\n<table>\n");
    for finding in findings {
        let (class, result) = match (finding.expectation, finding.violations.len()) {
            (Expectation::Sometimes, _) => ("reached", format!("reached {} times", finding.hits)),
            (_, 0) => ("held", "held".to_owned()),
            (_, n) => ("violated", format!("violated {n} time{}", plural(n))),
        };
        let expectation = format!("{:?}", finding.expectation).to_lowercase();
        out.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{expectation}</td><td>{result}</td></tr>\n",
            escape(finding.invariant)
        ));
    }
    out + "</table>\n</details>\n"
}

/// The toolbar, the legend, the chart's frame, the tooltip and the details panel; the
/// script fills them.
fn chart() -> String {
    "<div id=\"toolbar\">\n<button type=\"button\" id=\"zoom-out\" title=\"zoom out (-)\">\u{2212}</button>\
     <button type=\"button\" id=\"zoom-in\" title=\"zoom in (+)\">+</button>\
     <button type=\"button\" id=\"zoom-fit\" title=\"the whole run (0)\">fit</button>\
     <input type=\"search\" id=\"find\" placeholder=\"find: op 12, task/\u{2026}, kill\" size=\"28\">\
     <span id=\"find-count\"></span>\
     <span class=\"hint\">ctrl+wheel or +/\u{2212} to zoom, drag to pan, click for details</span>\n\
     <div id=\"legend\"></div>\n</div>\n\
     <div id=\"timeline\"><div id=\"labels\"></div><div id=\"scroller\"><svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div></div>\n\
     <div id=\"tooltip\" hidden></div>\n\
     <section id=\"details\"><h2>Details</h2><div id=\"detail-body\">Click an operation, a sync round, a fault or a violation.</div></section>\n\
     <p id=\"script-error\" hidden></p>\n\
     <noscript><p>The timeline is drawn by the page's script; the verdict and the violations above read without it.</p></noscript>\n"
        .to_owned()
}

/// `data` as JSON that cannot close its `<script>` element or open a comment.
fn embedded(data: &Data<'_>) -> String {
    let json = serde_json::to_string(data).expect("the timeline always serializes");
    json.replace('&', "\\u0026").replace('<', "\\u003c").replace('>', "\\u003e")
}

/// `12.345 s`.
fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventKind, History, KillCause, HARNESS};
    use crate::invariant::fixture::{create, task, Timeline as Fixture, ALICE, DEVICE0, DEVICE1};
    use crate::invariant::{Details, Expectation, Violation};
    use crate::net::SERVER;
    use serde_json::{json, Value};

    /// Two devices; device1 is partitioned and killed during a push, its write is lost, and
    /// "no lost acknowledged writes" says so at the end of the run.
    fn failing() -> Report {
        let history = Fixture::new(&[ALICE, ALICE])
            .at(1_000)
            .acked(DEVICE1, 7, create(&task("t7"), json!({"title": "title #7 <b>&"})))
            .event(DEVICE1, EventKind::SyncStart { round: 1 })
            .at(1_500)
            .event(HARNESS, EventKind::fault(&crate::Fault::partition(1)))
            .at(2_000)
            .event(DEVICE1, EventKind::Kill { cause: KillCause::AtStep, step: Some(crate::Step::PushStarting) })
            .at(4_000)
            .event(DEVICE1, EventKind::Restart)
            .event(HARNESS, EventKind::fault(&crate::Fault::repair(1)))
            .at(9_000)
            .settle(&[(ALICE, Default::default())])
            .build();
        let details = "op 7 (create task/t7 on device1) was acknowledged and is lost: </script> <!--".to_owned();
        let details = Details::from(details).op(7).record(&task("t7"));
        report(history, vec![Violation::new("no lost acknowledged writes", 9_000, Some(DEVICE1), details)])
    }

    fn report(history: History, violations: Vec<Violation>) -> Report {
        let finding =
            |name, violations| Finding { invariant: name, expectation: Expectation::Always, violations, hits: 0 };
        Report {
            scenario: "fixture".into(),
            seed: 3,
            findings: vec![finding("no lost acknowledged writes", violations), finding("convergence", Vec::new())],
            converged_after_ms: Some(0),
            replay: "cargo run --release -p scenarios -- run fixture --seed 3".into(),
            history,
        }
    }

    /// The JSON the page embeds, read back.
    fn data(page: &str) -> Value {
        let start = page.find("id=\"run-data\">").expect("the page embeds the run") + "id=\"run-data\">".len();
        let end = start + page[start..].find("</script>").expect("the data closes");
        serde_json::from_str(&page[start..end]).expect("the embedded data is JSON")
    }

    #[test]
    fn a_failing_run_shows_its_violation_the_kill_and_the_partition_that_hit_the_device() {
        let page = timeline_page(&failing());
        let data = data(&page);
        let lanes: Vec<&str> = data["lanes"].as_array().unwrap().iter().map(|l| l["host"].as_str().unwrap()).collect();
        assert_eq!(lanes, [HARNESS, DEVICE0, DEVICE1, SERVER], "a lane per device and one for the server");
        let violation = &data["violations"][0];
        assert_eq!(
            (&violation["invariant"], &violation["t"], &violation["lane"]),
            (&json!("no lost acknowledged writes"), &json!(9_000), &json!(2))
        );
        assert_eq!(violation["ops"], json!([7]), "the operation it names");
        assert_eq!(violation["records"][0]["key"], "task/t7", "the record it names");
        let kill = violation["marks"].as_array().unwrap().iter().map(|i| &data["marks"][i.as_u64().unwrap() as usize]);
        assert!(
            kill.clone().any(|m| m["kind"] == "kill" && m["lane"] == 2),
            "the kill is among its causes: {violation}"
        );
        let spans: Vec<&Value> = violation["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &data["spans"][i.as_u64().unwrap() as usize])
            .collect();
        let kinds: Vec<&Value> = spans.iter().map(|s| &s["kind"]).collect();
        assert!(kinds.contains(&&json!("partition")) && kinds.contains(&&json!("down")), "{spans:?}");
        let partition = spans.iter().find(|s| s["kind"] == "partition").unwrap();
        assert_eq!(
            (&partition["t0"], &partition["t1"]),
            (&json!(1_500), &json!(4_000)),
            "from the partition to its repair"
        );
        assert!(page.contains("<b>no lost acknowledged writes</b>"), "the violation reads without the script");
        assert!(page.contains("class=\"verdict fail\">FAIL"));
    }

    #[test]
    fn text_from_the_run_cannot_break_out_of_the_page() {
        let page = timeline_page(&failing());
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own two scripts close");
        assert!(!page.contains("<!--"), "no comment is opened by the run's text");
        assert!(page.contains("&lt;/script&gt; &lt;!--"), "the details are escaped in the list");
        assert_eq!(data(&page)["ops"][0]["operation"]["changes"]["fields"]["title"], "title #7 <b>&");
    }

    #[test]
    fn the_same_report_gives_the_same_page_byte_for_byte() {
        assert_eq!(timeline_page(&failing()), timeline_page(&failing()));
    }

    #[test]
    fn a_passing_run_says_so_and_needs_no_network() {
        let history = Fixture::new(&[ALICE]).at(10).acked(DEVICE0, 1, create(&task("t1"), json!({}))).at(500).build();
        let page = timeline_page(&report(history, Vec::new()));
        assert!(page.contains("class=\"verdict pass\">pass") && page.contains("No violation"));
        for remote in ["http://", "https://", "src=", "@import", "url(http"] {
            let outside = page.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside.contains(remote), "the page loads nothing from outside: `{remote}`");
        }
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    }

    fn timeline_page(report: &Report) -> String {
        render(report)
    }
}
