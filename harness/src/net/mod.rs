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
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The server's host name.
pub const SERVER: &str = "server";
/// The port the server listens on.
pub const PORT: u16 = 8080;

/// The host name of device `index`.
pub fn device(index: usize) -> String {
    format!("device{index}")
}

/// Users of a scenario, in order; more than these are named `user8`, `user9`, ...
const USERS: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

/// The name of user `index` (also `syncsim::sim::user`).
pub fn user(index: usize) -> String {
    USERS.get(index).map_or_else(|| format!("user{index}"), |u| (*u).to_owned())
}

/// A connection to the server as a device sees it: in the simulation, turmoil TCP paced by
/// the device's link; in live mode (the `drive` command), real TCP to the device's port of
/// the fault proxy, which paces it.
pub struct DeviceStream(Stream);

enum Stream {
    Simulated(Paced<turmoil::net::TcpStream>),
    Tcp(tokio::net::TcpStream),
}

/// Opens connections from one device to the server. Cheap to clone.
///
/// A connection costs one round trip of the current profile before the first request.
/// While the device is offline, connecting fails at once (`ConnectionRefused`); in a
/// blackhole it hangs: an app needs its own connect timeout.
#[derive(Clone, Debug)]
pub struct DeviceConnector(Target);

#[derive(Clone, Debug)]
enum Target {
    Simulated(Rc<Link>),
    Tcp(SocketAddr),
}

impl DeviceConnector {
    pub(crate) fn new(link: Rc<Link>) -> Self {
        Self(Target::Simulated(link))
    }

    /// Real TCP to `addr`, for a driver process in live mode.
    pub(crate) fn tcp(addr: SocketAddr) -> Self {
        Self(Target::Tcp(addr))
    }

    /// Connects to the server.
    pub async fn connect(&self) -> io::Result<DeviceStream> {
        match &self.0 {
            Target::Simulated(link) => {
                let stream = turmoil::net::TcpStream::connect((SERVER, PORT)).await?;
                let profile = link.profile();
                tokio::time::sleep(profile.up.latency + profile.down.latency).await;
                Ok(DeviceStream(Stream::Simulated(Paced::new(stream, link.clone(), Way::Up))))
            }
            Target::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Ok(DeviceStream(Stream::Tcp(stream)))
            }
        }
    }

    /// The device's current profile (live, the proxy knows it, not the device: `WIFI`).
    pub fn profile(&self) -> Profile {
        match &self.0 {
            Target::Simulated(link) => link.profile(),
            Target::Tcp(_) => Profile::WIFI,
        }
    }
}

impl AsyncRead for DeviceStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Stream::Simulated(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for DeviceStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Stream::Simulated(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Stream::Simulated(s) => Pin::new(s).poll_flush(cx),
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Stream::Simulated(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
