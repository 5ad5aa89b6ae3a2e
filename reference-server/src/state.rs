//! What every request handler shares: the store and the configuration, and who is asking.

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::store::Store;
use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use protocol::ErrorCode;
use std::sync::{Arc, Mutex};

/// The state of the router: one store behind a lock, one configuration.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) config: Arc<ServerConfig>,
}

/// The user of the request's bearer token.
pub(crate) fn authenticate(config: &ServerConfig, headers: &HeaderMap) -> Result<String> {
    // The scheme is case-insensitive (RFC 9110 section 11.1): `bearer` and `BEARER` are `Bearer`.
    let token = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim_start().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    let unauthorized = |m: &str| Error::refused(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, m);
    let token = token.ok_or_else(|| unauthorized("missing `authorization: Bearer <token>` header"))?;
    config.tokens.get(token.trim()).cloned().ok_or_else(|| unauthorized("unknown bearer token"))
}
