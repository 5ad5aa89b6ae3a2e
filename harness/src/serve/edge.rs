//! The server's edge for one connection: every request passes it before the router, and
//! the HTTP faults in force ([`crate::net::EdgeFaults`]) hit it there. A fault that hits is
//! recorded on the timeline with the device whose request it hit.

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
pub(crate) struct EdgeService {
    pub(crate) router: axum::Router,
    pub(crate) run: Rc<Run>,
    pub(crate) device: String,
}

type Answer = Result<Response<Body>, io::Error>;

impl hyper::service::Service<Request<Incoming>> for EdgeService {
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
            this.answer(request, fault).await
        })
    }
}

impl EdgeService {
    async fn answer(self, request: Request<Incoming>, fault: Option<HttpFault>) -> Answer {
        match fault {
            Some(HttpFault::ServerError(status)) => return Ok(plain(status, "injected by the simulation's edge")),
            Some(HttpFault::TooManyRequests { retry_after }) => {
                let mut response = plain(429, "slow down (injected by the simulation's edge)");
                response.headers_mut().insert(http::header::RETRY_AFTER, retry_after.as_secs().into());
                return Ok(response);
            }
            Some(HttpFault::Slow(delay)) => tokio::time::sleep(delay).await,
            _ => {}
        }
        let response = self.router.oneshot(request.map(Body::new)).await.unwrap_or_else(|never| match never {});
        match fault {
            Some(HttpFault::LoseResponse) => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "response lost")),
            Some(HttpFault::ResetMidBody) => truncated(response).await,
            _ => Ok(response),
        }
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
