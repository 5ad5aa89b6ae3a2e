//! The syncsim reference offline-first client: a rusqlite store, a mutation queue and a
//! sync engine.
//!
//! Every user write commits to the local database together with its queue entry (with an
//! idempotency key made right then), so the app works offline and a kill at any point
//! loses nothing. A sync round pulls each entity's changes after its cursor (page and
//! cursor commit together), rebasing still-pending local writes on what arrived, then
//! pushes the queue in batches (answers and new versions commit together). Network access
//! goes through an injected [`Connector`], time through an injected [`protocol::Clock`],
//! randomness through a seeded RNG: the same code runs on real TCP and in the simulation.
//!
//! ```no_run
//! # async fn demo() -> Result<(), reference_client::Error> {
//! use reference_client::{Changes, Client, ClientConfig, TcpConnector};
//! use protocol::Entity;
//! use std::rc::Rc;
//!
//! let connector = Rc::new(TcpConnector::new("127.0.0.1:8080".parse().unwrap()));
//! let client = Client::open(ClientConfig::new("/tmp/phone", "phone", "alice-token", connector))?;
//! let project = client.create(Entity::Project, Changes::new().set("name", "Garden"))?;
//! client.create(Entity::Task, Changes::new().set("project_id", project.as_str()).set("title", "Dig"))?;
//! let report = client.sync().await?;
//! assert_eq!(report.tally.accepted, 2);
//! # Ok(()) }
//! ```
//!
//! Modules:
//! - `client`: the app's handle (writes, reads, sync, status, conflicts);
//! - `scheduler`: when to sync (debounce, period, reconnect, budget, battery, metered);
//! - `engine`: one sync round and its named steps;
//! - `transport`: HTTP over a connector, timeouts, gzip, byte counts;
//! - `store`, `local_write`, `ack`: the local database and its transactions;
//! - `queue`: queue entries and changes;
//! - `schema`: local schema migrations;
//! - `backoff`: retry delays with seeded jitter;
//! - `bug`: deliberate bugs for the mutant catalog (feature `mutants` only);
//! - `error`: the error type.

#![warn(missing_docs)]

mod ack;
pub mod backoff;
mod bug;
mod client;
mod engine;
mod error;
mod local_write;
mod queue;
pub mod scheduler;
pub mod schema;
mod store;
mod stored;
mod transport;

pub use ack::PushTally;
#[cfg(feature = "mutants")]
pub use bug::Bug;
pub use client::{Choice, Client, ClientConfig, Conflict, Status, DB_FILE};
pub use engine::{SyncHook, SyncReport, SyncStep};
pub use error::{Error, Result};
pub use protocol::Changes;
pub use queue::{QueueEntry, QueueStatus};
pub use store::{LocalRecord, SyncStatus};
pub use transport::{BoxStream, Connector, Stream, TcpConnector, Timeouts, TransportError, WireCounters};
