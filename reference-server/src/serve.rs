//! Serving a router over any listener, with deterministic response bytes.

use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

/// Serves `router` on every connection `listener` accepts, until the task is dropped.
///
/// Each connection is served by hyper's HTTP/1 server with the `Date` header off: it reads
/// the real clock, which would make two simulated runs of one seed differ. The same
/// function serves `tokio::net::TcpListener` in production and turmoil's listener in the
/// simulation.
pub async fn serve<L: Listener>(mut listener: L, router: Router) {
    loop {
        let (io, _peer) = listener.accept().await;
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .auto_date_header(false)
                .serve_connection(TokioIo::new(io), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
