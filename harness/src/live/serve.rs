//! The server command for a Rust [`Server`]: the `serve` command, which any binary made
//! with `syncsim::cli` has. It reads the environment of `DRIVERS.md` and serves the
//! server's router on real TCP, on the machine's clock.

use crate::clock::ServerClock;
use crate::env::{Credential, ServerEnv};
use crate::implementation::Server;
use protocol::{Strategies, Strategy};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Serves `server` as `DRIVERS.md` says until killed; exits 2 when the environment is
/// incomplete or the port is taken.
pub(crate) fn serve<S: Server>(server: S) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, run(server)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("{why}");
            ExitCode::from(2)
        }
    }
}

async fn run<S: Server>(server: S) -> Result<(), String> {
    let (port, env) = environment(&|name| std::env::var(name).ok())?;
    let router = server.router(&env).map_err(|e| format!("the server could not start: {e}"))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    axum::serve(listener, router).await.map_err(|e| format!("serving: {e}"))
}

/// The port and the server's environment, from the variables `var` reads.
fn environment(var: &dyn Fn(&str) -> Option<String>) -> Result<(u16, ServerEnv), String> {
    let required = |name: &str| var(name).ok_or_else(|| format!("{name} is not set: the harness sets it (DRIVERS.md)"));
    let port = required("SYNCSIM_PORT")?;
    let port = port.parse().map_err(|_| format!("SYNCSIM_PORT={port:?} is not a port"))?;
    let credentials = required("SYNCSIM_USERS")?
        .split(',')
        .map(|pair| match pair.split_once(':') {
            Some((user, token)) => Ok(Credential { user: user.to_owned(), token: token.to_owned() }),
            None => Err(format!("SYNCSIM_USERS: {pair:?} is not user:token")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut strategies = Strategies::default();
    for pair in var("SYNCSIM_STRATEGIES").unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
        let parsed = pair.split_once('=').and_then(|(entity, name)| Some((entity, Strategy::parse(name)?)));
        match parsed {
            Some(("project", strategy)) => strategies.project = strategy,
            Some(("task", strategy)) => strategies.task = strategy,
            _ => return Err(format!("SYNCSIM_STRATEGIES: {pair:?} is not project=NAME or task=NAME")),
        }
    }
    let horizon = match var("SYNCSIM_TOMBSTONE_HORIZON_MS") {
        Some(ms) => {
            Some(Duration::from_millis(ms.parse().map_err(|_| format!("SYNCSIM_TOMBSTONE_HORIZON_MS={ms:?}"))?))
        }
        None => None,
    };
    let env = ServerEnv {
        data_dir: PathBuf::from(required("SYNCSIM_DATA_DIR")?),
        credentials,
        strategies,
        tombstone_horizon: horizon,
        clock: ServerClock::live(),
        seed: var("SYNCSIM_SEED").and_then(|s| s.parse().ok()).unwrap_or(0),
        steps: crate::env::ServerSteps::default(),
        rules: crate::env::ServerRules::default(),
    };
    Ok((port, env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_environment_of_drivers_md_reads_as_a_server_env() {
        let (port, env) = environment(&vars(&[
            ("SYNCSIM_PORT", "4100"),
            ("SYNCSIM_DATA_DIR", "/tmp/s"),
            ("SYNCSIM_USERS", "alice:a-device0,bob:b-device1"),
            ("SYNCSIM_STRATEGIES", "project=server-wins,task=lww-hlc"),
            ("SYNCSIM_TOMBSTONE_HORIZON_MS", "5000"),
        ]))
        .unwrap();
        assert_eq!(port, 4100);
        assert_eq!(env.credentials[1], Credential { user: "bob".into(), token: "b-device1".into() });
        assert_eq!(env.strategies.project, Strategy::ServerWins);
        assert_eq!(env.tombstone_horizon, Some(Duration::from_secs(5)));
    }

    #[test]
    fn a_missing_or_wrong_variable_is_named() {
        let error = environment(&vars(&[("SYNCSIM_PORT", "4100")])).unwrap_err();
        assert!(error.contains("SYNCSIM_USERS is not set"), "{error}");
        let error = environment(&vars(&[("SYNCSIM_PORT", "x"), ("SYNCSIM_USERS", "a:b")])).unwrap_err();
        assert!(error.contains("not a port"), "{error}");
        let bad = [
            ("SYNCSIM_PORT", "1"),
            ("SYNCSIM_USERS", "a:b"),
            ("SYNCSIM_DATA_DIR", "/t"),
            ("SYNCSIM_STRATEGIES", "task=coin-toss"),
        ];
        assert!(environment(&vars(&bad)).unwrap_err().contains("task=coin-toss"));
    }
}
