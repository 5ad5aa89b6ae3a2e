//! The reference implementation plugged into the harness: the two adapters.

mod client;
mod server;

pub use client::{ReferenceApp, ReferenceClient};
pub use server::ReferenceServer;

/// How a printed regression test builds the reference.
pub fn adapters() -> syncsim::fuzz::Adapters {
    syncsim::fuzz::Adapters {
        imports: vec!["scenarios::reference::{ReferenceClient, ReferenceServer}".to_owned()],
        setup: Vec::new(),
        client: "ReferenceClient::default()".to_owned(),
        server: "ReferenceServer::default()".to_owned(),
    }
}
