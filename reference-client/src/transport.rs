//! HTTP over an injected connector: timeouts on every await, a fresh connection after any
//! failure, gzip above the threshold, bytes counted on the wire.

use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST, RETRY_AFTER};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use protocol::{ErrorBody, GZIP_THRESHOLD, VERSION_HEADER};
use std::cell::Cell;
use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A byte stream to the server.
pub trait Stream: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Stream for T {}

/// A boxed stream, as connectors return it.
pub type BoxStream = Box<dyn Stream>;

/// Opens connections to the server: real TCP in production, turmoil's TCP in the
/// simulation, anything that carries bytes in tests.
pub trait Connector {
    /// Opens a new connection.
    fn connect(&self) -> Pin<Box<dyn Future<Output = std::io::Result<BoxStream>> + '_>>;
}

/// Connects with `tokio::net::TcpStream` to a fixed address.
#[derive(Clone, Debug)]
pub struct TcpConnector {
    addr: std::net::SocketAddr,
}

impl TcpConnector {
    /// A connector to `addr`.
    pub fn new(addr: std::net::SocketAddr) -> Self {
        Self { addr }
    }
}

impl Connector for TcpConnector {
    fn connect(&self) -> Pin<Box<dyn Future<Output = std::io::Result<BoxStream>> + '_>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// Why a request did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Opening the connection failed (offline, refused).
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    /// No answer in time; the connection is dropped and the outcome is unknown.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The connection broke mid-request; the outcome is unknown.
    #[error("connection failed: {0}")]
    Broken(String),
    /// The server answered 5xx or 429: retry later, no sooner than `retry_after`.
    #[error("server unavailable ({status}): {message}")]
    Unavailable {
        /// The status.
        status: StatusCode,
        /// What the body said.
        message: String,
        /// The server's `retry-after`, if any.
        retry_after: Option<Duration>,
    },
    /// The server refused the request (4xx): sending it again as it is will not help.
    #[error("refused ({status}): {body}")]
    Refused {
        /// The status.
        status: StatusCode,
        /// The error body.
        body: ErrorBody,
    },
    /// The server answered with a body this client cannot read.
    #[error("unreadable response: {0}")]
    Unreadable(String),
}

/// Request timeouts. Defaults: 5 s to connect, 15 s for a request and its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit on opening a connection.
    pub connect: Duration,
    /// Limit on one request, from sending to the last byte of the response.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(5), request: Duration::from_secs(15) }
    }
}

/// Bytes on the wire, both ways, headers included.
#[derive(Debug, Default)]
pub struct WireCounters {
    sent: Cell<u64>,
    received: Cell<u64>,
}

impl WireCounters {
    /// Bytes written to the server so far.
    pub fn sent(&self) -> u64 {
        self.sent.get()
    }

    /// Bytes read from the server so far.
    pub fn received(&self) -> u64 {
        self.received.get()
    }
}

struct Counted {
    inner: BoxStream,
    counters: Rc<WireCounters>,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.counters.received.set(self.counters.received.get() + n);
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.counters.sent.set(self.counters.sent.get() + n as u64);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct Open {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<Connection<TokioIo<Counted>, Full<Bytes>>>>,
}

/// One device's HTTP client: at most one connection, kept alive between requests and
/// dropped after any failure. The connection is driven only while a request is under way,
/// so nothing is spawned.
pub(crate) struct Transport {
    connector: Rc<dyn Connector>,
    token: String,
    /// The protocol version sent with every request.
    protocol: u32,
    timeouts: Timeouts,
    /// Whether large request bodies are compressed and compressed responses accepted.
    gzip: bool,
    open: Option<Open>,
    pub(crate) counters: Rc<WireCounters>,
}

impl Transport {
    pub(crate) fn new(
        connector: Rc<dyn Connector>,
        token: String,
        protocol: u32,
        timeouts: Timeouts,
        gzip: bool,
    ) -> Self {
        Self { connector, token, protocol, timeouts, gzip, open: None, counters: Rc::default() }
    }

    /// Sends one request and returns the (decompressed) body of a 2xx response.
    pub(crate) async fn request(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<Bytes, TransportError> {
        let result = self.request_once(method, path, json).await;
        if matches!(result, Err(TransportError::Timeout(_) | TransportError::Broken(_) | TransportError::Connect(_))) {
            self.open = None;
        }
        result
    }

    async fn request_once(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<Bytes, TransportError> {
        if self.open.is_none() {
            self.open = Some(self.connect().await?);
        }
        let request = self.build(method, path, json);
        let open = self.open.as_mut().expect("connected above");
        let limit = self.timeouts.request;
        let exchange = async {
            open.sender.ready().await.map_err(|e| TransportError::Broken(e.to_string()))?;
            let response =
                open.sender.send_request(request).await.map_err(|e| TransportError::Broken(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| TransportError::Broken(e.to_string()))?.to_bytes();
            Ok::<_, TransportError>((parts, body))
        };
        let driven = async {
            tokio::select! {
                biased;
                done = exchange => done,
                closed = &mut open.driver => Err(TransportError::Broken(match closed {
                    Ok(()) => "the server closed the connection".to_owned(),
                    Err(e) => e.to_string(),
                })),
            }
        };
        let (parts, body) = tokio::time::timeout(limit, driven).await.map_err(|_| TransportError::Timeout(limit))??;
        let body = decode(&parts.headers, body)?;
        classify(parts.status, &parts.headers, body)
    }

    async fn connect(&self) -> Result<Open, TransportError> {
        let limit = self.timeouts.connect;
        let stream = tokio::time::timeout(limit, self.connector.connect())
            .await
            .map_err(|_| TransportError::Timeout(limit))?
            .map_err(TransportError::Connect)?;
        let counted = Counted { inner: stream, counters: self.counters.clone() };
        let (sender, driver) = tokio::time::timeout(limit, http1::handshake(TokioIo::new(counted)))
            .await
            .map_err(|_| TransportError::Timeout(limit))?
            .map_err(|e| TransportError::Broken(e.to_string()))?;
        Ok(Open { sender, driver: Box::pin(driver) })
    }

    fn build(&self, method: Method, path: &str, json: Option<Vec<u8>>) -> Request<Full<Bytes>> {
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, "server")
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(VERSION_HEADER, self.protocol.to_string());
        let builder = if self.gzip { builder.header(ACCEPT_ENCODING, "gzip") } else { builder };
        let (builder, body) = match json {
            None => (builder, Bytes::new()),
            Some(json) if self.gzip && json.len() > GZIP_THRESHOLD => {
                (builder.header(CONTENT_TYPE, "application/json").header(CONTENT_ENCODING, "gzip"), gzip(&json).into())
            }
            Some(json) => (builder.header(CONTENT_TYPE, "application/json"), json.into()),
        };
        builder.body(Full::new(body)).expect("request parts are valid")
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::fast());
    encoder.write_all(data).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn decode(headers: &http::HeaderMap, body: Bytes) -> Result<Bytes, TransportError> {
    if headers.get(CONTENT_ENCODING).is_some_and(|v| v == "gzip") {
        let mut out = Vec::new();
        GzDecoder::new(&body[..]).read_to_end(&mut out).map_err(|e| TransportError::Unreadable(e.to_string()))?;
        return Ok(out.into());
    }
    Ok(body)
}

fn classify(status: StatusCode, headers: &http::HeaderMap, body: Bytes) -> Result<Bytes, TransportError> {
    if status.is_success() {
        return Ok(body);
    }
    let error_body = serde_json::from_slice::<ErrorBody>(&body)
        .unwrap_or_else(|_| ErrorBody::new(protocol::ErrorCode::Internal, String::from_utf8_lossy(&body).into_owned()));
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(TransportError::Unavailable { status, message: error_body.message, retry_after });
    }
    Err(TransportError::Refused { status, body: error_body })
}
