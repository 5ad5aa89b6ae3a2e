//! Faults of a host's own state: a device's wall clock and OS conditions (battery, metered
//! network, background budget, a second sync round), and the server's wall clock and
//! validation rules.

use super::backend::Backend;
use super::driver::Driver;
use crate::clock::DeviceClock;
use crate::env::Condition;
use crate::fault::{ClockChange, ConditionChange, Fault};

impl<B: Backend> Driver<'_, B> {
    /// Applies a change of a device's clock or conditions, or of the server's clock or rules.
    pub(super) fn device_state(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Clock(target, change) => {
                for i in target.indexes(count) {
                    self.change_clock(&self.devices[i].clock, change);
                    self.backend.clock_changed(i);
                }
            }
            Fault::ServerClock(change) => {
                let clock = self.backend.server_clock();
                self.change_clock(&clock, change);
            }
            Fault::Condition(target, change) => {
                for i in target.indexes(count) {
                    let d = &self.devices[i];
                    let mut condition: Condition = d.conditions.get();
                    match change {
                        ConditionChange::BatteryLow(low) => condition.battery_low = *low,
                        ConditionChange::Metered(on) => condition.metered = *on,
                        ConditionChange::Background(budget) => {
                            condition.foreground = false;
                            d.budget.set(Some(*budget));
                        }
                        ConditionChange::Foreground => {
                            condition.foreground = true;
                            d.budget.set(None);
                        }
                    }
                    d.conditions.set(condition);
                }
            }
            Fault::RefuseField(field) => self.run.server_rules.refuse(field),
            Fault::SecondRound(target, after) => {
                target.indexes(count).into_iter().for_each(|i| self.devices[i].second_round.set(Some(*after)));
            }
            other => unreachable!("{other} is not a change of a host's state"),
        }
    }

    fn change_clock(&self, clock: &DeviceClock, change: &ClockChange) {
        match change {
            ClockChange::Jump(ms) => clock.jump(*ms),
            ClockChange::Drift(ppm) => clock.set_drift(self.now(), *ppm),
            ClockChange::Set(ms) => clock.set_at(self.now(), self.since_epoch(), *ms),
        }
    }
}
