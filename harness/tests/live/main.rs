//! Live mode on real sockets: the fault proxy in front of a small axum server.

mod proxy;
