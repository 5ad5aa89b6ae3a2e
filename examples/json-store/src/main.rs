//! `json-store`: the syncsim command line on json-store's client and server: `list`, `run`,
//! `certify` and `fuzz`, and `--mutant fresh_key_per_retry`, a build with a bug planted.

use json_store::{fresh_key_per_retry, JsonClient, JsonServer};
use std::process::ExitCode;
use syncsim::cli::Cli;

fn main() -> ExitCode {
    Cli::new(JsonClient::default(), JsonServer).variant(fresh_key_per_retry()).main()
}
