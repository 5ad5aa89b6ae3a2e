//! Logs with virtual-time stamps: `RUST_LOG=syncsim=debug` shows what every host did and
//! when, in simulated seconds, inside one span per host.

use std::fmt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

/// Stamps log lines with the simulation's elapsed time (`-` outside a host).
#[derive(Clone, Copy, Debug, Default)]
pub struct VirtualTime;

impl FormatTime for VirtualTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match turmoil::sim_elapsed() {
            Some(t) => write!(w, "{:>10.3}s", t.as_secs_f64()),
            None => write!(w, "{:>11}", "-"),
        }
    }
}

/// Installs a log subscriber filtered by `RUST_LOG` (default `warn`), writing to standard
/// error with virtual-time stamps. Does nothing if a subscriber is already installed.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(VirtualTime)
        .with_writer(std::io::stderr)
        .try_init();
}
