//! The driver: the fault phase (the schedule, armed and random kills, due restarts), the
//! final phase (faults stop, every device restarts and syncs until idle), and the dispatch
//! of each fault to its group.

use super::backend::Backend;
use crate::device::DeviceShared;
use crate::fault::{Fault, Host, Ways};
use crate::history::{EventKind, KillCause, HARNESS};
use crate::net::{Profile, Reach, SERVER};
use crate::scenario::Scenario;
use crate::shared::{Phase, Run};
use rand::rngs::SmallRng;
use std::rc::Rc;
use std::time::Duration;

/// A random-kill nemesis on one device.
pub(super) struct Nemesis {
    pub(super) device: usize,
    pub(super) mean: Duration,
    pub(super) downtime: Duration,
    pub(super) next: Duration,
}

pub(crate) struct Driver<'a, B> {
    pub(super) scenario: &'a Scenario,
    pub(super) backend: B,
    pub(super) run: Rc<Run>,
    pub(super) devices: Vec<Rc<DeviceShared>>,
    pub(super) rng: SmallRng,
    pub(super) restarts: Vec<(Duration, Host)>,
    pub(super) nemeses: Vec<Nemesis>,
}

impl<'a, B: Backend> Driver<'a, B> {
    /// The driver of `scenario`'s run on `backend`, before its first step.
    pub(crate) fn new(
        scenario: &'a Scenario,
        backend: B,
        run: Rc<Run>,
        devices: Vec<Rc<DeviceShared>>,
        rng: SmallRng,
    ) -> Self {
        Driver { scenario, backend, run, devices, rng, restarts: Vec::new(), nemeses: Vec::new() }
    }

    /// Timeline time.
    pub(super) fn now(&self) -> Duration {
        self.backend.now()
    }

    /// The true wall clock, since the Unix epoch.
    pub(super) fn since_epoch(&self) -> Duration {
        self.backend.since_epoch()
    }

    fn step(&mut self) -> Result<(), String> {
        self.run.driver_now.set(self.now());
        self.backend.step()?;
        self.run.driver_now.set(self.now());
        Ok(())
    }

    /// The backend, once the run is over.
    pub(crate) fn into_backend(self) -> B {
        self.backend
    }

    fn note(&self, fault: &Fault) {
        self.run.record(HARNESS, EventKind::fault(fault));
    }

    /// The workload and the schedule; `Err` when the backend ends the run undecided.
    pub(crate) fn faults_phase(&mut self) -> Result<(), String> {
        for i in 0..self.devices.len() {
            self.set_profile_from(i, self.scenario.profile_of(i), Reach::Up);
        }
        let schedule = self.scenario.schedule.clone();
        let mut next = 0;
        while self.now() < self.scenario.duration {
            self.run.driver_now.set(self.now());
            while next < schedule.len() && schedule[next].0 <= self.now() {
                self.apply(&schedule[next].1);
                next += 1;
            }
            self.kill_where_requested();
            self.kill_at_random();
            self.restart_due();
            self.step()?;
        }
        Ok(())
    }

    /// Faults stop, every device restarts and syncs until idle, then reports its state;
    /// `Err` when the backend ends the run undecided.
    pub(crate) fn final_phase(&mut self) -> Result<(), String> {
        let start = self.now();
        self.run.driver_now.set(start);
        self.run.phase.set(Phase::Final);
        self.run.record(HARNESS, EventKind::FinalPhase);
        self.run.edge.clear();
        self.nemeses.clear();
        self.restarts.clear();
        self.run.server_arm.disarm();
        for i in 0..self.devices.len() {
            let d = &self.devices[i];
            d.kill_at.set(None);
            d.second_round.set(None);
            d.kill_requested.set(None);
            d.reset_condition();
            self.backend.repair(i, Ways::Both);
            self.backend.release(i);
            let base = self.scenario.profile_of(i);
            let profile = if base.reach == Reach::Up { base } else { Profile::SLOW_4G };
            self.set_profile(i, profile);
        }
        if !self.backend.is_running(SERVER) {
            self.restart(Host::Server);
        }
        for i in 0..self.devices.len() {
            self.devices[i].down_by_schedule.set(false);
            self.kill(i, KillCause::FinalPhase);
            self.restart(Host::Device(i));
        }
        self.run.last_change.set(start);
        let bound = self.scenario.converge_within;
        loop {
            for _ in 0..100 {
                self.step()?;
            }
            let last_change = self.run.last_change.get();
            if self.devices.iter().all(|d| d.idle_since.get().is_some_and(|t| t >= last_change)) {
                let after_ms = (self.now() - start).as_millis() as u64;
                self.run.record(HARNESS, EventKind::Converged { after_ms });
                break;
            }
            if self.now() - start > bound {
                self.run.record(HARNESS, EventKind::NotConverged { bound_ms: bound.as_millis() as u64 });
                break;
            }
        }
        self.run.phase.set(Phase::Snapshot);
        let deadline = self.now() + Duration::from_secs(120);
        while self.now() < deadline && !self.devices.iter().all(|d| d.snapshot_taken.get()) {
            self.step()?;
        }
        Ok(())
    }

    /// Applies one scheduled fault: noted on the timeline (crashes and bounces show as the
    /// kills and restarts they cause), then done by its group.
    fn apply(&mut self, fault: &Fault) {
        if !matches!(fault, Fault::Crash(_) | Fault::Bounce(_)) {
            self.note(fault);
        }
        match fault {
            Fault::Partition(..)
            | Fault::Repair(..)
            | Fault::Hold(_)
            | Fault::Release(_)
            | Fault::Profile(..)
            | Fault::Http(..)
            | Fault::HttpCalm => self.network(fault),
            Fault::Crash(_)
            | Fault::Bounce(_)
            | Fault::KillAt(..)
            | Fault::ServerCrashAt(..)
            | Fault::ServerStallAt(..)
            | Fault::RandomKills(..)
            | Fault::Upgrade(..)
            | Fault::SwitchUser(..) => self.lifecycle(fault),
            Fault::Clock(..)
            | Fault::ServerClock(_)
            | Fault::RefuseField(_)
            | Fault::Condition(..)
            | Fault::SecondRound(..) => self.device_state(fault),
            Fault::Skip(span) => self.skip(*span),
        }
    }

    /// Moves the timeline and every wall clock on by `span`, between two steps.
    fn skip(&mut self, span: Duration) {
        assert_eq!(
            self.run.phase.get(),
            Phase::Faults,
            "a skip outside the fault phase would break the final phase's bound: Builder::build refuses one"
        );
        self.backend.skip(span);
        self.run.driver_now.set(self.now());
        self.run.skipped.notify_waiters();
    }
}
