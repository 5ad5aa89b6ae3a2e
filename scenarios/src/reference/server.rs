//! The reference server as a [`syncsim::Server`].

use protocol::{Strategies, Strategy};
use reference_server::{app, ServerConfig, ServerHook, ServerStep, Store, Validator};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use syncsim::{BoxError, ServerCapabilities, ServerEnv, ServerRules, ServerState, ServerSteps, Step};

/// The name of the server's database file in its data directory.
const DB_FILE: &str = "server.db";

/// Serves the reference server's router from a SQLite file in the server's data directory.
#[derive(Clone, Debug, Default)]
pub struct ReferenceServer {
    /// A deliberate bug to plant (see [`crate::mutant`]). Default: none.
    pub bug: Option<reference_server::Bug>,
    /// How its WatermelonDB dialect classifies live records. Default: `updated` only.
    pub watermelon_split: reference_server::watermelon::Split,
}

impl syncsim::Server for ReferenceServer {
    fn router(&self, env: &ServerEnv) -> Result<axum::Router, BoxError> {
        let store = Store::open(&env.data_dir.join(DB_FILE))?;
        let mut config = ServerConfig::default().strategies(env.strategies.clone()).clock(Arc::new(env.clock));
        for credential in &env.credentials {
            config = config.token(credential.user.clone(), credential.token.clone());
        }
        config = config.validator(Arc::new(Rules(env.rules.clone())));
        config.hook = Some(Arc::new(StepsHook(env.steps.clone())));
        config.bug = self.bug;
        config = config.watermelon_split(self.watermelon_split);
        if let Some(horizon) = env.tombstone_horizon {
            config = config.tombstone_horizon(horizon);
        }
        Ok(app(store, config))
    }

    /// Field merge for projects and last-write-wins by hybrid clock for tasks unless told
    /// otherwise; all six strategies, counters, sets, a tombstone horizon, its steps, and
    /// the rules a scenario changes.
    fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            strategies: Strategies::default(),
            configurable: Strategy::ALL.to_vec(),
            counters: true,
            sets: true,
            tombstone_horizon: true,
            push_path: Some(protocol::PUSH_PATH),
            pull_path: Some(protocol::PULL_PATH),
            steps: vec![Step::PushCommitted, Step::PullRead],
            rules: true,
        }
    }

    fn state(&self, env: &ServerEnv) -> Result<ServerState, BoxError> {
        let store = Store::open(&env.data_dir.join(DB_FILE))?;
        let mut state = ServerState::default();
        for user in store.users()? {
            let records = store
                .records(&user)?
                .into_iter()
                .filter(|r| !r.deleted)
                .map(|r| (syncsim::RecordKey::new(r.entity, r.id.clone()), r.visible()))
                .collect();
            state.users.insert(user, records);
        }
        Ok(state)
    }
}

/// Reports the reference server's steps to the harness, which may crash or stall it at one.
struct StepsHook(ServerSteps);

impl ServerHook for StepsHook {
    fn reached(&self, step: ServerStep) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let step = match step {
            ServerStep::PushCommitted => Step::PushCommitted,
            ServerStep::PullRead => Step::PullRead,
        };
        Box::pin(self.0.reached(step))
    }
}

/// The fields a scenario has made the server refuse, as the reference server's validation.
struct Rules(ServerRules);

impl Validator for Rules {
    fn refuses(&self, mutation: &protocol::Mutation) -> Option<String> {
        let changes = &mutation.changes;
        let fields = changes.fields.keys().chain(changes.increments.keys());
        self.0.refused(fields.chain(changes.set_add.keys()).chain(changes.set_remove.keys()).map(String::as_str))
    }
}
