//! The builder calls a plan makes, each both applied to a [`Builder`] and printed as the
//! Rust that makes it: the scenario a campaign runs and the regression test it prints come
//! from one list, so the test replays exactly what failed.

use crate::fault::{ClockChange, Fault, Host, Target, Ways};
use crate::net::{HttpFault, Profile, Route};
use crate::scenario::Builder;
use crate::workload::Workload;
use protocol::Strategies;
use std::collections::BTreeSet;
use std::time::Duration;

/// One call of a scenario builder.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Description(String),
    Users(usize),
    Devices(usize),
    Profile(Profile),
    Strategies(Strategies),
    TombstoneHorizon(Duration),
    Workload {
        shared: bool,
        ops: u32,
        every: Duration,
    },
    /// A workload of edits and deletes on records set up by device 0.
    Deletes {
        ops: u32,
        every: Duration,
    },
    Duration(Duration),
    AppVersionOn(usize, u32),
    ClockOffset(usize, i64),
    At(Duration, Fault),
}

impl Call {
    /// Makes the call on `builder`.
    pub(crate) fn apply(self, builder: Builder) -> Builder {
        match self {
            Call::Description(text) => builder.description(&text),
            Call::Users(n) => builder.users(n),
            Call::Devices(n) => builder.devices(n),
            Call::Profile(profile) => builder.profile(profile),
            Call::Strategies(strategies) => builder.strategies(strategies),
            Call::TombstoneHorizon(horizon) => builder.tombstone_horizon(horizon),
            Call::Workload { shared, ops, every } => builder.workload(workload(shared, ops).every(every)),
            Call::Deletes { ops, every } => builder.workload(deletes(ops).every(every)),
            Call::Duration(duration) => builder.duration(duration),
            Call::AppVersionOn(i, version) => builder.app_version_on(i, version),
            Call::ClockOffset(i, offset) => builder.clock_offset(i, offset),
            Call::At(at, fault) => builder.at(at, fault),
        }
    }

    /// The call as Rust, `.users(2)`, adding the paths it needs (below `syncsim::`) to `uses`. Durations are
    /// written `ms(..)`, with `let ms = Duration::from_millis;` in scope.
    pub(crate) fn rust(&self, uses: &mut BTreeSet<&'static str>) -> String {
        match self {
            Call::Description(text) => format!(".description({text:?})"),
            Call::Users(n) => format!(".users({n})"),
            Call::Devices(n) => format!(".devices({n})"),
            Call::Profile(profile) => format!(".profile({})", profile_rust(profile, uses)),
            Call::Strategies(s) => {
                uses.extend(["Strategies", "Strategy"]);
                format!(
                    ".strategies(Strategies {{ project: Strategy::{:?}, task: Strategy::{:?} }})",
                    s.project, s.task
                )
            }
            Call::TombstoneHorizon(horizon) => format!(".tombstone_horizon({})", duration_rust(*horizon)),
            Call::Workload { shared, ops, every } => {
                uses.insert("Workload");
                let kind = if *shared { "edit_same_records" } else { "mixed" };
                format!(".workload(Workload::{kind}({ops}).every({}))", duration_rust(*every))
            }
            Call::Deletes { ops, every } => {
                uses.extend(["workload::Mix", "Workload"]);
                format!(
                    ".workload(Workload {{ setup_projects: 3, setup_tasks: 6, ..Workload::mixed({ops}).mix(Mix::DELETES) }}.every({}))",
                    duration_rust(*every)
                )
            }
            Call::Duration(duration) => format!(".duration({})", duration_rust(*duration)),
            Call::AppVersionOn(i, version) => format!(".app_version_on({i}, {version})"),
            Call::ClockOffset(i, offset) => format!(".clock_offset({i}, {offset})"),
            Call::At(at, fault) => {
                uses.insert("Fault");
                format!(".at({}, {})", duration_rust(*at), fault_rust(fault, uses))
            }
        }
    }
}

fn workload(shared: bool, ops: u32) -> Workload {
    if shared {
        Workload::edit_same_records(ops)
    } else {
        Workload::mixed(ops)
    }
}

fn deletes(ops: u32) -> Workload {
    Workload { setup_projects: 3, setup_tasks: 6, ..Workload::mixed(ops).mix(crate::workload::Mix::DELETES) }
}

fn duration_rust(duration: Duration) -> String {
    format!("ms({})", duration.as_millis())
}

/// `Profile::LTE` for [`Profile::LTE`]: the constant of [`Profile::ALL`] with its name.
fn profile_rust(profile: &Profile, uses: &mut BTreeSet<&'static str>) -> String {
    const NAMES: [&str; 9] =
        ["OFFLINE", "BLACKHOLE", "EDGE", "THREE_G", "SLOW_4G", "REGULAR_4G", "LTE", "WIFI", "VERY_BAD"];
    let i = Profile::ALL.iter().position(|p| p.name == profile.name);
    let name = i.map(|i| NAMES[i]).unwrap_or_else(|| panic!("profile `{}` is not one of Profile::ALL", profile.name));
    uses.insert("Profile");
    format!("Profile::{name}")
}

/// The Rust of the faults a plan makes. Panics on any other: add its form here when a plan
/// starts making it.
fn fault_rust(fault: &Fault, uses: &mut BTreeSet<&'static str>) -> String {
    let host = |host: &Host| match host {
        Host::Server => "Host::Server".to_owned(),
        Host::Device(i) => format!("Host::Device({i})"),
    };
    match fault {
        Fault::Partition(Target::Device(i), Ways::Both) => format!("Fault::partition({i})"),
        Fault::Repair(Target::Device(i), Ways::Both) => format!("Fault::repair({i})"),
        Fault::KillAt(Target::Device(i), step, restart) if *restart == Duration::from_secs(2) => {
            uses.insert("Step");
            format!("Fault::kill_at({i}, Step::{step:?})")
        }
        Fault::KillAt(Target::Device(i), step, restart) => {
            uses.insert("Step");
            format!("Fault::KillAt({i}.into(), Step::{step:?}, {})", duration_rust(*restart))
        }
        Fault::ServerCrashAt(step, restart) if *restart == Duration::from_secs(1) => {
            uses.insert("Step");
            format!("Fault::crash_server_at(Step::{step:?})")
        }
        Fault::ServerStallAt(crate::step::Step::PullRead, stall) => {
            format!("Fault::stall_server_at_pull_read({})", duration_rust(*stall))
        }
        Fault::Http(HttpFault::Duplicate, route, permille) if *route == Route::Push => {
            format!("Fault::duplicate_pushes({permille})")
        }
        Fault::Crash(h) => {
            uses.insert("fault::Host");
            format!("Fault::Crash({})", host(h))
        }
        Fault::Bounce(h) => {
            uses.insert("fault::Host");
            format!("Fault::Bounce({})", host(h))
        }
        Fault::Http(HttpFault::LoseResponse, route, permille) if *route == Route::Push => {
            format!("Fault::lose_push_responses({permille})")
        }
        Fault::Http(HttpFault::ServerError(status), Route::Any, permille) => {
            uses.extend(["net::HttpFault", "net::Route"]);
            format!("Fault::Http(HttpFault::ServerError({status}), Route::Any, {permille})")
        }
        Fault::HttpCalm => "Fault::HttpCalm".to_owned(),
        Fault::Clock(Target::Device(i), ClockChange::Jump(by)) => format!("Fault::clock_jump({i}, {by})"),
        Fault::ServerClock(ClockChange::Jump(by)) => format!("Fault::server_clock_jump({by})"),
        Fault::RefuseField(field) => format!("Fault::RefuseField({field:?})"),
        Fault::SecondRound(Target::Device(i), after) => {
            format!("Fault::SecondRound({i}.into(), {})", duration_rust(*after))
        }
        Fault::Upgrade(Target::Device(i), version) => format!("Fault::Upgrade({i}.into(), {version})"),
        Fault::SwitchUser(Target::Device(i), user) => format!("Fault::SwitchUser({i}.into(), {user})"),
        Fault::Profile(Target::Device(i), profile) => {
            format!("Fault::Profile({i}.into(), {})", profile_rust(profile, uses))
        }
        Fault::Skip(span) => format!("Fault::skip({})", duration_rust(*span)),
        other => panic!("generated plans make no `{other}` fault: teach fuzz::call to print it"),
    }
}
