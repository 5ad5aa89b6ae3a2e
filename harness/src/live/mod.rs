//! Live mode: implementations that run as their own processes, in real time, over real TCP
//! on loopback.
//!
//! A live run is a scenario's run with another backend under the same driver
//! (`crate::sim::driver`): the server is a command started with the environment of
//! `DRIVERS.md`, each device boot a driver process speaking its JSON lines, each device
//! behind its own port of the fault [`Proxy`]. The history, the invariants and the reports
//! are the simulation's. Nothing here is reached from the simulation: live code reads the
//! real clock, and a seed replays a live run's plan (operations, faults, kill points), not
//! its timing.
//!
//! Modules: `proxy` (the fault proxy, also the `proxy` command), `message` (the driver
//! protocol's messages), `process` (child processes in their own groups, always reaped),
//! `remote` (the harness's end of a driver), `backend` (the live world a driver acts on),
//! `run` (one live run, what fits real time, the server's state read black-box), `drive`
//! and `serve` (a Rust implementation behind the protocol: the `drive` and `serve`
//! commands).

mod backend;
pub(crate) mod drive;
pub mod message;
mod process;
pub mod proxy;
mod remote;
mod run;
pub(crate) mod serve;

pub use proxy::Proxy;
pub(crate) use run::{declared, execute};
pub use run::{fits, Commands};

/// The real clock, read where a live timeline starts.
#[allow(clippy::disallowed_methods)] // live mode runs in real time: this is its clock
pub(crate) fn now() -> std::time::Instant {
    std::time::Instant::now() // live mode runs in real time
}
