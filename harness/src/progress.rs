//! A one-line progress bar on standard error, drawn only when it is a terminal: piped or
//! redirected, a certification or a campaign prints nothing but its results.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// How often the elapsed time is redrawn while no unit completes.
const TICK: Duration = Duration::from_millis(500);

/// Units done out of a total, the wall time since the start, and the rate so far.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` units of `unit` (`runs`, `cases`), drawn at once if standard
    /// error is a terminal and hidden otherwise.
    pub(crate) fn start(total: usize, unit: &'static str) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target).with_style(style(unit));
        if terminal {
            bar.enable_steady_tick(TICK);
        }
        Progress { bar }
    }

    /// One more unit done.
    pub(crate) fn advance(&self) {
        self.bar.inc(1);
    }

    /// Stops the bar, leaving it on screen with the total wall time and rate, and ends its
    /// line: indicatif keeps the cursor on it, where the next output would follow.
    pub(crate) fn finish(&self) {
        self.bar.finish();
        if !self.bar.is_hidden() {
            eprintln!();
        }
    }
}

/// `[####......] 12/40 runs, 8s, 1.47 runs/s`. The rate is the mean since the start, not
/// indicatif's recent estimate: runs of a suite differ widely in length.
fn style(unit: &'static str) -> ProgressStyle {
    let template = format!("[{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}}, {{rate}} {unit}/s");
    let rate = |state: &ProgressState, out: &mut dyn std::fmt::Write| {
        let _ = write!(out, "{:.2}", state.pos() as f64 / state.elapsed().as_secs_f64().max(1e-9));
    };
    ProgressStyle::with_template(&template).expect("the template is valid").progress_chars("#.").with_key("rate", rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_for_every_unit() {
        for unit in ["runs", "cases"] {
            style(unit);
        }
    }
}
