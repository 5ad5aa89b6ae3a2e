//! The errors of the app and the server.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. The server answers each with one status ([`IntoResponse`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request had no bearer token, or one the server does not know.
    #[error("missing or unknown bearer token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// The request is well-formed JSON but not a valid request.
    #[error("{0}")]
    BadRequest(String),
    /// The app refused a user write; nothing was stored.
    #[error("{0}")]
    Refused(String),
    /// The server answered with an error status.
    #[error("the server answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// The server refused recently; the app waits before asking again.
    #[error("backing off after {refusals} refusals in a row: the next request waits {wait:?}")]
    BackingOff {
        /// Refusals in a row.
        refusals: u32,
        /// How long is left to wait.
        wait: Duration,
    },
    /// No answer in time (a partition stalls TCP for good).
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed.
    #[error("network: {0}")]
    Network(#[from] hyper::Error),
    /// A body did not parse.
    #[error("malformed body: {0}")]
    Json(#[from] serde_json::Error),
    /// Reading or writing a file, or connecting, failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A request could not be built.
    #[error(transparent)]
    Http(#[from] http::Error),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match self {
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::BadRequest(_) | Error::Refused(_) | Error::Json(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}
