//! json-store: a small offline-first sync client and server, certified with syncsim. Copy
//! this crate to start certifying your own.
//!
//! The app keeps its records and its queue of writes in one JSON file per device, written
//! whole and renamed into place so that a kill never tears it. A write gets its idempotency
//! key when the user makes it. A sync round posts the queue and receives the user's records;
//! the server applies each write once (by key), the last arrival winning, and keeps its
//! state in a JSON file too. Counters add up; sets are not supported, and say so.
//!
//! ```no_run
//! use json_store::{JsonClient, JsonServer};
//! use syncsim::certify::Certification;
//!
//! Certification::new(JsonClient::default(), JsonServer).seeds(2).assert_pass();
//! ```
//!
//! Modules: `apply` (one write applied to a user's records, the same on both sides),
//! `file` (JSON files written atomically), `server`, `client`, `planted` (a build with a
//! bug planted, for `--mutant`).

mod apply;
mod client;
mod file;
mod planted;
mod server;

pub use client::{JsonApp, JsonClient};
pub use planted::fresh_key_per_retry;
pub use server::JsonServer;
