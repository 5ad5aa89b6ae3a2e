//! Live mode: implementations that run as their own processes, in real time, over real TCP
//! on loopback.
//!
//! Nothing here is reached from the simulation: live code reads the real clock, and a
//! seed replays a live run's plan (operations, faults, kill points), not its timing.
//!
//! Modules: `proxy` (the fault proxy in front of a real server, one port per device),
//! `message` (the driver protocol's messages, `DRIVERS.md`), `process` (child processes
//! in their own groups, always reaped).

mod backend;
pub(crate) mod drive;
pub mod message;
mod process;
pub mod proxy;
mod remote;
mod run;
pub(crate) mod serve;

pub use proxy::Proxy;
pub(crate) use run::{execute, hello};
pub use run::{fits, Commands};

/// The real clock, read where a live timeline starts.
#[allow(clippy::disallowed_methods)] // live mode runs in real time: this is its clock
pub(crate) fn now() -> std::time::Instant {
    std::time::Instant::now()
}
