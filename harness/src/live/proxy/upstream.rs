//! The server behind the proxy: each request that passes the edge goes to it on a new
//! connection, its upload paced by the device's link and gated by its switches.

use super::gate::{Gate, Switches};
use crate::net::{Link, Paced, Way};
use crate::serve::edge::{Answer, NextHop};
use axum::body::Body;
use http::Request;
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use tokio::net::TcpStream;

/// The upstream server, as one device reaches it.
#[derive(Clone)]
pub(super) struct Upstream {
    pub(super) addr: SocketAddr,
    pub(super) link: Rc<Link>,
    pub(super) switches: Rc<Switches>,
}

impl NextHop for Upstream {
    /// A server that cannot be reached, or that cuts the connection, cuts the device's.
    async fn call(&self, request: Request<Body>) -> Answer {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let io =
            TokioIo::new(Gate::new(Paced::new(stream, self.link.clone(), Way::Up), self.switches.clone(), Way::Up));
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(io::Error::other)?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        let response = sender.send_request(request).await.map_err(io::Error::other)?;
        Ok(response.map(Body::new))
    }
}
