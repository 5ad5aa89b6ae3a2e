//! The server host: the implementation's router behind the harness's own accept loop, so
//! that every connection is paced by its device's link and passes the HTTP edge faults.

pub(crate) mod edge;

use crate::env::ServerEnv;
use crate::history::EventKind;
use crate::implementation::Server;
use crate::net::{Link, Paced, Way, PORT, SERVER};
use crate::shared::Run;
use edge::EdgeService;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

/// The software of the server host: runs until the host is crashed.
pub(crate) async fn main<S: Server>(server: S, env: ServerEnv, run: Rc<Run>, links: Rc<BTreeMap<String, Rc<Link>>>) {
    let router = match server.router(&env) {
        Ok(router) => router,
        Err(e) => {
            run.record(SERVER, EventKind::OpenFailed { error: e.to_string() });
            return std::future::pending().await;
        }
    };
    let listener = turmoil::net::TcpListener::bind((IpAddr::from(Ipv4Addr::UNSPECIFIED), PORT))
        .await
        .expect("the server host binds its port once per boot");
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let device = turmoil::reverse_lookup(peer.ip()).unwrap_or_else(|| peer.ip().to_string());
        let Some(link) = links.get(&device).cloned() else { continue };
        let service = EdgeService { next: router.clone(), run: run.clone(), device };
        tokio::task::spawn_local(async move {
            let io = TokioIo::new(Paced::new(stream, link, Way::Down));
            let _ =
                hyper::server::conn::http1::Builder::new().auto_date_header(false).serve_connection(io, service).await;
        });
    }
}
