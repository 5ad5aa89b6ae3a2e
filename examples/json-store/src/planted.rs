//! A build of json-store with a bug planted on purpose, to prove the checks bite: the
//! command line runs it with `--mutant fresh_key_per_retry`.

use crate::{JsonClient, JsonServer};
use syncsim::certify::Planted;
use syncsim::cli::Variant;
use syncsim::fuzz::Adapters;

/// A client that makes a new idempotency key every time it sends a write: a retry after a
/// lost answer applies the write twice. `exactly once` must catch it.
pub fn fresh_key_per_retry() -> Variant<JsonClient, JsonServer> {
    Variant {
        planted: Planted {
            name: "fresh_key_per_retry".to_owned(),
            change: "the client makes a write's idempotency key when it sends it, not when the user acts".to_owned(),
            caught_by: "exactly once".to_owned(),
            scenario: "lost_acknowledgements".to_owned(),
        },
        client: JsonClient { fresh_key_per_retry: true },
        server: JsonServer,
        adapters: Adapters {
            imports: vec!["json_store::{JsonClient, JsonServer}".to_owned()],
            setup: Vec::new(),
            client: "JsonClient { fresh_key_per_retry: true }".to_owned(),
            server: "JsonServer".to_owned(),
        },
    }
}
