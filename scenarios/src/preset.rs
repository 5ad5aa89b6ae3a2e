//! Third-party clients certified live against the reference server: each runs by its
//! driver under `drivers/` (set up with `npm ci` there), the reference server serving it in
//! the client's own dialect.

use crate::reference::ReferenceServer;
use reference_server::watermelon::{self, Split};
use syncsim::cli::Preset;
use syncsim::ServerCapabilities;

/// Where the drivers are, in this checkout.
const DRIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../drivers");

/// Every preset, for `--live NAME`.
pub fn all() -> Vec<Preset<ReferenceServer>> {
    vec![watermelondb(Split::UpdatedOnly), watermelondb(Split::Literal)]
}

/// WatermelonDB 0.28, unmodified, against the reference server's WatermelonDB dialect:
/// `watermelondb` with live records pulled in `updated` only (the client passes
/// `sendCreatedAsUpdated`), `watermelondb-literal` with the backend spec's literal
/// created/updated split.
///
/// What the server declares to it: last write by arrival, field by field (WatermelonDB
/// merges a pulled record into its own by column, the device's changed columns winning,
/// and the server refuses a push over a newer change, so the columns a device pushes are
/// those it changed last), registers only (no counters, no sets), no tombstone horizon,
/// and the dialect's paths.
pub fn watermelondb(split: Split) -> Preset<ReferenceServer> {
    let name = match split {
        Split::UpdatedOnly => "watermelondb",
        Split::Literal => "watermelondb-literal",
    };
    let server_capabilities = ServerCapabilities {
        push_path: Some(watermelon::PUSH_PATH),
        pull_path: Some(watermelon::PULL_PATH),
        ..ServerCapabilities::default()
    };
    Preset {
        name: name.to_owned(),
        server: ReferenceServer { watermelon_split: split, ..ReferenceServer::default() },
        server_capabilities,
        client: format!("node {DRIVERS}/watermelondb/driver.js"),
    }
}
