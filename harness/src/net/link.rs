//! A device's link to the server: its current profile, and the pacing that turns the
//! profile's latency, bandwidth and loss into virtual time.
//!
//! turmoil delivers a 1 MB write after one message latency. [`Paced`] wraps each end of a
//! connection and holds every write of up to 16 KiB until the link would have carried it:
//! a write on an idle link waits for the one-way latency plus its serialization time
//! (bytes / rate); a write right behind another waits only for its own serialization, so
//! a large body streams at the profile's rate. All connections of a device share its link
//! (like a phone's one radio). The device end paces uploads, the server end downloads.

use super::profile::Profile;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Largest write paced as one unit.
const CHUNK: usize = 16 * 1024;

/// Which way bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    /// Device to server.
    Up,
    /// Server to device.
    Down,
}

/// What a link measures time with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timebase {
    /// turmoil's stepped time, inside a simulated host.
    Simulated,
    /// Real time since this instant: the live proxy's.
    Real(std::time::Instant),
}

/// The state of one device's link. The harness owns it, so it survives kills of either end.
#[derive(Debug)]
pub(crate) struct Link {
    profile: Cell<Profile>,
    timebase: Timebase,
    /// When each direction is next free, in virtual time since the start of the run.
    free: [Cell<Option<Duration>>; 2],
    rng: RefCell<SmallRng>,
    /// The simulation's tick: a writer woken at the end of its booking may see the clock
    /// up to one tick later, and is still writing back to back.
    tick: Duration,
}

impl Link {
    pub(crate) fn new(profile: Profile, seed: u64, tick: Duration) -> Self {
        Self::with_timebase(profile, seed, tick, Timebase::Simulated)
    }

    /// A link paced in real time since `origin`, for the live proxy; `tick` is how late a
    /// woken writer may be and still count as writing back to back.
    pub(crate) fn with_timebase(profile: Profile, seed: u64, tick: Duration, timebase: Timebase) -> Self {
        let rng = RefCell::new(SmallRng::seed_from_u64(seed));
        Self { profile: Cell::new(profile), timebase, free: Default::default(), rng, tick }
    }

    /// Now, in the link's time.
    fn now(&self) -> Duration {
        match self.timebase {
            Timebase::Simulated => turmoil::sim_elapsed().expect("a simulated link is used inside a simulated host"),
            Timebase::Real(origin) => origin.elapsed(),
        }
    }

    pub(crate) fn profile(&self) -> Profile {
        self.profile.get()
    }

    /// Switches the profile; bytes booked under the old one are forgotten (a handover
    /// starts on an idle radio).
    pub(crate) fn set_profile(&self, profile: Profile) {
        self.profile.set(profile);
        self.free.iter().for_each(|f| f.set(None));
    }

    /// Books the link for `len` bytes at virtual time `now`; returns how long the writer
    /// waits before the bytes leave.
    pub(crate) fn reserve(&self, way: Way, len: usize, now: Duration) -> Duration {
        let profile = self.profile.get();
        let (direction, free) = match way {
            Way::Up => (profile.up, &self.free[0]),
            Way::Down => (profile.down, &self.free[1]),
        };
        let start = match free.get() {
            Some(busy_until) if busy_until + self.tick >= now => busy_until.max(now),
            _ => now + direction.latency,
        };
        let mut done = start + direction.serialization(len);
        if profile.loss_permille > 0 && self.rng.borrow_mut().gen_range(0..1000) < profile.loss_permille {
            done += Profile::RETRANSMIT;
        }
        free.set(Some(done));
        done - now
    }
}

/// A stream whose writes are paced by a device's [`Link`].
pub struct Paced<S> {
    inner: S,
    link: Rc<Link>,
    way: Way,
    sleep: Option<Pin<Box<Sleep>>>,
    granted: usize,
}

impl<S> Paced<S> {
    pub(crate) fn new(inner: S, link: Rc<Link>, way: Way) -> Self {
        Self { inner, link, way, sleep: None, granted: 0 }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Paced<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.granted == 0 {
            let len = buf.len().min(CHUNK);
            let wait = this.link.reserve(this.way, len, this.link.now());
            this.sleep = Some(Box::pin(tokio::time::sleep(wait)));
            this.granted = len;
        }
        if let Some(sleep) = this.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            this.sleep = None;
        }
        let n = this.granted.min(buf.len());
        match ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n])) {
            Ok(written) => {
                this.granted -= written.min(this.granted);
                Poll::Ready(Ok(written))
            }
            Err(e) => {
                this.granted = 0;
                Poll::Ready(Err(e))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Paced<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_link_charges_latency_then_each_following_write_only_its_bytes() {
        let link = Link::new(Profile::SLOW_4G, 1, Duration::from_millis(1));
        let now = Duration::from_secs(1);
        let first = link.reserve(Way::Down, 20_000, now);
        assert_eq!(first, Duration::from_millis(75 + 100), "75 ms latency plus 20 kB at 200 kB/s");
        let second = link.reserve(Way::Down, 20_000, now + first);
        assert_eq!(second, Duration::from_millis(100), "back to back: serialization only");
        let later = link.reserve(Way::Down, 20_000, now + Duration::from_secs(10));
        assert_eq!(later, Duration::from_millis(175), "idle again: latency again");
    }

    #[test]
    fn the_two_directions_do_not_queue_behind_each_other() {
        let link = Link::new(Profile::SLOW_4G, 1, Duration::from_millis(1));
        link.reserve(Way::Down, 200_000, Duration::ZERO);
        let up = link.reserve(Way::Up, 9_375, Duration::ZERO);
        assert_eq!(up, Duration::from_millis(75 + 100), "750 kbit/s is 93.75 kB/s");
    }

    #[test]
    fn loss_turns_into_retransmission_delay_at_the_profile_rate() {
        let link = Link::new(Profile::VERY_BAD, 3, Duration::from_millis(1));
        let mut lost = 0;
        for i in 0..1_000u64 {
            let now = Duration::from_secs(10 * i);
            if link.reserve(Way::Up, 125, now) > Duration::from_millis(501) {
                lost += 1;
            }
        }
        assert!((70..130).contains(&lost), "10% loss over 1000 writes, got {lost}");
    }
}
