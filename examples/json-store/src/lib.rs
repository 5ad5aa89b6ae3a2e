//! json-store: a small offline-first sync client and server that keep their state in JSON
//! files, certified with syncsim.
//!
//! The app keeps the server's records as it last pulled them, the writes the server has
//! not answered yet, the writes it refused and the pull cursor in one JSON file, written
//! whole and renamed over the old one, so a kill never tears it. What the user sees is the
//! pulled records with the unanswered writes applied over them. Each write gets its
//! idempotency key when the user makes it. A sync round pushes the queue in batches, then
//! pulls the changes after its cursor in pages; every network await has a timeout, and a
//! server that refuses (5xx, 429) is left alone for a jittered, doubling wait.
//!
//! The server keeps each user's records, their change counter and the outcome of every
//! mutation key in one JSON file per user, written the same way. The cursor is that
//! counter, never a timestamp. Text, boolean and reference fields take the last write to
//! arrive (`lww-arrival`); counters add; sets are observed-remove sets whose tags are the
//! adding writes' keys; deletes leave tombstones for good; a child of a missing or deleted
//! parent is refused, and the app shows the refusal. A write that replaces a change of
//! another device its user had not seen is counted as a conflict, though it wins all the
//! same.
//!
//! ```no_run
//! use json_store::{JsonClient, JsonServer};
//! use syncsim::certify::Certification;
//!
//! Certification::new(JsonClient::default(), JsonServer).seeds(2).assert_pass();
//! ```
//!
//! Modules:
//! - `client`: the app and its sync round; `local`: the app's stored state;
//! - `transport`: HTTP calls with timeouts; `backoff`: waiting after refusals;
//! - `server`: the router and the users' files;
//! - `wire`: the two endpoints' bodies; `record`: a record and what a write does to it;
//! - `apply`: applying an operation, and the rules that refuse one; `validate`: the
//!   schema's checks; `file`: atomic JSON files; `error`;
//! - `planted`: a build with a bug planted, for `--mutant`.

#![warn(missing_docs)]

mod apply;
mod backoff;
mod client;
mod error;
mod file;
mod local;
mod planted;
mod record;
mod server;
mod transport;
mod validate;
mod wire;

pub use client::{JsonApp, JsonClient};
pub use error::{Error, Result};
pub use planted::fresh_key_per_retry;
pub use server::{JsonServer, STRATEGIES};
