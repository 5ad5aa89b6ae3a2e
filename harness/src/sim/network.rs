//! Network faults: partitions, holds, profiles, and HTTP faults at the server's edge.

use super::backend::Backend;
use super::driver::Driver;
use crate::fault::Fault;
use crate::net::{Profile, Reach};

impl<B: Backend> Driver<'_, B> {
    /// Applies a network fault.
    pub(super) fn network(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Partition(target, ways) => {
                target.indexes(count).into_iter().for_each(|i| self.backend.partition(i, *ways))
            }
            Fault::Repair(target, ways) => {
                target.indexes(count).into_iter().for_each(|i| self.backend.repair(i, *ways))
            }
            Fault::Hold(target) => target.indexes(count).into_iter().for_each(|i| self.backend.hold(i)),
            Fault::Release(target) => target.indexes(count).into_iter().for_each(|i| self.backend.release(i)),
            Fault::Profile(target, profile) => {
                target.indexes(count).into_iter().for_each(|i| self.set_profile(i, *profile))
            }
            Fault::Http(fault, route, permille) => self.run.edge.set(*fault, *route, *permille),
            Fault::HttpCalm => self.run.edge.clear(),
            other => unreachable!("{other} is not a network fault"),
        }
    }

    /// Applies `profile` to device `i`'s link: pacing, jitter, and reachability.
    pub(super) fn set_profile(&mut self, i: usize, profile: Profile) {
        let before = self.devices[i].link.profile().reach;
        self.set_profile_from(i, profile, before);
    }

    /// Applies `profile` to device `i`'s link, whose reach is now `before`.
    pub(super) fn set_profile_from(&mut self, i: usize, profile: Profile, before: Reach) {
        self.devices[i].link.set_profile(profile);
        self.backend.set_profile(i, profile, before);
    }
}
