//! syncsim: a deterministic simulation that certifies offline-first sync implementations.
//!
//! A [`Scenario`] runs a server and N devices as hosts of one turmoil simulation, in
//! virtual time, with the seed and the epoch fixed. Each device opens the app under test
//! on its own data directory (which survives kills), its user performs a seeded workload,
//! and its OS syncs it on a schedule; meanwhile the scenario's faults hit the network
//! (profiles, partitions, holds, HTTP faults at the server's edge), the devices (kills at
//! random or at named sync steps, clock offsets, drift and jumps, background budgets,
//! battery and metered flags) and the server (crash, restart). Then a final phase stops
//! every fault, restarts every device (and the server if it is down) and syncs every
//! device until idle.
//!
//! Everything that happens goes into a [`history::History`]: operations as invoke then ok,
//! fail or info, sync rounds, reads, faults, kills, and the final states.
//! [`invariant::Invariant`]s judge the history; a [`Report`] names the first violation of
//! each, with its virtual time and a command that replays the run. The same seed gives the same history, byte for byte.
//!
//! An implementation plugs in through two traits, [`Client`] (which opens an [`App`]) and
//! [`Server`], and declares what it can do ([`ClientCapabilities`], [`ServerCapabilities`]);
//! the harness knows nothing else of it. [`suite`] holds the 33 scenarios of the
//! certification, [`certify`] runs them over many seeds into a certificate (a table, JSON,
//! JUnit XML, an HTML page), and [`cli`] gives any implementation's binary the `list`,
//! `run`, `certify` and `fuzz` commands. The reference adapters live in the `scenarios`
//! crate; `examples/json-store` is a whole implementation certified this way.
//!
//! ```no_run
//! # fn demo<C: syncsim::Client, S: syncsim::Server>(client: C, server: S) {
//! use std::time::Duration;
//! use syncsim::{Fault, Profile, Scenario, Workload};
//!
//! let scenario = Scenario::builder("offline_writes_then_reconnect")
//!     .devices(2)
//!     .profile(Profile::SLOW_4G)
//!     .workload(Workload::mixed(10))
//!     .at(Duration::from_secs(5), Fault::partition(0))
//!     .at(Duration::from_secs(25), Fault::repair(0))
//!     .build();
//! scenario.run_seeds(&client, &server, syncsim::seed::sweep(32)).assert_ok();
//! # }
//! ```
//!
//! Modules:
//! - `implementation`: the two traits; `capability`: what an implementation declares and a
//!   scenario needs; `env`: what implementations are given;
//! - `suite`: the scenarios; `certify`: certification; `cli`: the command line (with
//!   `junit` and `progress`, its outputs); `pool`: the worker threads certify and fuzz
//!   run on;
//! - `scenario`: the builder and runs; `sim`: a run's world, the driver loop, the faults by
//!   group, the final phase; `shared`: what a run's hosts and driver share; `policy`: when
//!   devices sync; `command`: the commands that replay a run or a case;
//! - `net`: profiles, pacing, connectors, HTTP edge faults; `fault`: the fault schedule;
//! - `clock`: device clocks; `device`, `serve`: the hosts' software; `workload`: users;
//! - `operation`, `state`, `step`: what implementations report;
//! - `history`: the timeline and its JSON lines; `invariant`: the checks; `report`;
//! - `html`: a run's timeline as a self-contained HTML page;
//! - `fuzz`: generated runs and their shrinking; `rig`: timing sync work for benchmarks;
//! - `seed`: seeds and sweep sizes; `trace`: logs in virtual time; `error`.

#![warn(missing_docs)]

pub mod capability;
pub mod certify;
pub mod cli;
pub mod clock;
mod command;
mod device;
pub mod env;
mod error;
pub mod fault;
pub mod fuzz;
pub mod history;
pub mod html;
pub mod implementation;
pub mod invariant;
mod junit;
pub mod live;
pub mod net;
pub mod operation;
pub mod policy;
mod pool;
mod progress;
pub mod report;
pub mod rig;
pub mod scenario;
pub mod seed;
mod serve;
mod shared;
pub mod sim;
pub mod state;
pub mod step;
pub mod suite;
pub mod trace;
pub mod workload;

pub use capability::{Capabilities, ClientCapabilities, ServerCapabilities};
pub use env::{DeviceEnv, ServerEnv, ServerRules, ServerSteps};
pub use error::{Error, Result};
pub use fault::Fault;
pub use implementation::{App, BoxError, Client, Server};
pub use net::Profile;
pub use operation::{Fields, Operation, RecordKey};
pub use protocol::{Changes, Entity, FieldKind, Strategies, Strategy};
pub use report::Report;
pub use scenario::Scenario;
pub use state::{DeviceState, ServerState, SyncOutcome, UserRecords};
pub use step::Step;
pub use workload::Workload;
