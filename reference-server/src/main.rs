//! `reference-server`: the reference sync server on real TCP.
//!
//! ```text
//! cargo run --release -p reference-server -- --addr 127.0.0.1:8080 --db sync.db --user alice:TOKEN
//! ```

use clap::Parser;
use protocol::{Strategies, Strategy};
use reference_server::{app, serve, ServerConfig, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// The syncsim reference sync server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long)]
    db: PathBuf,
    /// A device credential as USER:TOKEN; repeat for more devices and users.
    #[arg(long = "user", value_parser = parse_user, required = true)]
    users: Vec<(String, String)>,
    /// Conflict strategy for projects.
    #[arg(long, default_value = "field-merge", value_parser = parse_strategy)]
    project_strategy: Strategy,
    /// Conflict strategy for tasks.
    #[arg(long, default_value = "lww-hlc", value_parser = parse_strategy)]
    task_strategy: Strategy,
    /// Purge tombstones older than this many seconds (kept forever when absent).
    #[arg(long)]
    tombstone_horizon_secs: Option<u64>,
}

fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((user, token)) if !user.is_empty() && !token.is_empty() => Ok((user.to_owned(), token.to_owned())),
        _ => Err(format!("{s:?} is not USER:TOKEN")),
    }
}

fn parse_strategy(s: &str) -> Result<Strategy, String> {
    let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
    Strategy::parse(s).ok_or_else(|| format!("unknown strategy {s:?}; one of {names:?}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut config =
        ServerConfig::default().strategies(Strategies { project: args.project_strategy, task: args.task_strategy });
    for (user, token) in args.users {
        config = config.token(user, token);
    }
    if let Some(secs) = args.tombstone_horizon_secs {
        config = config.tombstone_horizon(Duration::from_secs(secs));
    }
    let store = Store::open(&args.db)?;
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, db = %args.db.display(), "serving");
    serve(listener, app(store, config)).await;
    Ok(())
}
