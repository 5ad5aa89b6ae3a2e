//! The reference implementation plugged into the harness: the two adapters.

mod client;
mod server;

pub use client::{ReferenceApp, ReferenceClient};
pub use server::ReferenceServer;
