//! Network faults: partitions, holds, profiles, and HTTP faults at the server's edge.

use super::driver::Driver;
use crate::fault::{Fault, Ways};
use crate::net::{device as host_name, Profile, Reach, SERVER};
use std::time::Duration;

impl Driver<'_> {
    /// Applies a network fault.
    pub(super) fn network(&mut self, fault: &Fault) {
        let count = self.devices.len();
        match fault {
            Fault::Partition(target, ways) => {
                for i in target.indexes(count) {
                    match ways {
                        Ways::Both => self.sim.partition(host_name(i), SERVER),
                        Ways::ToServer => self.sim.partition_oneway(host_name(i), SERVER),
                        Ways::FromServer => self.sim.partition_oneway(SERVER, host_name(i)),
                    }
                }
            }
            Fault::Repair(target, ways) => {
                for i in target.indexes(count) {
                    match ways {
                        Ways::Both => self.sim.repair(host_name(i), SERVER),
                        Ways::ToServer => self.sim.repair_oneway(host_name(i), SERVER),
                        Ways::FromServer => self.sim.repair_oneway(SERVER, host_name(i)),
                    }
                }
            }
            Fault::Hold(target) => target.indexes(count).into_iter().for_each(|i| self.sim.hold(host_name(i), SERVER)),
            Fault::Release(target) => {
                target.indexes(count).into_iter().for_each(|i| self.sim.release(host_name(i), SERVER))
            }
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

    /// Applies `profile` to device `i`'s link, whose turmoil state is now `before`.
    pub(super) fn set_profile_from(&mut self, i: usize, profile: Profile, before: Reach) {
        self.devices[i].link.set_profile(profile);
        let host = host_name(i);
        self.sim.set_link_latency(host.clone(), SERVER, Duration::ZERO);
        self.sim.set_link_max_message_latency(host.clone(), SERVER, profile.jitter);
        match (before, profile.reach) {
            (a, b) if a == b => {}
            (Reach::Offline, _) => self.sim.repair(host.clone(), SERVER),
            (Reach::Blackhole, _) => self.sim.release(host.clone(), SERVER),
            _ => {}
        }
        match profile.reach {
            Reach::Offline if before != Reach::Offline => self.sim.partition(host, SERVER),
            Reach::Blackhole if before != Reach::Blackhole => self.sim.hold(host, SERVER),
            _ => {}
        }
    }
}
