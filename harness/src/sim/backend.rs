//! What the driver drives: the hosts, the links and time. In the simulation, turmoil
//! ([`Simulated`]); in live mode, processes and the fault proxy (`crate::live`).
//!
//! The driver decides what happens and when, and records it; a backend only does it.

use crate::clock::DeviceClock;
use crate::clock::Skips;
use crate::fault::Ways;
use crate::net::{device as host_name, Profile, Reach, SERVER};
use crate::state::DeviceState;
use std::time::Duration;

/// How the driver acts on a run's world. Hosts are named as on the timeline (`server`,
/// `device0`, ...).
pub(crate) trait Backend {
    /// Timeline time.
    fn now(&self) -> Duration;
    /// The true wall clock, since the Unix epoch.
    fn since_epoch(&self) -> Duration;
    /// Lets the hosts run for one tick. `Err` ends the run undecided (live: a process of
    /// the implementation misbehaved), with the reason.
    fn step(&mut self) -> Result<(), String>;
    fn is_running(&mut self, host: &str) -> bool;
    /// Kills a host: its software stops where it is, its data stays.
    fn crash(&mut self, host: &str);
    /// Starts a host again on its data (killing it first if it runs).
    fn bounce(&mut self, host: &str);
    fn partition(&mut self, device: usize, ways: Ways);
    fn repair(&mut self, device: usize, ways: Ways);
    fn hold(&mut self, device: usize);
    fn release(&mut self, device: usize);
    /// Puts device `device`'s link on `profile`; its reach was `before`.
    fn set_profile(&mut self, device: usize, profile: Profile, before: Reach);
    /// The device's clock changed (the driver has changed it already).
    fn clock_changed(&mut self, device: usize);
    /// Moves the timeline and every wall clock on by `span` at once.
    fn skip(&mut self, span: Duration);
    /// The server's wall clock, for the driver to step (the server reads it at once).
    fn server_clock(&mut self) -> DeviceClock;
    /// What the app open on device `device` shows, if one is open and can say.
    fn probe(&mut self, device: usize) -> Option<DeviceState>;
}

/// The simulation: turmoil's hosts and links, and the time skipped.
pub(crate) struct Simulated<'a> {
    pub(crate) sim: turmoil::Sim<'a>,
    pub(crate) devices: Vec<std::rc::Rc<crate::device::DeviceShared>>,
    /// Declared after `sim`, so that hosts are gone before the run's timeline ends.
    pub(crate) skips: Skips,
}

impl Backend for Simulated<'_> {
    fn now(&self) -> Duration {
        self.sim.elapsed() + self.skips.total()
    }

    fn since_epoch(&self) -> Duration {
        self.sim.since_epoch() + self.skips.total()
    }

    fn step(&mut self) -> Result<(), String> {
        if let Err(e) = self.sim.step() {
            panic!("the simulation stopped: {e}; this is a harness bug or a host that returned an error");
        }
        Ok(())
    }

    fn is_running(&mut self, host: &str) -> bool {
        self.sim.is_host_running(host)
    }

    fn crash(&mut self, host: &str) {
        self.sim.crash(host);
    }

    fn bounce(&mut self, host: &str) {
        self.sim.bounce(host);
    }

    fn partition(&mut self, device: usize, ways: Ways) {
        match ways {
            Ways::Both => self.sim.partition(host_name(device), SERVER),
            Ways::ToServer => self.sim.partition_oneway(host_name(device), SERVER),
            Ways::FromServer => self.sim.partition_oneway(SERVER, host_name(device)),
        }
    }

    fn repair(&mut self, device: usize, ways: Ways) {
        match ways {
            Ways::Both => self.sim.repair(host_name(device), SERVER),
            Ways::ToServer => self.sim.repair_oneway(host_name(device), SERVER),
            Ways::FromServer => self.sim.repair_oneway(SERVER, host_name(device)),
        }
    }

    fn hold(&mut self, device: usize) {
        self.sim.hold(host_name(device), SERVER);
    }

    fn release(&mut self, device: usize) {
        self.sim.release(host_name(device), SERVER);
    }

    fn set_profile(&mut self, device: usize, profile: Profile, before: Reach) {
        let host = host_name(device);
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

    fn clock_changed(&mut self, _: usize) {}

    fn skip(&mut self, span: Duration) {
        self.skips.add(span);
    }

    fn server_clock(&mut self) -> DeviceClock {
        self.skips.server_clock()
    }

    fn probe(&mut self, device: usize) -> Option<DeviceState> {
        self.devices[device].probe()
    }
}
