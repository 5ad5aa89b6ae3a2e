//! Generated runs: a proptest strategy that draws a whole scenario (devices and users, a
//! network profile, a workload, a fault schedule with upgrades) and shrinks it.
//!
//! A [`Plan`] is plain data, so proptest shrinks it: fewer faults, fewer operations, fewer
//! devices, earlier times. [`Plan::scenario`] turns it into a [`Scenario`] that
//! `Builder::build` accepts by construction (every fault inside the fault phase, upgrades
//! only to later versions, no skips).

use crate::fault::{ClockChange, Fault, Host, Ways};
use crate::net::{HttpFault, Profile, Route};
use crate::scenario::Scenario;
use crate::step::Step;
use crate::workload::Workload;
use proptest::prelude::*;
use std::fmt;
use std::time::Duration;

/// Length of a generated run's fault phase.
pub const FAULT_PHASE: Duration = Duration::from_secs(40);

/// The profiles a generated run is drawn on.
const PROFILES: [Profile; 4] = [Profile::WIFI, Profile::LTE, Profile::SLOW_4G, Profile::THREE_G];

/// One generated fault, at a time of the fault phase.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(missing_docs, reason = "each variant's doc names its fields")]
pub enum Event {
    /// Device `device` loses the server both ways for `for_ms`.
    Partition { device: usize, for_ms: u64 },
    /// Device `device`'s app is killed when it next reaches `step` (restarting 2 s later).
    KillAt { device: usize, step: Step },
    /// Device `device`'s app is killed now and restarted after `down_ms`.
    Kill { device: usize, down_ms: u64 },
    /// The server crashes and restarts after `down_ms`.
    ServerRestart { down_ms: u64 },
    /// For `for_ms`, a share (per mille) of push answers is lost after the server committed.
    LosePushAnswers { permille: u32, for_ms: u64 },
    /// For `for_ms`, a share (per mille) of requests is answered 503 by the edge.
    ServerErrors { permille: u32, for_ms: u64 },
    /// Device `device`'s clock jumps by `ms` (negative: backwards).
    ClockJump { device: usize, ms: i64 },
    /// Device `device`'s app is upgraded to the next version, if it is not the latest.
    Upgrade { device: usize },
}

/// A generated run: what [`plan`] draws and proptest shrinks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Number of users; devices are spread over them.
    pub users: usize,
    /// The app version each device starts on.
    pub versions: Vec<u32>,
    /// The network profile of every device.
    pub profile: Profile,
    /// User operations per device.
    pub ops: u32,
    /// Whether the users edit a shared set of records (else a mix of everything).
    pub shared: bool,
    /// Milliseconds between a device's operations.
    pub every_ms: u64,
    /// Each device's clock offset, ms.
    pub offsets: Vec<i64>,
    /// The fault schedule: (ms into the fault phase, fault).
    pub events: Vec<(u64, Event)>,
}

/// Draws plans for a client whose app versions run from 1 to `latest`: 1 to 4 devices of 1
/// or 2 users, up to 12 operations each, up to 8 faults.
pub fn plan(latest: u32) -> impl Strategy<Value = Plan> {
    let latest = latest.max(1);
    (1usize..=4).prop_flat_map(move |devices| {
        let fault_ms = 0..FAULT_PHASE.as_millis() as u64 - 5_000;
        (
            1usize..=2.min(devices),
            prop::collection::vec(1..=latest, devices),
            prop::sample::select(PROFILES.to_vec()),
            0u32..=12,
            any::<bool>(),
            500u64..=2_500,
            prop::collection::vec(prop_oneof![3 => Just(0i64), 1 => -7_200_000i64..=7_200_000], devices),
            prop::collection::vec((fault_ms, event(devices)), 0..=8),
        )
            .prop_map(|(users, versions, profile, ops, shared, every_ms, offsets, mut events)| {
                events.sort_by_key(|(at, _)| *at);
                Plan { users, versions, profile, ops, shared, every_ms, offsets, events }
            })
    })
}

fn event(devices: usize) -> impl Strategy<Value = Event> {
    let device = 0..devices;
    let step = prop::sample::select(Step::ALL.to_vec());
    prop_oneof![
        (device.clone(), 1_000u64..=15_000).prop_map(|(device, for_ms)| Event::Partition { device, for_ms }),
        (device.clone(), step).prop_map(|(device, step)| Event::KillAt { device, step }),
        (device.clone(), 0u64..=5_000).prop_map(|(device, down_ms)| Event::Kill { device, down_ms }),
        (0u64..=5_000).prop_map(|down_ms| Event::ServerRestart { down_ms }),
        (100u32..=900, 1_000u64..=10_000).prop_map(|(permille, for_ms)| Event::LosePushAnswers { permille, for_ms }),
        (100u32..=900, 1_000u64..=10_000).prop_map(|(permille, for_ms)| Event::ServerErrors { permille, for_ms }),
        (device.clone(), -3_600_000i64..=3_600_000).prop_map(|(device, ms)| Event::ClockJump { device, ms }),
        device.prop_map(|device| Event::Upgrade { device }),
    ]
}

impl Plan {
    /// The scenario this plan describes, named `name`, for a client whose latest app version
    /// is `latest`.
    pub fn scenario(&self, name: &str, latest: u32) -> Scenario {
        let devices = self.versions.len();
        let workload = if self.shared { Workload::edit_same_records(self.ops) } else { Workload::mixed(self.ops) };
        let mut builder = Scenario::builder(name)
            .description(&self.to_string())
            .users(self.users)
            .devices(devices)
            .profile(self.profile)
            .workload(workload.every(Duration::from_millis(self.every_ms)))
            .duration(FAULT_PHASE);
        for (i, version) in self.versions.iter().enumerate() {
            builder = builder.app_version_on(i, (*version).min(latest));
        }
        for (i, offset) in self.offsets.iter().enumerate().filter(|(_, o)| **o != 0) {
            builder = builder.clock_offset(i, *offset);
        }
        let mut running: Vec<u32> = self.versions.iter().map(|v| (*v).min(latest)).collect();
        let end = FAULT_PHASE.as_millis() as u64 - 1;
        let ms = Duration::from_millis;
        for (at, event) in &self.events {
            let (at, until) = (*at, |for_ms: u64| ms((at + for_ms).min(end)));
            builder = match *event {
                Event::Partition { device, for_ms } => builder
                    .at(ms(at), Fault::Partition(device.into(), Ways::Both))
                    .at(until(for_ms), Fault::Repair(device.into(), Ways::Both)),
                Event::KillAt { device, step } => builder.at(ms(at), Fault::kill_at(device, step)),
                Event::Kill { device, down_ms } => builder
                    .at(ms(at), Fault::Crash(Host::Device(device)))
                    .at(until(down_ms), Fault::Bounce(Host::Device(device))),
                Event::ServerRestart { down_ms } => {
                    builder.at(ms(at), Fault::Crash(Host::Server)).at(until(down_ms), Fault::Bounce(Host::Server))
                }
                Event::LosePushAnswers { permille, for_ms } => {
                    builder.at(ms(at), Fault::lose_push_responses(permille)).at(until(for_ms), Fault::HttpCalm)
                }
                Event::ServerErrors { permille, for_ms } => builder
                    .at(ms(at), Fault::Http(HttpFault::ServerError(503), Route::Any, permille))
                    .at(until(for_ms), Fault::HttpCalm),
                Event::ClockJump { device, ms: by } => {
                    builder.at(ms(at), Fault::Clock(device.into(), ClockChange::Jump(by)))
                }
                Event::Upgrade { device } if running[device] < latest => {
                    running[device] += 1;
                    builder.at(ms(at), Fault::Upgrade(device.into(), running[device]))
                }
                Event::Upgrade { .. } => builder,
            };
        }
        builder.build()
    }
}

impl fmt::Display for Plan {
    /// The plan as a readable timeline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} devices of {} users on app versions {:?}, {}, {} {} operations each every {} ms",
            self.versions.len(),
            self.users,
            self.versions,
            self.profile.name,
            self.ops,
            if self.shared { "shared-record" } else { "mixed" },
            self.every_ms
        )?;
        for (i, offset) in self.offsets.iter().enumerate().filter(|(_, o)| **o != 0) {
            write!(f, "; device{i} clock {offset:+} ms")?;
        }
        for (at, event) in &self.events {
            write!(f, "; at {at} ms {event:?}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_drawn_plan_builds_a_valid_scenario() {
        let mut runner = TestRunner::deterministic();
        runner
            .run(&plan(5), |plan| {
                let scenario = plan.scenario("generated", 5);
                scenario.check_app_versions(5);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn upgrades_past_the_latest_version_are_dropped() {
        let plan = Plan {
            users: 1,
            versions: vec![4],
            profile: Profile::LTE,
            ops: 0,
            shared: false,
            every_ms: 1_000,
            offsets: vec![0],
            events: vec![(1_000, Event::Upgrade { device: 0 }), (2_000, Event::Upgrade { device: 0 })],
        };
        let scenario = plan.scenario("generated", 5);
        scenario.check_app_versions(5);
        let upgrades = scenario.schedule.iter().filter(|(_, f)| matches!(f, Fault::Upgrade(..))).count();
        assert_eq!(upgrades, 1, "4 to 5, then nothing");
    }
}
