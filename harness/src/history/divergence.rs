//! The first difference between two histories of one seed: what a determinism check
//! reports when a run did not repeat itself.

use super::History;
use serde::Serialize;

/// Characters kept of a differing history line: a final snapshot is one line of
/// kilobytes, and the start shows which event it is.
const LINE: usize = 500;

/// The first difference between two histories of one seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The differing line of the JSON-lines history, 1-based (line 1 is the header).
    pub line: usize,
    /// That line in the first run (empty past its end), cut at 500 characters.
    pub first: String,
    /// That line in the second run (empty past its end), cut at 500 characters.
    pub second: String,
}

impl Divergence {
    /// The first line where the two histories, as JSON lines, differ; `None` when they are
    /// the same line for line.
    pub fn between(first: &History, second: &History) -> Option<Self> {
        let (first, second) = (first.to_jsonl(), second.to_jsonl());
        let (a, b): (Vec<&str>, Vec<&str>) = (first.lines().collect(), second.lines().collect());
        let i = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
        let text = |lines: &[&str]| clip(lines.get(i).copied().unwrap_or_default());
        Some(Divergence { line: i + 1, first: text(&a), second: text(&b) })
    }
}

fn clip(line: &str) -> String {
    match line.char_indices().nth(LINE) {
        Some((end, _)) => format!("{}... ({} more bytes)", &line[..end], line.len() - end),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, EventKind, Header, HARNESS};

    fn history(events: &[EventKind]) -> History {
        let header = Header {
            schema: crate::history::SCHEMA.to_owned(),
            version: crate::history::VERSION,
            scenario: "s".to_owned(),
            seed: 1,
            devices: Vec::new(),
            strategies: Default::default(),
            push_path: None,
            live: false,
            overtaken_writes_surfaced: false,
        };
        let event = |(t_ms, kind): (usize, &EventKind)| Event {
            t_ms: t_ms as u64,
            host: HARNESS.to_owned(),
            kind: kind.clone(),
        };
        History { header, events: events.iter().enumerate().map(event).collect() }
    }

    #[test]
    fn the_first_differing_history_line_is_named_with_both_versions() {
        let first = history(&[EventKind::FinalPhase, EventKind::Converged { after_ms: 500 }]);
        let second = history(&[EventKind::FinalPhase, EventKind::Converged { after_ms: 600 }]);
        assert_eq!(Divergence::between(&first, &first.clone()), None);
        let divergence = Divergence::between(&first, &second).expect("they differ");
        assert_eq!(divergence.line, 3, "line 1 is the header, line 2 the final phase");
        assert!(divergence.first.contains("500") && divergence.second.contains("600"), "{divergence:?}");
        let shorter = history(&[EventKind::FinalPhase]);
        assert_eq!(Divergence::between(&first, &shorter).map(|d| (d.line, d.second)), Some((3, String::new())));
    }
}
