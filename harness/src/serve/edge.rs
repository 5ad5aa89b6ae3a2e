//! The server's edge for one connection: every request passes it before the server, and
//! the HTTP faults in force ([`crate::net::EdgeFaults`]) hit it there. A fault that hits is
//! recorded on the timeline with the device whose request it hit.
//!
//! What is behind the edge is a [`NextHop`]: the implementation's router in the
//! simulation, the upstream server in the live proxy.

use crate::history::EventKind;
use crate::net::HttpFault;
use crate::shared::Run;
use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use tower::ServiceExt;

/// The server's edge for one connection of one device.
#[derive(Clone)]
pub(crate) struct EdgeService<N> {
    pub(crate) next: N,
    pub(crate) run: Rc<Run>,
    pub(crate) device: String,
}

/// An answer, or a cut connection.
pub(crate) type Answer = Result<Response<Body>, io::Error>;

/// What serves a request that passed the edge. An `Err` cuts the device's connection.
pub(crate) trait NextHop: Clone + 'static {
    /// Serves `request`.
    fn call(&self, request: Request<Body>) -> impl Future<Output = Answer>;
}

impl NextHop for axum::Router {
    async fn call(&self, request: Request<Body>) -> Answer {
        Ok(self.clone().oneshot(request).await.unwrap_or_else(|never| match never {}))
    }
}

impl<N: NextHop> hyper::service::Service<Request<Incoming>> for EdgeService<N> {
    type Response = Response<Body>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Answer>>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            this.run.record(&this.device, EventKind::Request { path: path.clone() });
            let fault = this.run.edge.draw(&path);
            if let Some(fault) = fault {
                this.run.record(&this.device, EventKind::Edge { fault: fault.name(), path });
            }
            this.answer(request.map(Body::new), fault).await
        })
    }
}

impl<N: NextHop> EdgeService<N> {
    async fn answer(self, request: Request<Body>, fault: Option<HttpFault>) -> Answer {
        match fault {
            Some(HttpFault::ServerError(status)) => return Ok(plain(status, "injected by the simulation's edge")),
            Some(HttpFault::TooManyRequests { retry_after }) => {
                let mut response = plain(429, "slow down (injected by the simulation's edge)");
                response.headers_mut().insert(http::header::RETRY_AFTER, retry_after.as_secs().into());
                return Ok(response);
            }
            Some(HttpFault::Slow(delay)) => tokio::time::sleep(delay).await,
            Some(HttpFault::Duplicate) => return self.twice(request).await,
            _ => {}
        }
        let response = self.next.call(request).await?;
        match fault {
            Some(HttpFault::LoseResponse) => {
                // The whole answer is read first: the server has finished with the request.
                let _ = response.into_body().collect().await;
                Err(io::Error::new(io::ErrorKind::ConnectionAborted, "response lost"))
            }
            Some(HttpFault::ResetMidBody) => truncated(response).await,
            _ => Ok(response),
        }
    }

    /// Sends `request` and a copy of it to the server at once, and answers with the first
    /// copy's answer once both are answered: the second is in the server while the first
    /// is, whatever order the server takes them in.
    async fn twice(self, request: Request<Body>) -> Answer {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
        let copy = |body: Bytes| {
            let mut copy = Request::new(Body::from(body));
            *copy.method_mut() = parts.method.clone();
            *copy.uri_mut() = parts.uri.clone();
            *copy.version_mut() = parts.version;
            *copy.headers_mut() = parts.headers.clone();
            copy
        };
        let (first, second) = tokio::join!(self.next.call(copy(body.clone())), self.next.call(copy(body)));
        // The second answer is read to its end, as a proxy does before it drops it.
        if let Ok(second) = second {
            let _ = second.into_body().collect().await;
        }
        first
    }
}

fn plain(status: u16, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// The response with its full `content-length`, whose body breaks after half its bytes.
async fn truncated(response: Response<Body>) -> Answer {
    let (mut parts, body) = response.into_parts();
    let bytes = body.collect().await.map_err(io::Error::other)?.to_bytes();
    parts.headers.insert(http::header::CONTENT_LENGTH, bytes.len().into());
    let half = bytes.slice(..bytes.len() / 2);
    Ok(Response::from_parts(parts, Body::new(HalfBody { half: Some(half) })))
}

struct HalfBody {
    half: Option<Bytes>,
}

impl http_body::Body for HalfBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(Some(match self.half.take() {
            Some(half) => Ok(Frame::data(half)),
            None => Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset mid-body")),
        }))
    }
}
