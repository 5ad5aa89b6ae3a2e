//! What the hosts of one run and its driver share: the history being written, the edge
//! faults in force, the phase, and the run's clock outside any host.

use crate::clock;
use crate::history::{EventKind, History};
use crate::net::{EdgeFaults, Paths, Timebase};
use crate::policy::SyncPolicy;
use crate::seed::derive;
use crate::workload::Workload;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use tokio::sync::Notify;

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The workload and the fault schedule.
    Faults,
    /// Faults stopped: devices sync until idle.
    Final,
    /// Devices report their state.
    Snapshot,
}

/// What the hosts of one run share with the driver.
pub(crate) struct Run {
    pub(crate) history: RefCell<History>,
    pub(crate) edge: EdgeFaults,
    pub(crate) phase: Cell<Phase>,
    pub(crate) sync: SyncPolicy,
    pub(crate) workload: Workload,
    /// Final phase: end of the last sync round that changed something.
    pub(crate) last_change: Cell<Duration>,
    ops: Cell<u64>,
    /// The driver's time on the timeline, for what it records outside any host.
    pub(crate) driver_now: Cell<Duration>,
    /// Wakes whoever waits for a moment on the timeline: a skip brought it closer.
    pub(crate) skipped: Notify,
    /// What the timeline is measured in: the simulation's time, or real time live.
    timebase: Timebase,
    /// A crash armed at a step of the server's, and the one a reached step asks for.
    pub(crate) server_arm: std::sync::Arc<crate::env::ServerArm>,
    /// The fields the scenario has made the server refuse.
    pub(crate) server_rules: crate::env::ServerRules,
}

impl Run {
    /// A run's shared state before its first step: `seed` draws the edge faults.
    pub(crate) fn new(history: History, seed: u64, sync: SyncPolicy, workload: Workload, paths: Paths) -> Self {
        Run {
            history: RefCell::new(history),
            edge: EdgeFaults::new(derive(seed, "edge"), paths),
            phase: Cell::new(Phase::Faults),
            sync,
            workload,
            last_change: Cell::new(Duration::ZERO),
            ops: Cell::new(0),
            driver_now: Cell::new(Duration::ZERO),
            skipped: Notify::new(),
            timebase: Timebase::Simulated,
            server_arm: std::sync::Arc::default(),
            server_rules: crate::env::ServerRules::default(),
        }
    }

    /// The same run on a real-time timeline that starts at `origin`: live mode's.
    pub(crate) fn in_real_time(self, origin: std::time::Instant) -> Self {
        Run { timebase: Timebase::Real(origin), ..self }
    }

    /// How many requests `host` has sent to the server so far.
    pub(crate) fn requests(&self, host: &str) -> usize {
        let history = self.history.borrow();
        history.events.iter().filter(|e| e.host == host && matches!(e.kind, EventKind::Request { .. })).count()
    }

    /// Timeline time (skipped time included): the host's view inside a host, the driver's
    /// outside.
    pub(crate) fn now(&self) -> Duration {
        match self.timebase {
            Timebase::Simulated => clock::elapsed().unwrap_or_else(|| self.driver_now.get()),
            Timebase::Real(origin) => origin.elapsed(),
        }
    }

    pub(crate) fn record(&self, host: &str, kind: EventKind) {
        self.history.borrow_mut().record(self.now(), host, kind);
    }

    /// The next operation number of the run.
    pub(crate) fn next_op(&self) -> u64 {
        let n = self.ops.get();
        self.ops.set(n + 1);
        n
    }
}
