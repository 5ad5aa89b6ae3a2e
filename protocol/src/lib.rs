//! The wire contract of the syncsim reference sync protocol, shared by the reference client
//! and server.
//!
//! The protocol is pull-then-push over HTTP with JSON bodies. A client pulls each entity's
//! changes after its cursor (a server change sequence, never a timestamp), then pushes its
//! queued mutations in batches. Each mutation carries an idempotency key made when it was
//! queued and the record version it was based on; the server applies it at most once and
//! resolves concurrent writes with the entity's declared [`Strategy`]. Counter and set
//! fields are CRDTs ([`PnCounter`], [`OrSet`]) and never conflict. `PROTOCOL.md` at the
//! repository root documents the wire format with examples.
//!
//! ```
//! use protocol::{resolve, Hlc, Strategy, Write};
//! use std::collections::BTreeMap;
//!
//! // A write based on version 3 reaches a record now at version 5 whose `title` was
//! // rewritten at version 5: field merge keeps the server's title, applies the notes.
//! let stamps = BTreeMap::from([(
//!     "title".to_owned(),
//!     protocol::FieldStamp { version: 5, hlc: Hlc::zero("other") },
//! )]);
//! let fields = BTreeMap::from([
//!     ("title".to_owned(), "mine".into()),
//!     ("notes".to_owned(), "added".into()),
//! ]);
//! let hlc = Hlc::zero("me");
//! let decision = resolve(Strategy::FieldMerge, 5, &stamps, Write { base_version: 3, hlc: &hlc, fields: &fields });
//! assert!(decision.keep.contains("title") && decision.apply.contains("notes"));
//! ```
//!
//! Modules:
//! - `schema`: entities, fields and their kinds;
//! - `record`: a record as the server holds and sends it;
//! - `changes`: what one write changes, and how it applies to a record;
//! - `pull`, `push`: request and response bodies of the two endpoints;
//! - `error`: error bodies and codes;
//! - `validate`: shape checks on mutations;
//! - `strategy`: conflict strategies as pure functions;
//! - `crdt`: PN-counter and OR-set;
//! - `hlc`: hybrid logical clock;
//! - `clock`: the injected wall clock;
//! - `version`: protocol versions, limits and paths.

#![warn(missing_docs)]

mod changes;
mod clock;
mod crdt;
mod error;
mod hlc;
mod pull;
mod push;
mod record;
mod schema;
mod strategy;
mod validate;
mod version;

pub use changes::Changes;
pub use clock::{Clock, FixedClock, SystemClock};
pub use crdt::{OrSet, PnCounter, Tag, EVERY_ELEMENT};
pub use error::{ErrorBody, ErrorCode};
pub use hlc::{implausible, Hlc, HlcClock, MAX_AHEAD_MS};
pub use pull::{Cursor, PullQuery, PullResponse};
pub use push::{Action, Mutation, MutationOutcome, MutationResult, PushRequest, PushResponse, RejectCode, Resolution};
pub use record::{FieldStamp, Record};
pub use schema::{is_uuid, Entity, FieldDef, FieldKind};
pub use strategy::{resolve, Decision, Strategies, Strategy, Write};
pub use validate::{
    check_register, validate_mutation, validate_mutation_in, MAX_ELEMENT_LEN, MAX_INCREMENT, MAX_KEY_LEN,
};
pub use version::{
    GZIP_THRESHOLD, MAX_BATCH, MAX_BODY_BYTES, MAX_PAGE, PROTOCOL_VERSION, PULL_PATH, PUSH_PATH,
    REMOVED_PER_ELEMENT_SINCE, SUPPORTED_VERSIONS, VERSION_HEADER,
};
