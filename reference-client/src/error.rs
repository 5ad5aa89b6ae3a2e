//! The client's one error type.

use protocol::{Entity, ErrorBody};

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A local write was refused before it was queued: nothing changed.
    #[error("invalid write: {0}")]
    Invalid(ErrorBody),
    /// The record does not exist locally (or is deleted).
    #[error("{entity} {id} does not exist on this device")]
    NotFound {
        /// Its entity.
        entity: Entity,
        /// Its id.
        id: String,
    },
    /// A child names a parent this device does not have.
    #[error("{field} names {parent} {id}, which does not exist on this device")]
    MissingParent {
        /// The reference field.
        field: String,
        /// The parent entity.
        parent: Entity,
        /// The parent id.
        id: String,
    },
    /// No conflict with that id is waiting for the user.
    #[error("no open conflict {0}")]
    NoSuchConflict(i64),
    /// The local database failed.
    #[error("local database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The data directory could not be created.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value could not be read back.
    #[error("stored {what} is unreadable: {source}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// The local database was written by a newer app version than this one.
    #[error("the local database is at schema version {found}, newer than this app's {supported}")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Latest version this build knows.
        supported: u32,
    },
    /// A sync round could not reach the server, or the server failed.
    #[error("sync: {0}")]
    Sync(#[from] crate::transport::TransportError),
}

/// `Result` with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn corrupt(what: &'static str) -> impl FnOnce(serde_json::Error) -> Error {
    move |source| Error::Corrupt { what, source }
}
