//! A one-line progress bar on standard error, drawn only when it is a terminal: piped or
//! redirected, a certification or a campaign prints nothing but its results.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Width of the bar, in characters.
const BAR: usize = 30;

/// Units done out of a total, and the wall time since the start.
#[derive(Debug)]
pub(crate) struct Progress {
    total: usize,
    done: usize,
    /// What is counted: `runs`, `cases`.
    unit: &'static str,
    /// When the bar is drawn: since when. `None` when standard error is not a terminal.
    started: Option<Instant>,
}

impl Progress {
    /// A bar for `total` units, drawn at once if standard error is a terminal.
    pub(crate) fn start(total: usize, unit: &'static str) -> Self {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now(); // allowed: the wall clock of the CLI, outside any simulation
        let progress = Progress { total, done: 0, unit, started: std::io::stderr().is_terminal().then_some(now) };
        progress.draw();
        progress
    }

    /// One more unit done.
    pub(crate) fn advance(&mut self) {
        self.done += 1;
        self.draw();
    }

    /// Ends the line, leaving the bar with the total wall time on screen.
    pub(crate) fn finish(&self) {
        if self.started.is_some() {
            eprintln!();
        }
    }

    fn draw(&self) {
        let Some(started) = self.started else { return };
        let filled = (BAR * self.done).checked_div(self.total).unwrap_or(BAR);
        let bar = format!("{}{}", "#".repeat(filled), ".".repeat(BAR - filled));
        let elapsed = started.elapsed().as_secs_f64();
        let rate = self.done as f64 / elapsed.max(1e-9);
        let mut err = std::io::stderr().lock();
        let (done, total, unit) = (self.done, self.total, self.unit);
        let _ = write!(err, "\r\x1b[K[{bar}] {done}/{total} {unit}, {elapsed:.1} s, {rate:.2} {unit}/s");
        let _ = err.flush();
    }
}
