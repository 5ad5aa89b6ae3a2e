//! The server's one error type and its mapping to HTTP.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use protocol::{ErrorBody, ErrorCode};

/// Everything that can go wrong in the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is refused; nothing was changed.
    #[error("{status}: {body}")]
    Refused {
        /// The 4xx status to answer with.
        status: StatusCode,
        /// What is wrong.
        body: ErrorBody,
    },
    /// The store failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored value could not be read back.
    #[error("stored {what} is unreadable: {source}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// Binding or serving the listener failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// `Result` with the server's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refusal with `status` and a message for the client.
    pub fn refused(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Refused { status, body: ErrorBody::new(code, message) }
    }

    /// A 400 for a malformed request.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Refused { status, body } => (status, Json(body)).into_response(),
            other => {
                tracing::error!(error = %other, "request failed");
                let body = ErrorBody::new(ErrorCode::Internal, other.to_string());
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
        }
    }
}
