//! The syncsim certification suite on the reference implementation.
//!
//! [`reference`] plugs the reference client and server into the harness through its two
//! traits; [`mutant`] holds deliberately broken variants of the reference that the suite
//! (`syncsim::suite`) must catch. The `syncsim` binary is `syncsim::cli` on the reference,
//! with the mutants as its variants.
//!
//! ```no_run
//! use scenarios::reference::{ReferenceClient, ReferenceServer};
//!
//! let report = syncsim::suite::offline_writes_then_reconnect().run(&ReferenceClient::default(), &ReferenceServer::default(), 1);
//! report.assert_ok();
//! ```
//!
//! Modules:
//! - `reference`: the adapters of the reference client and server;
//! - `mutant`: the mutant catalog, deliberately broken variants of the reference;
//! - `preset`: third-party clients run live against the reference server (`--live NAME`);
//! - `figures`: the performance figures, their targets, and the report of both.

#![warn(missing_docs)]

pub mod figures;
pub mod mutant;
pub mod preset;
pub mod reference;
