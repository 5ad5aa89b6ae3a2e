//! Third-party clients certified live against the reference server: each runs by its
//! driver under `drivers/` (set up with `npm ci` there), the reference server serving it in
//! the client's own dialect.

use crate::mutant::DIALECTS;
use crate::reference::ReferenceServer;
use reference_server::{replicache, watermelon};
use syncsim::cli::Preset;
use syncsim::ServerCapabilities;
use watermelon::Split;

/// Where the drivers are, in this checkout.
const DRIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../drivers");

/// Every preset, for `--live NAME`.
pub fn all() -> Vec<Preset<ReferenceServer>> {
    vec![watermelondb(Split::UpdatedOnly), watermelondb(Split::Literal), replicache()]
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
        variants: variants(name),
    }
}

/// Replicache 15.3, unmodified, against the reference server's Replicache dialect, with its
/// mutants (`crate::mutant::DIALECTS`).
///
/// What the server declares to it: last write by arrival, field by field (the server runs
/// each mutator when its mutation arrives, and an update sets only the fields it names),
/// counters (increments are mutations, run once each) and sets (adds and removes of
/// elements, run in arrival order), no tombstone horizon, and the dialect's paths.
pub fn replicache() -> Preset<ReferenceServer> {
    let name = "replicache";
    let server_capabilities = ServerCapabilities {
        counters: true,
        sets: true,
        push_path: Some(replicache::PUSH_PATH),
        pull_path: Some(replicache::PULL_PATH),
        ..ServerCapabilities::default()
    };
    Preset {
        name: name.to_owned(),
        server: ReferenceServer::default(),
        server_capabilities,
        client: format!("node {DRIVERS}/replicache/driver.mjs"),
        variants: variants(name),
    }
}

fn variants(preset: &str) -> Vec<syncsim::cli::PresetVariant<ReferenceServer>> {
    DIALECTS.iter().filter(|d| d.preset == preset).map(|d| d.variant()).collect()
}
