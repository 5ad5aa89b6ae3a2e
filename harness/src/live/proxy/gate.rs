//! The switches of one device's proxy (partitions one way or both, holds) and the stream
//! wrapper that obeys them.
//!
//! A write that meets a cut is lost: the connection stalls as a phone's does when its
//! network goes, and fails once the link is repaired (its peer has long forgotten it). A
//! write that meets a hold waits for the release, then goes.

use crate::net::Way;
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The state of one device's link that is not its profile.
#[derive(Debug, Default)]
pub(super) struct Switches {
    cut: [Cell<bool>; 2],
    held: Cell<bool>,
    /// Wakes writers waiting for a release or a repair.
    changed: Notify,
}

impl Switches {
    pub(super) fn cut(&self, way: Way) -> bool {
        self.cut[index(way)].get()
    }

    pub(super) fn set_cut(&self, way: Way, cut: bool) {
        self.cut[index(way)].set(cut);
        self.changed.notify_waiters();
    }

    pub(super) fn held(&self) -> bool {
        self.held.get()
    }

    pub(super) fn set_held(&self, held: bool) {
        self.held.set(held);
        self.changed.notify_waiters();
    }

    /// Waits until `done` says the wait is over, checked at every change.
    async fn until(self: Rc<Self>, done: impl Fn(&Switches) -> bool) {
        loop {
            let changed = self.changed.notified();
            if done(&self) {
                return;
            }
            changed.await;
        }
    }
}

fn index(way: Way) -> usize {
    match way {
        Way::Up => 0,
        Way::Down => 1,
    }
}

/// A stream whose writes in one way obey a device's [`Switches`].
pub(super) struct Gate<S> {
    inner: S,
    switches: Rc<Switches>,
    way: Way,
    /// A write was lost to a cut: the connection is dead, failing once repaired.
    lost: bool,
    wait: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

impl<S> Gate<S> {
    pub(super) fn new(inner: S, switches: Rc<Switches>, way: Way) -> Self {
        Self { inner, switches, way, lost: false, wait: None }
    }

    /// Ready when a write may go on; an error once a lost connection is repaired.
    fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(wait) = self.wait.as_mut() {
                ready!(wait.as_mut().poll(cx));
                self.wait = None;
                if self.lost {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "cut by a partition")));
                }
            }
            let way = self.way;
            if self.lost || self.switches.cut(way) {
                self.lost = true;
                self.wait = Some(Box::pin(self.switches.clone().until(move |s| !s.cut(way))));
            } else if self.switches.held() {
                self.wait = Some(Box::pin(self.switches.clone().until(|s| !s.held())));
            } else {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gate<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_open(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gate<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}
