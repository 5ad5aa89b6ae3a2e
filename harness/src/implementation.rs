//! The seam between the harness and an implementation under test: two traits.
//!
//! A [`Client`] opens an [`App`] on a device (again after every kill, on the same data
//! directory); a [`Server`] builds an axum `Router`. The harness runs both inside the
//! simulation, gives them their environments ([`DeviceEnv`], [`ServerEnv`]) and asks them
//! what they hold. It never sees their types otherwise.

use crate::capability::{Capabilities, ClientCapabilities, ServerCapabilities};
use crate::env::{DeviceEnv, ServerEnv};
use crate::operation::Operation;
use crate::state::{DeviceState, ServerState, SyncOutcome};
use std::future::Future;

/// The error type of implementation calls: anything printable. The harness records it in
/// the history; it never inspects it.
pub type BoxError = Box<dyn std::error::Error>;

/// Opens the app of a device. Cloned into every device host; must be cheap to clone.
pub trait Client: Clone + 'static {
    /// The open app.
    type App: App;

    /// Opens (or, after a kill, reopens) the app with `env`. Called inside the device's
    /// simulated host; every database handle must belong to the returned app, so that a
    /// kill drops it.
    fn open(&self, env: DeviceEnv) -> impl Future<Output = Result<Self::App, BoxError>>;

    /// The newest app version this client can open as ([`DeviceEnv::app_version`] runs from
    /// 1 to it). Scenarios that do not name a version install this one. Default: 1, an
    /// implementation with a single version.
    fn latest_app_version(&self) -> u32 {
        1
    }

    /// What the client does on a device: counter and set fields, the sync steps it
    /// reports, conflicts shown to the user. Scenarios about what it lacks are not
    /// applicable; workloads leave out operations it does not have. Default: register
    /// fields only, no steps reported ([`ClientCapabilities::default`]).
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::default()
    }
}

/// An open device app: what a user does with it, and what it shows.
///
/// Methods take `&self` because the user and the sync run at the same time (the harness
/// calls `perform` while a `sync` is in flight); the app uses interior mutability.
pub trait App: 'static {
    /// Performs one user operation. `Ok` means the app confirmed it to the user (it is
    /// durable locally and queued); `Err` means it did not happen.
    fn perform(&self, operation: &Operation) -> impl Future<Output = Result<(), BoxError>>;

    /// Runs one sync round with the server. The harness decides when; the app decides
    /// what a round does. Network failures are `Err`.
    fn sync(&self) -> impl Future<Output = Result<SyncOutcome, BoxError>>;

    /// What the app shows and holds now.
    fn state(&self) -> Result<DeviceState, BoxError>;
}

/// The server under test. Cloned into the server host; must be cheap to clone.
pub trait Server: Clone + 'static {
    /// Builds the router serving `env`'s users. Called inside the server host at every
    /// (re)start, with the same data directory.
    fn router(&self, env: &ServerEnv) -> Result<axum::Router, BoxError>;

    /// Reads the state the server has stored. Called after the simulation has stopped.
    fn state(&self, env: &ServerEnv) -> Result<ServerState, BoxError>;

    /// What the server stores and resolves: its own conflict strategies, those it can be
    /// told to run, counter and set fields, a tombstone horizon, its push and pull paths.
    /// Default: last-write-wins by arrival, registers only ([`ServerCapabilities::default`]).
    fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities::default()
    }
}

impl Capabilities {
    /// What `client` and `server` declare.
    pub fn of<C: Client, S: Server>(client: &C, server: &S) -> Self {
        Self {
            client: client.capabilities(),
            server: server.capabilities(),
            latest_app_version: client.latest_app_version(),
        }
    }
}
