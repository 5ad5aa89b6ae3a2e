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
//! use reference_client::{Changes, Replica, ClientConfig, TcpConnector};
//! use protocol::Entity;
//! use std::rc::Rc;
//!
//! let connector = Rc::new(TcpConnector::new("127.0.0.1:8080".parse().unwrap()));
//! let client = Replica::open(ClientConfig::new("/tmp/phone", "phone", "alice-token", connector))?;
//! let project = client.create(Entity::Project, Changes::new().set("name", "Garden"))?;
//! client.create(Entity::Task, Changes::new().set("project_id", project.as_str()).set("title", "Dig"))?;
//! let report = client.sync().await?;
//! assert_eq!(report.tally.accepted, 2);
//! # Ok(()) }
//! ```
//!
//! Modules, from the top layer down (each uses only modules below it):
//! - `scheduler`: when to sync (debounce, period, reconnect, budget, battery, metered);
//! - `replica`: [`Replica`], the app's handle on one device (writes, reads, sync, status,
//!   conflicts): the device's replica of its user's records, with its queue;
//! - `engine`: one sync round, pull then push;
//! - `app`: the state of one open app, shared by the replica's clones and the round;
//! - `status`: what the app shows about sync;
//! - `ack`, `local_write`: transactions applying what the server sent, and the user's writes;
//! - `store`: the local database and its transactions;
//! - `config`: how a client is opened, with its defaults;
//! - `schema`: local schema migrations;
//! - `report`: what a sync round did, with the tally of its push results;
//! - `hook`: the named steps of a round and the hook that sees them;
//! - `queue`: queue entries and changes;
//! - `stored`: how a record's state is encoded in its row;
//! - `error`: the error type;
//! - `transport`: HTTP over a connector, timeouts, gzip, byte counts;
//! - `backoff`: retry delays with seeded jitter;
//! - `bug`: deliberate bugs for the mutant catalog (feature `mutants` only).

#![warn(missing_docs)]

mod ack;
mod app;
pub mod backoff;
mod bug;
mod config;
mod engine;
mod error;
mod hook;
mod local_write;
mod packed;
mod queue;
mod replica;
mod report;
pub mod scheduler;
pub mod schema;
mod status;
mod store;
mod stored;
mod transport;

#[cfg(feature = "mutants")]
pub use bug::Bug;
pub use config::ClientConfig;
pub use error::{Error, Result};
pub use hook::{SyncHook, SyncStep};
pub use protocol::Changes;
pub use queue::{QueueEntry, QueueStatus};
pub use replica::{Choice, Conflict, Replica, DB_FILE};
pub use report::{PushTally, SyncReport};
pub use status::{Status, SyncStatus};
pub use store::LocalRecord;
pub use transport::{BoxStream, Connector, Stream, TcpConnector, Timeouts, TransportError, WireCounters};
