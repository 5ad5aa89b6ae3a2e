//! What an implementation can do, and what a scenario needs of it.
//!
//! Real sync engines do not all have counters, sets, six conflict strategies, schema
//! upgrades or a tombstone horizon. The client declares what it does on a device
//! ([`ClientCapabilities`]), the server what it stores and resolves
//! ([`ServerCapabilities`]). A scenario needs what it is about ([`Requirement`]): a
//! scenario about server-wins needs server-wins; one about a kill after the push answer
//! needs a client that reports that step. A scenario whose needs are not met is not
//! applicable, with the reason, in every report: it never passes silently and never fails
//! for it. What a scenario only uses in passing adapts instead: a workload drops the
//! counter and set operations an implementation does not have, and a scenario that names no
//! strategies runs the server's own.

use crate::step::Step;
use protocol::{Strategies, Strategy};
use std::fmt;

/// What a client does on a device. Declared by [`crate::Client::capabilities`].
///
/// Default: register fields only (no counters, no sets), no sync step reported, no
/// conflicts shown to the user. Declare what you have with
/// `ClientCapabilities { counters: true, ..ClientCapabilities::default() }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ClientCapabilities {
    /// Counter fields: increments that add up whatever their order.
    pub counters: bool,
    /// Set fields: elements added and removed, a concurrent add winning over a remove.
    pub sets: bool,
    /// The points of a sync round (and [`Step::Migrating`]) the client reports through
    /// [`crate::env::Steps::reached`]: a kill at one it never reports could never happen.
    pub steps: Vec<Step>,
    /// Writes the server keeps for the user (the user-prompted strategy) are shown in
    /// [`crate::DeviceState::conflicts`].
    pub conflicts: bool,
    /// A write of this device that a delete from elsewhere overtook (the delete was on the
    /// server before any request of this device could carry the write, so the server keeps
    /// the record deleted) is shown to the user, in [`crate::DeviceState::failed`] or
    /// [`crate::DeviceState::conflicts`], not dropped in silence. "No lost acknowledged
    /// writes" then holds the client to it. Without it, a write lost to a delete is
    /// excused as the delete winning (WatermelonDB documents that its pull destroys a record
    /// deleted elsewhere with the edits it had not pushed).
    pub overtaken_writes: bool,
    /// The app can be logged out of its user and logged in as another on the same device
    /// ([`crate::Fault::SwitchUser`]): it shows each user only that user's data, and the
    /// writes of a user logged out still reach the server, as that user's.
    pub user_switch: bool,
}

impl ClientCapabilities {
    /// Everything the harness can ask of a client: counters, sets, every step, conflicts.
    pub fn all() -> Self {
        let mut steps = Step::ALL.to_vec();
        steps.push(Step::Migrating);
        Self { counters: true, sets: true, steps, conflicts: true, overtaken_writes: true, user_switch: true }
    }
}

/// What a server stores and resolves. Declared by [`crate::Server::capabilities`].
///
/// Default: last-write-wins by arrival for every entity and nothing else, no counters, no
/// sets, no tombstone horizon, no push or pull endpoint named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCapabilities {
    /// The strategies the server resolves conflicts with when a scenario names none: what
    /// "declared strategy honoured" judges.
    pub strategies: Strategies,
    /// The strategies it can be told to run per entity, through
    /// [`crate::ServerEnv::strategies`], besides its own. A scenario about a strategy needs
    /// it here or in [`ServerCapabilities::strategies`].
    pub configurable: Vec<Strategy>,
    /// Counter fields.
    pub counters: bool,
    /// Set fields.
    pub sets: bool,
    /// It purges tombstones older than [`crate::ServerEnv::tombstone_horizon`] and brings
    /// a device that was away longer back without resurrecting anything.
    pub tombstone_horizon: bool,
    /// The path of the requests that push writes, so that HTTP faults can hit pushes
    /// alone ([`crate::net::Route::Push`]).
    pub push_path: Option<&'static str>,
    /// The path of the requests that pull changes ([`crate::net::Route::Pull`]).
    pub pull_path: Option<&'static str>,
    /// The points of its handling it reports through [`crate::ServerEnv::steps`]
    /// ([`Step::PushCommitted`], [`Step::PullRead`]), so that a scenario can crash or stall
    /// it there.
    pub steps: Vec<Step>,
    /// It refuses every write of a field that [`crate::ServerEnv::rules`] says it no longer
    /// accepts, so that a scenario can change a validation rule while it runs.
    pub rules: bool,
}

impl Default for ServerCapabilities {
    fn default() -> Self {
        Self {
            strategies: Strategies::uniform(Strategy::LastWriteWinsArrival),
            configurable: Vec::new(),
            counters: false,
            sets: false,
            tombstone_horizon: false,
            push_path: None,
            pull_path: None,
            steps: Vec::new(),
            rules: false,
        }
    }
}

impl ServerCapabilities {
    /// Whether the server can run `strategy`.
    pub fn runs(&self, strategy: Strategy) -> bool {
        self.configurable.contains(&strategy) || [self.strategies.project, self.strategies.task].contains(&strategy)
    }
}

/// What one implementation, a client and a server together, can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The client's declaration.
    pub client: ClientCapabilities,
    /// The server's declaration.
    pub server: ServerCapabilities,
    /// The newest app version the client can open ([`crate::Client::latest_app_version`]).
    pub latest_app_version: u32,
}

impl Capabilities {
    /// Everything the harness can ask for, the reference protocol's paths, app versions 1
    /// to `latest`: what the unit tests draw plans for.
    #[cfg(test)]
    pub(crate) fn everything(latest: u32) -> Self {
        Capabilities {
            client: ClientCapabilities::all(),
            server: ServerCapabilities {
                strategies: Strategies::default(),
                configurable: Strategy::ALL.to_vec(),
                counters: true,
                sets: true,
                tombstone_horizon: true,
                push_path: Some(protocol::PUSH_PATH),
                pull_path: Some(protocol::PULL_PATH),
                steps: vec![Step::PushCommitted, Step::PullRead],
                rules: true,
            },
            latest_app_version: latest,
        }
    }

    /// Both sides have counter fields.
    pub fn counters(&self) -> bool {
        self.client.counters && self.server.counters
    }

    /// Both sides have set fields.
    pub fn sets(&self) -> bool {
        self.client.sets && self.server.sets
    }

    /// Why `requirement` is not met, or `None` when it is.
    pub fn lacks(&self, requirement: &Requirement) -> Option<String> {
        let missing = |side: &str, what: &str| Some(format!("the {side} does not declare {what}"));
        match requirement {
            Requirement::Counters if !self.client.counters => missing("client", "counter fields"),
            Requirement::Counters if !self.server.counters => missing("server", "counter fields"),
            Requirement::Sets if !self.client.sets => missing("client", "set fields"),
            Requirement::Sets if !self.server.sets => missing("server", "set fields"),
            Requirement::Strategy(s) if !self.server.runs(*s) => missing("server", &format!("the strategy {s}")),
            Requirement::Strategy(Strategy::UserPrompted) if !self.client.conflicts => {
                missing("client", "conflicts shown to the user (user-prompted)")
            }
            Requirement::TombstoneHorizon if !self.server.tombstone_horizon => missing("server", "a tombstone horizon"),
            Requirement::Step(step) if !self.client.steps.contains(step) => {
                missing("client", &format!("the sync step {}", step.name()))
            }
            Requirement::AppVersion(v) if *v > self.latest_app_version => {
                Some(format!("it installs app version {v}; the client's latest is {}", self.latest_app_version))
            }
            Requirement::PushPath if self.server.push_path.is_none() => missing("server", "its push path"),
            Requirement::PullPath if self.server.pull_path.is_none() => missing("server", "its pull path"),
            Requirement::ServerStep(step) if !self.server.steps.contains(step) => {
                missing("server", &format!("the step {}", step.name()))
            }
            Requirement::ServerRules if !self.server.rules => missing("server", "validation rules a scenario changes"),
            Requirement::UserSwitch if !self.client.user_switch => {
                missing("client", "that another user can log in on the same app")
            }
            _ => None,
        }
    }
}

/// Something a scenario is about, which the implementation must have for it to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Requirement {
    /// Counter fields.
    Counters,
    /// Set fields.
    Sets,
    /// A conflict strategy the scenario declares for an entity.
    Strategy(Strategy),
    /// Tombstones purged after a horizon.
    TombstoneHorizon,
    /// A sync step the scenario kills the app at.
    Step(Step),
    /// An app version the scenario installs.
    AppVersion(u32),
    /// Faults that hit pushes alone.
    PushPath,
    /// Faults that hit pulls alone.
    PullPath,
    /// A step of the server's the scenario crashes it at.
    ServerStep(Step),
    /// Validation rules the scenario changes while the server runs.
    ServerRules,
    /// Another user logging in on a device.
    UserSwitch,
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Counters => f.write_str("counter fields"),
            Requirement::Sets => f.write_str("set fields"),
            Requirement::Strategy(s) => write!(f, "the strategy {s}"),
            Requirement::TombstoneHorizon => f.write_str("a tombstone horizon"),
            Requirement::Step(step) => write!(f, "the sync step {}", step.name()),
            Requirement::AppVersion(v) => write!(f, "app version {v}"),
            Requirement::PushPath => f.write_str("faults on pushes alone"),
            Requirement::PullPath => f.write_str("faults on pulls alone"),
            Requirement::ServerStep(step) => write!(f, "the server step {}", step.name()),
            Requirement::ServerRules => f.write_str("validation rules changed while the server runs"),
            Requirement::UserSwitch => f.write_str("another user logging in on a device"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_like() -> Capabilities {
        Capabilities::everything(6)
    }

    #[test]
    fn an_implementation_with_everything_lacks_nothing() {
        let all = reference_like();
        let requirements = [Requirement::Counters, Requirement::Sets, Requirement::TombstoneHorizon]
            .into_iter()
            .chain(Strategy::ALL.map(Requirement::Strategy))
            .chain(Step::ALL.map(Requirement::Step))
            .chain([Requirement::AppVersion(6), Requirement::PushPath, Requirement::PullPath]);
        for requirement in requirements {
            assert_eq!(all.lacks(&requirement), None, "{requirement}");
        }
    }

    #[test]
    fn each_missing_capability_is_named_with_the_side_that_lacks_it() {
        let mut caps = reference_like();
        caps.server.counters = false;
        caps.client.sets = false;
        caps.client.conflicts = false;
        caps.client.steps.retain(|s| *s != Step::PushResponseReceived);
        caps.server.configurable = vec![Strategy::ServerWins];
        let lacks = |caps: &Capabilities, r: Requirement| caps.lacks(&r).unwrap_or_default();
        assert_eq!(lacks(&caps, Requirement::Counters), "the server does not declare counter fields");
        assert_eq!(lacks(&caps, Requirement::Sets), "the client does not declare set fields");
        assert_eq!(
            lacks(&caps, Requirement::Strategy(Strategy::ClientWins)),
            "the server does not declare the strategy client-wins"
        );
        assert_eq!(lacks(&caps, Requirement::Strategy(Strategy::FieldMerge)), "", "its own default strategy");
        assert!(lacks(&caps, Requirement::Strategy(Strategy::UserPrompted)).contains("the server"), "not configurable");
        caps.server.configurable.push(Strategy::UserPrompted);
        assert!(
            lacks(&caps, Requirement::Strategy(Strategy::UserPrompted)).contains("client"),
            "the client shows none"
        );
        assert_eq!(
            lacks(&caps, Requirement::Step(Step::PushResponseReceived)),
            "the client does not declare the sync step push_response_received"
        );
        assert_eq!(lacks(&caps, Requirement::AppVersion(7)), "it installs app version 7; the client's latest is 6");
    }

    #[test]
    fn the_defaults_declare_registers_under_last_write_wins_by_arrival_alone() {
        let caps = Capabilities {
            client: ClientCapabilities::default(),
            server: ServerCapabilities::default(),
            latest_app_version: 1,
        };
        assert!(!caps.counters() && !caps.sets());
        assert_eq!(caps.lacks(&Requirement::Strategy(Strategy::LastWriteWinsArrival)), None);
        assert!(caps.lacks(&Requirement::Strategy(Strategy::LastWriteWinsHlc)).is_some());
        assert!(caps.lacks(&Requirement::Step(Step::PullStarting)).is_some());
    }
}
