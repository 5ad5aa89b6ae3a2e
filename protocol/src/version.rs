//! Protocol versions and the header that carries them.

/// The request header naming the protocol version the client speaks.
pub const VERSION_HEADER: &str = "x-sync-protocol";

/// The protocol version this crate speaks. Version 2 added the task field `due_on`; version
/// 3 keeps a set's removed tags per element ([`REMOVED_PER_ELEMENT_SINCE`]).
pub const PROTOCOL_VERSION: u32 = 3;

/// Every version a current server serves.
pub const SUPPORTED_VERSIONS: &[u32] = &[1, 2, 3];

/// The first protocol version whose records carry a set's removed tags per element (an
/// object from element to tags). Before it, `removed` is one array of tags, each cancelled
/// for every element: one mutation adding two elements under its key, and a remove of one
/// of them, lost the other in a merge.
pub const REMOVED_PER_ELEMENT_SINCE: u32 = 3;

/// Bodies larger than this are gzip-compressed in both directions.
pub const GZIP_THRESHOLD: usize = 10 * 1024;

/// The most mutations one push may carry.
pub const MAX_BATCH: usize = 500;

/// The largest page a pull may ask for.
pub const MAX_PAGE: u32 = 1_000;

/// The largest request body the server reads, after decompression.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The pull endpoint.
pub const PULL_PATH: &str = "/api/sync/pull";

/// The push endpoint.
pub const PUSH_PATH: &str = "/api/sync/push";
