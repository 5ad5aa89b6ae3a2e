//! Faults of a host's life: crashes and bounces, kills armed at sync steps and at random,
//! restarts when they are due, app upgrades.

use super::backend::Backend;
use super::driver::{Driver, Nemesis};
use crate::env::AtStep;
use crate::fault::{Fault, Host};
use crate::history::{EventKind, KillCause};
use crate::net::{device as host_name, SERVER};
use rand::Rng;
use std::time::Duration;

/// How long an upgraded app is down before it starts again (the store installs it).
const UPGRADE_DOWNTIME: Duration = Duration::from_secs(1);

/// How long a user switch keeps the app closed (logging out, logging in).
const SWITCH_DOWNTIME: Duration = Duration::from_millis(500);

impl<B: Backend> Driver<'_, B> {
    /// Applies a fault of a host's life.
    pub(super) fn lifecycle(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Crash(Host::Device(i)) => {
                // Down until the schedule bounces it: no pending restart brings it back.
                self.restarts.retain(|(_, h)| *h != Host::Device(*i));
                self.devices[*i].down_by_schedule.set(true);
                self.kill(*i, KillCause::Scheduled);
            }
            Fault::Crash(Host::Server) => {
                // Down until the schedule bounces it, as a device: no pending restart (of a
                // crash armed at a step) brings it back.
                self.restarts.retain(|(_, h)| *h != Host::Server);
                if self.backend.is_running(SERVER) {
                    self.run.record(SERVER, EventKind::Kill { cause: KillCause::Scheduled, step: None });
                    self.backend.crash(SERVER);
                }
            }
            Fault::Bounce(host) => {
                if let Host::Device(i) = host {
                    self.devices[*i].down_by_schedule.set(false);
                    self.kill(*i, KillCause::Scheduled);
                } else if self.backend.is_running(SERVER) {
                    self.run.record(SERVER, EventKind::Kill { cause: KillCause::Scheduled, step: None });
                }
                self.restart(*host);
            }
            Fault::KillAt(target, step, downtime) => {
                target.indexes(count).into_iter().for_each(|i| self.devices[i].kill_at.set(Some((*step, *downtime))))
            }
            Fault::ServerCrashAt(step, downtime) => self.run.server_arm.arm(*step, AtStep::Crash(*downtime)),
            Fault::ServerStallAt(step, stall) => self.run.server_arm.arm(*step, AtStep::Stall(*stall)),
            Fault::RandomKills(target, mean, downtime) => {
                for i in target.indexes(count) {
                    let next = self.now() + self.exponential(*mean);
                    self.nemeses.push(Nemesis { device: i, mean: *mean, downtime: *downtime, next });
                }
            }
            Fault::Upgrade(target, version) => {
                for i in target.indexes(count) {
                    let before = self.backend.probe(i);
                    let device = &self.devices[i];
                    let from = device.app_version.replace(*version);
                    device.upgrading.set(true);
                    self.run.record(&host_name(i), EventKind::Upgrade { from, to: *version, before });
                    if self.kill(i, KillCause::Upgrade) {
                        self.restarts.push((self.now() + UPGRADE_DOWNTIME, Host::Device(i)));
                    }
                }
            }
            Fault::SwitchUser(target, user) => {
                let to = crate::sim::user(*user);
                for i in target.indexes(count) {
                    let from = self.devices[i].switch_user(to.clone());
                    if from == to {
                        continue;
                    }
                    self.run.record(&host_name(i), EventKind::SwitchUser { from, to: to.clone() });
                    if self.kill(i, KillCause::SwitchUser) {
                        self.restarts.push((self.now() + SWITCH_DOWNTIME, Host::Device(i)));
                    }
                }
            }
            other => unreachable!("{other} is not a fault of a host's life"),
        }
    }

    /// Kills device `i` at the sync step `step` it reached, where a kill was armed.
    pub(super) fn kill_armed(&mut self, i: usize, step: crate::step::Step) -> bool {
        self.kill_with(i, KillCause::AtStep, Some(step))
    }

    /// Kills device `i` if it runs, closing its open operation and round as unknown.
    pub(super) fn kill(&mut self, i: usize, cause: KillCause) -> bool {
        self.kill_with(i, cause, None)
    }

    /// Kills device `i` for `cause`; the event names `armed`, the step of a kill armed
    /// there, or else the step of the round under way.
    pub(super) fn kill_with(&mut self, i: usize, cause: KillCause, armed: Option<crate::step::Step>) -> bool {
        let reason = format!("killed ({})", cause.describe());
        let host = host_name(i);
        let d = self.devices[i].clone();
        d.kill_requested.set(None);
        if !self.backend.is_running(&host) {
            return false;
        }
        if let Some(op) = d.open_op.take() {
            self.run.record(&host, EventKind::Info { op, reason: reason.clone() });
        }
        let step = d.step.take();
        let step = match d.round.take() {
            Some(round) => {
                self.run.record(&host, EventKind::SyncCut { round, reason });
                step
            }
            None => None,
        };
        self.run.record(&host, EventKind::Kill { cause, step: armed.or(step) });
        self.backend.crash(&host);
        true
    }

    pub(super) fn restart(&mut self, host: Host) {
        let name = host.to_string();
        self.backend.bounce(&name);
        self.run.record(&name, EventKind::Restart);
    }

    pub(super) fn kill_where_requested(&mut self) {
        for (step, at) in self.run.server_arm.take_reached() {
            match at {
                AtStep::Crash(downtime) if self.backend.is_running(SERVER) => {
                    self.run.record(SERVER, EventKind::Kill { cause: KillCause::AtStep, step: Some(step) });
                    self.backend.crash(SERVER);
                    self.restarts.push((self.now() + downtime, Host::Server));
                }
                AtStep::Crash(_) => {}
                AtStep::Stall(stall) => {
                    let text = format!("a request stalls at {step} for {} ms", stall.as_millis());
                    self.run.record(SERVER, EventKind::Note { text });
                }
            }
        }
        for i in 0..self.devices.len() {
            if let Some((step, downtime)) = self.devices[i].kill_requested.get() {
                if self.kill_armed(i, step) {
                    self.restarts.push((self.now() + downtime, Host::Device(i)));
                }
            }
        }
    }

    pub(super) fn kill_at_random(&mut self) {
        let now = self.now();
        for k in 0..self.nemeses.len() {
            if self.nemeses[k].next > now {
                continue;
            }
            let (i, downtime, mean) = (self.nemeses[k].device, self.nemeses[k].downtime, self.nemeses[k].mean);
            if self.kill(i, KillCause::Random) {
                self.restarts.push((now + downtime, Host::Device(i)));
            }
            self.nemeses[k].next = now + downtime + self.exponential(mean);
        }
    }

    pub(super) fn restart_due(&mut self) {
        let now = self.now();
        let (due, later): (Vec<_>, Vec<_>) = self.restarts.drain(..).partition(|(t, _)| *t <= now);
        self.restarts = later;
        for (_, host) in due {
            let Host::Device(i) = host else {
                if !self.backend.is_running(SERVER) {
                    self.restart(host);
                }
                continue;
            };
            if !self.devices[i].down_by_schedule.get() && !self.backend.is_running(&host_name(i)) {
                self.restart(host);
            }
        }
    }

    pub(super) fn exponential(&mut self, mean: Duration) -> Duration {
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        Duration::from_millis((-u.ln() * mean.as_millis() as f64) as u64)
    }
}
