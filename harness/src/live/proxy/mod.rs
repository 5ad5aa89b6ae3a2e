//! The live fault proxy: one listening port per device in front of a real server, which
//! does to real sockets what the simulation does to turmoil's links.
//!
//! Every byte is paced by the device's [`Profile`] (latency and bandwidth per direction, as
//! in the simulation; a new connection costs one round trip), and every request passes the
//! same HTTP edge as in the simulation (lost responses after the server answered, 5xx and
//! 429 storms, resets in the middle of a body, slow requests). A partition both ways
//! closes the port, so connecting is refused at once; one way, or a hold, accepts
//! connections whose bytes go nowhere (a blackhole). Writes cut by a partition stall until
//! the repair, then fail; writes held go on at the release.
//!
//! The proxy runs on the current thread's [`tokio::task::LocalSet`]; dropping it closes
//! its port and every connection.

mod gate;
mod upstream;

use crate::fault::{Fault, Ways};
use crate::history::{DeviceInfo, Event, History};
use crate::net::{HttpFault, Link, Paced, Paths, Profile, Reach, Route, Timebase, Way};
use crate::policy::SyncPolicy;
use crate::serve::edge::EdgeService;
use crate::shared::Run;
use crate::workload::Workload;
use gate::{Gate, Switches};
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{spawn_local, AbortHandle};
use upstream::Upstream;

/// How late a woken writer may be and still count as writing back to back.
const SLACK: Duration = Duration::from_millis(2);

/// A fault proxy for one device. Not `Send`: it lives on the thread that made it.
pub struct Proxy {
    inner: Rc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    upstream: SocketAddr,
    device: String,
    link: Rc<Link>,
    switches: Rc<Switches>,
    run: Rc<Run>,
    /// The port and its accept loop, while the port is open.
    listening: RefCell<Option<(Rc<TcpListener>, AbortHandle)>>,
    connections: RefCell<Vec<AbortHandle>>,
}

impl Proxy {
    /// A proxy of its own (the `proxy` command): it listens on `listen` (port 0 picks a
    /// free one, see [`Proxy::local_addr`]) for `upstream`, on `profile`, and keeps its
    /// own timeline of requests and faults ([`Proxy::timeline`]). `seed` draws the HTTP
    /// faults and the profile's losses.
    pub async fn bind(listen: SocketAddr, upstream: SocketAddr, profile: Profile, seed: u64) -> io::Result<Proxy> {
        let device = crate::net::device(0);
        let info = DeviceInfo { host: device.clone(), user: String::new() };
        let history = History::new("proxy", seed, vec![info], BTreeMap::new());
        let run = Run::new(history, seed, SyncPolicy::default(), Workload::idle(), Paths::default());
        let run = Rc::new(run.in_real_time(super::now()));
        Self::for_device(listen, upstream, device, profile, seed, run).await
    }

    /// The proxy of `device` in a live run, recording on `run`'s timeline.
    pub(crate) async fn for_device(
        listen: SocketAddr,
        upstream: SocketAddr,
        device: String,
        profile: Profile,
        seed: u64,
        run: Rc<Run>,
    ) -> io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let timebase = Timebase::Real(super::now());
        let link = Rc::new(Link::with_timebase(profile, seed, SLACK, timebase));
        let inner = Rc::new(Inner {
            addr,
            upstream,
            device,
            link,
            switches: Rc::default(),
            run,
            listening: RefCell::new(None),
            connections: RefCell::new(Vec::new()),
        });
        inner.listen(Some(listener));
        let proxy = Proxy { inner };
        proxy.set_profile(profile);
        Ok(proxy)
    }

    /// Where devices connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The device's current profile.
    pub fn profile(&self) -> Profile {
        self.inner.link.profile()
    }

    /// Switches to `profile` (a handover): `OFFLINE` partitions both ways, `BLACKHOLE`
    /// holds, any other repairs and releases what an earlier unreachable profile did.
    pub fn set_profile(&self, profile: Profile) {
        let before = self.inner.link.profile().reach;
        self.inner.link.set_profile(profile);
        match (before, profile.reach) {
            (a, b) if a == b => {}
            (Reach::Offline, _) => self.repair(Ways::Both),
            (Reach::Blackhole, _) => self.release(),
            _ => {}
        }
        match profile.reach {
            Reach::Offline => self.partition(Ways::Both),
            Reach::Blackhole => self.hold(),
            Reach::Up => {}
        }
    }

    /// Cuts the link: both ways closes the port (connecting is refused); one way loses
    /// what goes that way.
    pub fn partition(&self, ways: Ways) {
        let switches = &self.inner.switches;
        match ways {
            Ways::Both => {
                switches.set_cut(Way::Up, true);
                switches.set_cut(Way::Down, true);
                self.inner.refuse();
            }
            Ways::ToServer => switches.set_cut(Way::Up, true),
            Ways::FromServer => switches.set_cut(Way::Down, true),
        }
    }

    /// Restores what [`Proxy::partition`] cut.
    pub fn repair(&self, ways: Ways) {
        let switches = &self.inner.switches;
        match ways {
            Ways::Both => {
                switches.set_cut(Way::Up, false);
                switches.set_cut(Way::Down, false);
                if self.inner.listening.borrow().is_none() {
                    self.inner.listen(None);
                }
            }
            Ways::ToServer => switches.set_cut(Way::Up, false),
            Ways::FromServer => switches.set_cut(Way::Down, false),
        }
    }

    /// Keeps every byte between the device and the server until [`Proxy::release`];
    /// connecting still succeeds.
    pub fn hold(&self) {
        self.inner.switches.set_held(true);
    }

    /// Lets held bytes go on.
    pub fn release(&self) {
        self.inner.switches.set_held(false);
    }

    /// Hits `permille` of the requests on `route` with `fault` (0 turns it off).
    pub fn set_http(&self, fault: HttpFault, route: Route, permille: u32) {
        self.inner.run.edge.set(fault, route, permille);
    }

    /// Turns every HTTP fault off.
    pub fn calm(&self) {
        self.inner.run.edge.clear();
    }

    /// Applies a network fault of the schedule to this device (its target is this proxy's
    /// device). Panics on a fault of another kind: kills, clocks and conditions are the
    /// live run's, not the proxy's.
    pub fn apply(&self, fault: &Fault) {
        match fault {
            Fault::Partition(_, ways) => self.partition(*ways),
            Fault::Repair(_, ways) => self.repair(*ways),
            Fault::Hold(_) => self.hold(),
            Fault::Release(_) => self.release(),
            Fault::Profile(_, profile) => self.set_profile(*profile),
            Fault::Http(fault, route, permille) => self.set_http(*fault, *route, *permille),
            Fault::HttpCalm => self.calm(),
            other => {
                panic!("{other} is not a network fault: a proxy applies partitions, holds, profiles and HTTP faults")
            }
        }
    }

    /// What the proxy has recorded: every request with the time it arrived, and the HTTP
    /// faults that hit.
    pub fn timeline(&self) -> Vec<Event> {
        self.inner.run.history.borrow().events.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.inner.refuse();
        self.inner.connections.borrow_mut().drain(..).for_each(|c| c.abort());
    }
}

impl Inner {
    /// Opens the port (with `listener` when it is already bound) and accepts on it. The
    /// accept loop holds the listener weakly, so that [`Inner::refuse`] closes the port
    /// at once.
    fn listen(self: &Rc<Self>, listener: Option<TcpListener>) {
        let listener = match listener.map_or_else(|| self.rebind(), Ok) {
            Ok(listener) => Rc::new(listener),
            Err(e) => {
                let text = format!("the proxy of {} could not open {} again: {e}", self.device, self.addr);
                self.run.record(&self.device, crate::history::EventKind::Note { text });
                return;
            }
        };
        let weak = Rc::downgrade(&listener);
        let this = self.clone();
        let task = spawn_local(async move {
            loop {
                let accepted = std::future::poll_fn(|cx| match weak.upgrade() {
                    Some(listener) => listener.poll_accept(cx).map(Some),
                    None => std::task::Poll::Ready(None),
                });
                match accepted.await {
                    Some(Ok((stream, _))) => this.track(spawn_local(this.clone().serve(stream)).abort_handle()),
                    Some(Err(_)) => continue,
                    None => return,
                }
            }
        });
        *self.listening.borrow_mut() = Some((listener, task.abort_handle()));
    }

    fn track(&self, connection: AbortHandle) {
        let mut connections = self.connections.borrow_mut();
        connections.retain(|c| !c.is_finished());
        connections.push(connection);
    }

    /// Binds the port again, after a partition closed it.
    fn rebind(&self) -> io::Result<TcpListener> {
        let listener = std::net::TcpListener::bind(self.addr)?;
        listener.set_nonblocking(true)?;
        TcpListener::from_std(listener)
    }

    /// Closes the port: connecting is refused from now on.
    fn refuse(&self) {
        if let Some((listener, task)) = self.listening.borrow_mut().take() {
            task.abort();
            drop(listener);
        }
    }

    /// Serves one device connection through the edge.
    async fn serve(self: Rc<Self>, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let profile = self.link.profile();
        tokio::time::sleep(profile.up.latency + profile.down.latency).await;
        let paced = Paced::new(stream, self.link.clone(), Way::Down);
        let io = TokioIo::new(Gate::new(paced, self.switches.clone(), Way::Down));
        let next = Upstream { addr: self.upstream, link: self.link.clone(), switches: self.switches.clone() };
        let service = EdgeService { next, run: self.run.clone(), device: self.device.clone() };
        let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
    }
}
