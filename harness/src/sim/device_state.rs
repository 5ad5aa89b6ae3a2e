//! Faults of a device's own state: its wall clock and its OS conditions (battery, metered
//! network, background budget).

use super::backend::Backend;
use super::driver::Driver;
use crate::env::Condition;
use crate::fault::{ClockChange, ConditionChange, Fault};

impl<B: Backend> Driver<'_, B> {
    /// Applies a change of a device's clock or conditions.
    pub(super) fn device_state(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Clock(target, change) => {
                for i in target.indexes(count) {
                    let clock = &self.devices[i].clock;
                    match change {
                        ClockChange::Jump(ms) => clock.jump(*ms),
                        ClockChange::Drift(ppm) => clock.set_drift(self.now(), *ppm),
                        ClockChange::Set(ms) => clock.set_at(self.now(), self.since_epoch(), *ms),
                    }
                    self.backend.clock_changed(i);
                }
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
            other => unreachable!("{other} is not a change of a device's state"),
        }
    }
}
