//! JUnit XML, the format CI dashboards read: `<testsuites>` of `<testsuite>`s of
//! `<testcase>`s, a failing case holding a `<failure>` (a violation: the implementation is
//! wrong) or an `<error>` (nothing was decided: a run panicked, shards are missing).
//!
//! The documents validate against the common JUnit schema (Jenkins' `junit-10.xsd`; the
//! test suite checks them against `scenarios/tests/reports/junit/junit.xsd`). No `time`
//! or `timestamp` attribute is written: the same verdict gives the same file.
//!
//! Written by hand, not with `quick-junit` (0.8): its writer always puts a `skipped`
//! count on `<testsuites>`, an attribute that element does not have in the schema, so
//! `xmllint --schema` rejects every document it writes, and it offers no way to leave the
//! count out. It also writes line breaks in attribute values as they are, which a parser
//! reads back as spaces. (It does leave out `time` and `timestamp` when they are unset.)

use std::fmt::Write as _;
use std::path::Path;

/// A `<testsuite>`.
#[derive(Clone, Debug)]
pub(crate) struct Suite {
    pub(crate) name: String,
    /// `<property>`s: how it was run (implementation, seeds, build).
    pub(crate) properties: Vec<(String, String)>,
    pub(crate) cases: Vec<TestCase>,
}

/// A `<testcase>`.
#[derive(Clone, Debug)]
pub(crate) struct TestCase {
    pub(crate) name: String,
    pub(crate) classname: String,
    pub(crate) result: CaseResult,
    /// Its `<system-out>`: what it ran and found, empty for none.
    pub(crate) out: String,
}

/// How a test case ended.
#[derive(Clone, Debug)]
pub(crate) enum CaseResult {
    Passed,
    /// A `<failure>`: `kind` is its `type`, `message` one line, `text` the whole story.
    Failed {
        kind: String,
        message: String,
        text: String,
    },
    /// An `<error>`: it could not be decided.
    Error {
        kind: String,
        message: String,
        text: String,
    },
    /// A `<skipped>`: it does not apply; `message` says why.
    Skipped {
        message: String,
    },
}

/// The document: a `<testsuites>` named `name` holding `suites`.
pub(crate) fn document(name: &str, suites: &[Suite]) -> String {
    let count = |f: fn(&CaseResult) -> bool| suites.iter().flat_map(|s| &s.cases).filter(|c| f(&c.result)).count();
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">",
        escape(name),
        count(|o| matches!(o, CaseResult::Failed { .. })),
        count(|o| matches!(o, CaseResult::Error { .. })),
    );
    for suite in suites {
        out.push_str(&suite.to_xml());
    }
    out + "</testsuites>\n"
}

/// Writes `document` to `path`, creating its directory.
pub(crate) fn write(path: &Path, document: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, document)
}

impl Suite {
    fn to_xml(&self) -> String {
        let failures = self.cases.iter().filter(|c| matches!(c.result, CaseResult::Failed { .. })).count();
        let errors = self.cases.iter().filter(|c| matches!(c.result, CaseResult::Error { .. })).count();
        let skipped = self.cases.iter().filter(|c| matches!(c.result, CaseResult::Skipped { .. })).count();
        let mut out = format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n",
            escape(&self.name),
            self.cases.len()
        );
        if !self.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (name, value) in &self.properties {
                let _ = writeln!(out, "      <property name=\"{}\" value=\"{}\"/>", escape(name), escape(value));
            }
            out.push_str("    </properties>\n");
        }
        for case in &self.cases {
            out.push_str(&case.to_xml());
        }
        out + "  </testsuite>\n"
    }
}

impl TestCase {
    fn to_xml(&self) -> String {
        let mut out =
            format!("    <testcase name=\"{}\" classname=\"{}\"", escape(&self.name), escape(&self.classname));
        let body = match &self.result {
            CaseResult::Passed => String::new(),
            CaseResult::Failed { kind, message, text } => element("failure", kind, message, text),
            CaseResult::Error { kind, message, text } => element("error", kind, message, text),
            CaseResult::Skipped { message } => format!("      <skipped message=\"{}\"/>\n", escape(message)),
        };
        let out_text = if self.out.is_empty() {
            String::new()
        } else {
            format!("      <system-out>{}</system-out>\n", escape_text(&self.out))
        };
        if body.is_empty() && out_text.is_empty() {
            out.push_str("/>\n");
            return out;
        }
        out.push_str(">\n");
        out + &body + &out_text + "    </testcase>\n"
    }
}

fn element(tag: &str, kind: &str, message: &str, text: &str) -> String {
    format!("      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>\n", escape(kind), escape(message), escape_text(text))
}

/// `text` as an XML 1.0 attribute value: markup characters escaped, line breaks and tabs
/// kept as references, and the characters XML 1.0 cannot hold at all replaced by U+FFFD.
///
/// Not [`crate::html::escape`], which only escapes markup: an HTML parser tolerates
/// control characters and keeps an attribute's line breaks, while an XML document with a
/// control character is not well-formed and a parser turns its attributes' line breaks
/// into spaces.
pub(crate) fn escape(text: &str) -> String {
    escape_with(text, true)
}

/// `text` as XML 1.0 character data: like [`escape`], but line breaks and tabs stay as
/// they are, so that the file reads as text.
pub(crate) fn escape_text(text: &str) -> String {
    escape_with(text, false)
}

fn escape_with(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if allowed(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    out
}

/// XML 1.0's `Char` production.
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_line_breaks_and_characters_xml_cannot_hold_are_escaped() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("line 1\nline\t2\r"), "line 1&#10;line&#9;2&#13;");
        assert_eq!(escape_text("line 1\nline\t2 <3>\r"), "line 1\nline\t2 &lt;3&gt;&#13;", "text keeps its lines");
        assert_eq!(escape("bell\u{7} nul\u{0} \u{fffe}"), "bell\u{fffd} nul\u{fffd} \u{fffd}");
        assert_eq!(escape("é ✖ 𝄞"), "é ✖ 𝄞", "any other character stays itself");
    }

    #[test]
    fn counts_add_up_and_a_passing_case_without_output_is_empty() {
        let case =
            |name: &str, result| TestCase { name: name.into(), classname: "c".into(), result, out: String::new() };
        let failed = CaseResult::Failed { kind: "exactly once".into(), message: "m".into(), text: "t".into() };
        let error = CaseResult::Error { kind: "panic".into(), message: "m".into(), text: String::new() };
        let suite = Suite {
            name: "s".into(),
            properties: vec![("seeds".into(), "10".into())],
            cases: vec![case("a", CaseResult::Passed), case("b", failed), case("c", error)],
        };
        let xml = document("all", &[suite]);
        assert!(xml.contains("<testsuites name=\"all\" tests=\"3\" failures=\"1\" errors=\"1\">"), "{xml}");
        assert!(xml.contains("<testsuite name=\"s\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\">"), "{xml}");
        assert!(xml.contains("<testcase name=\"a\" classname=\"c\"/>"), "{xml}");
        assert!(xml.contains("<failure type=\"exactly once\" message=\"m\">t</failure>"), "{xml}");
    }
}
