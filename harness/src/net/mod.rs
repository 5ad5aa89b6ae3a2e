//! The simulated network: host names, profiles, pacing, and faults at the server's edge.

mod edge;
mod link;
mod profile;

pub use edge::{HttpFault, Route};
pub use link::Paced;
pub use profile::{Direction, Profile, Reach};

pub(crate) use edge::{EdgeFaults, Paths};
pub(crate) use link::{Link, Timebase, Way};

use std::io;
use std::rc::Rc;

/// The server's host name.
pub const SERVER: &str = "server";
/// The port the server listens on.
pub const PORT: u16 = 8080;

/// The host name of device `index`.
pub fn device(index: usize) -> String {
    format!("device{index}")
}

/// A connection to the server as a device sees it: turmoil TCP, paced by the device's link.
pub type SimStream = Paced<turmoil::net::TcpStream>;

/// Opens connections from one device to the server. Cheap to clone.
///
/// A connection costs one round trip of the current profile before the first request.
/// While the device is offline, connecting fails at once (`ConnectionRefused`); in a
/// blackhole it hangs: an app needs its own connect timeout.
#[derive(Clone, Debug)]
pub struct SimConnector {
    link: Rc<Link>,
}

impl SimConnector {
    pub(crate) fn new(link: Rc<Link>) -> Self {
        Self { link }
    }

    /// Connects to the server.
    pub async fn connect(&self) -> io::Result<SimStream> {
        let stream = turmoil::net::TcpStream::connect((SERVER, PORT)).await?;
        let profile = self.link.profile();
        tokio::time::sleep(profile.up.latency + profile.down.latency).await;
        Ok(Paced::new(stream, self.link.clone(), Way::Up))
    }

    /// The device's current profile.
    pub fn profile(&self) -> Profile {
        self.link.profile()
    }
}
