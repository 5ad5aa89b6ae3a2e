//! The app's HTTP calls: one fresh connection per request, every await under a timeout
//! (a segment lost to a partition stalls a TCP connection for good), and backoff after
//! the server refuses.

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::wire::{Mutation, PullResponse, PushRequest, PushResponse, PULL_PATH, PUSH_PATH};
use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::io;
use std::time::Duration;
use syncsim::net::{DeviceConnector, SERVER};
use syncsim::DeviceEnv;
use tokio::time::{timeout, Instant};

/// How long connecting may take (a held link makes it hang).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request may take from sending to the last byte of the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Talks to the server for one app.
pub(crate) struct Transport {
    connector: DeviceConnector,
    device: String,
    authorization: String,
    backoff: RefCell<Backoff>,
}

impl Transport {
    /// The transport of the app opened with `env`.
    pub(crate) fn new(env: &DeviceEnv) -> Self {
        Self {
            connector: env.connector.clone(),
            device: env.host.clone(),
            authorization: format!("Bearer {}", env.token),
            backoff: RefCell::new(Backoff::new(env.seed)),
        }
    }

    /// Pushes `mutations`; the answer holds each one's outcome.
    pub(crate) async fn push(&self, mutations: Vec<Mutation>) -> Result<PushResponse> {
        let body = serde_json::to_vec(&PushRequest { device: self.device.clone(), mutations })?;
        let request = self.request(Method::POST, PUSH_PATH).header(header::CONTENT_TYPE, "application/json");
        self.send(request.body(Full::new(Bytes::from(body)))?).await
    }

    /// Pulls up to `limit` changes after change number `since`.
    pub(crate) async fn pull(&self, since: u64, limit: usize) -> Result<PullResponse> {
        let request = self.request(Method::GET, &format!("{PULL_PATH}?since={since}&limit={limit}"));
        self.send(request.body(Full::new(Bytes::new()))?).await
    }

    fn request(&self, method: Method, uri: &str) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, SERVER)
            .header(header::AUTHORIZATION, &self.authorization)
    }

    /// Sends `request` unless the backoff says wait. Times are tokio's clock, not the wall
    /// clock: virtual in the simulation, so a backoff costs no real wait there.
    async fn send<T: DeserializeOwned>(&self, request: Request<Full<Bytes>>) -> Result<T> {
        self.backoff.borrow().ready(Instant::now())?; // tokio's clock, not the wall clock
        let (status, headers, body) = self.exchange(request).await?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            let now = Instant::now(); // tokio's clock, not the wall clock
            self.backoff.borrow_mut().refused(now, retry_after(&headers));
        } else {
            self.backoff.borrow_mut().answered();
        }
        if !status.is_success() {
            return Err(Error::Status { status: status.as_u16(), body: String::from_utf8_lossy(&body).into_owned() });
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// Sends `request` on a new connection and reads the whole answer.
    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<(StatusCode, HeaderMap, Bytes)> {
        let stream =
            timeout(CONNECT_TIMEOUT, self.connector.connect()).await.map_err(|_| Error::Timeout(CONNECT_TIMEOUT))??;
        let answer = async {
            let (mut sender, mut connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            let exchange = async {
                let (parts, body) = sender.send_request(request).await?.into_parts();
                Ok((parts.status, parts.headers, body.collect().await?.to_bytes()))
            };
            // The connection is driven here rather than spawned, so that a timeout drops it.
            tokio::select! {
                biased;
                answer = exchange => answer,
                closed = &mut connection => Err(ended(closed)),
            }
        };
        timeout(REQUEST_TIMEOUT, answer).await.map_err(|_| Error::Timeout(REQUEST_TIMEOUT))?
    }
}

/// The error of a connection that ended before its answer did.
fn ended(closed: hyper::Result<()>) -> Error {
    closed.err().map_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof).into(), Error::Network)
}

/// The `Retry-After` of an answer, in whole seconds as the harness sends it.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}
