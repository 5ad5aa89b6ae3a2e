//! The syncsim reference sync server: an axum router over a rusqlite store.
//!
//! The server is the single authority of the reference protocol (`PROTOCOL.md`). Every push
//! runs in one SQLite write transaction: the change sequence numbers it assigns, the records
//! it writes and the idempotency results it stores commit together, so a request cancelled
//! at any point (a crash, a client that hangs up) changes nothing or everything, and a
//! replayed mutation is answered from the stored result. Concurrent writes are resolved
//! with each entity's declared strategy; counters and sets merge as CRDTs.
//!
//! The router is independent of the transport: [`serve`] runs it over any axum `Listener`,
//! real TCP in production and turmoil's in the simulation.
//!
//! ```
//! use reference_server::{app, ServerConfig, Store};
//!
//! let store = Store::in_memory().unwrap();
//! let router = app(store, ServerConfig::default().token("alice", "alice-phone-token"));
//! # drop(router);
//! ```
//!
//! Modules:
//! - `router`: the routes and the version check; `state`: what the handlers share, and
//!   bearer auth;
//! - `watermelon` and `replicache`: the WatermelonDB and Replicache dialects beside the
//!   reference protocol, on the same store;
//! - `apply`: applying one mutation (idempotency, strategies, CRDT fields, parents);
//! - `store`: the SQLite store (sequence, records, idempotency, tombstone horizon);
//! - `body`: size limits, gzip and JSON bodies;
//! - `config`: the server's configuration;
//! - `bug`: deliberate bugs for the mutant catalog (feature `mutants` only);
//! - `serve`: serving over any listener with the date header off;
//! - `error`: the error type and its HTTP mapping.

#![warn(missing_docs)]

mod apply;
mod body;
mod bug;
mod config;
mod error;
pub mod replicache;
mod router;
mod serve;
mod state;
mod store;
pub mod watermelon;

pub use body::gzip;
#[cfg(feature = "mutants")]
pub use bug::Bug;
pub use config::{ServerConfig, ServerHook, ServerStep, Validator};
pub use error::{Error, Result};
pub use router::{app, app_with_shared_store};
pub use serve::serve;
pub use store::Store;
