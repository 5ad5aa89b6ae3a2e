//! Error bodies: what the server says when it refuses a request.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A machine-readable class of request error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body is not valid JSON, or not of the expected shape.
    MalformedRequest,
    /// A mutation names an entity the schema does not declare.
    UnknownEntity,
    /// A mutation names a field its entity does not declare.
    UnknownField,
    /// A field value has the wrong JSON type for its declared kind.
    WrongType,
    /// A value has the right type but is not acceptable (too long, bad id, bad action).
    InvalidValue,
    /// A create lacks a required field.
    MissingField,
    /// The body is larger than the server reads.
    BodyTooLarge,
    /// A push carries more mutations than one batch may.
    BatchTooLarge,
    /// The pull cursor is not a sequence number the server issued.
    BadCursor,
    /// The pull query is malformed (missing or out-of-range parameter).
    BadQuery,
    /// No bearer token, or one the server does not know.
    Unauthorized,
    /// The protocol version header is missing or names a version the server does not serve.
    UnsupportedVersion,
    /// The body is compressed in an encoding the server does not read.
    UnsupportedEncoding,
    /// No such endpoint.
    NotFound,
    /// The endpoint exists, with another method (the `allow` header names it).
    MethodNotAllowed,
    /// A write rests on data the server has changed since (the WatermelonDB dialect's push
    /// after a newer change): pull, merge, and push again.
    Conflict,
    /// The server is overloaded; retry after the `retry-after` header.
    TooManyRequests,
    /// The server failed; the request may be retried.
    Internal,
}

/// The JSON body of every 4xx and 5xx response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What class of error.
    pub error: ErrorCode,
    /// What is wrong, for a person.
    pub message: String,
}

impl ErrorBody {
    /// Builds an error body.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self { error, message: message.into() }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.error, self.message)
    }
}
