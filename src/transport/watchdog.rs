//! The connection watchdog: what it knows about one connection ([`Activity`]), its
//! verdict (wait, idle, head timeout), the in-flight count kept by response bodies,
//! and the socket wrapper that reports reads to it.
//!
//! Each connection has a small watchdog fed by its socket reads and by the requests
//! it serves: an HTTP/1 request head must be complete within `head_timeout` of the
//! handshake (for the first request) or of its first byte (for later ones), and a
//! connection with no request in flight is closed after `idle_timeout` (hyper's own
//! header timer also runs while a keep-alive connection is idle, which would tie the
//! two together). The watchdog is woken only when a deadline comes before the one it
//! already plans to look at; acting on a verdict is the connection's job
//! ([`crate::transport::server`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::config::Limits;
use crate::http_util::{Body, BodyError};

const NONE: u64 = u64::MAX;

/// What the watchdog knows about one connection.
pub(super) struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// Requests hyper has handed to the service on this connection.
    started: AtomicU64,
    pub(super) idle_since_ms: AtomicU64,
    pub(super) head_started_ms: AtomicU64,
    /// When the watchdog next looks (ms since `origin`).
    planned_ms: AtomicU64,
    head_timeout_ms: u64,
    idle_timeout_ms: u64,
    pub(super) wake: Notify,
}

pub(super) enum Verdict {
    Wait(Instant),
    Idle,
    HeadTimeout,
}

impl Activity {
    pub(super) fn new(head_timeout: Duration, idle_timeout: Duration) -> Self {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(NONE),
            planned_ms: AtomicU64::new(0),
            head_timeout_ms: millis(head_timeout),
            idle_timeout_ms: millis(idle_timeout),
            wake: Notify::new(),
        }
    }

    pub(super) fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// Bytes arrived. With no request in flight, they start a request head. The
    /// watchdog is woken only if that head would be due before it next looks anyway:
    /// under steady keep-alive traffic, reads do not wake it at all.
    fn on_read(&self) {
        if self.in_flight.load(Ordering::Acquire) != 0 {
            return;
        }
        let now = self.now_ms();
        if self
            .head_started_ms
            .compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            && self.planned_ms.load(Ordering::Acquire) > now.saturating_add(self.head_timeout_ms)
        {
            self.wake.notify_one();
        }
    }

    /// Record when the watchdog next looks.
    pub(super) fn plan(&self, at: Instant) {
        let ms = u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(NONE - 1);
        self.planned_ms.store(ms, Ordering::Release);
    }

    /// Requests started and responses not yet finished, and requests started in
    /// all: what `parse_errors` needs to tell hyper's own answers from the service's.
    pub(super) fn requests(&self) -> (usize, u64) {
        // `started` first: a request counted there is in flight or finished by the
        // time `in_flight` is read, never missed by both.
        let started = self.started.load(Ordering::Acquire);
        (self.in_flight.load(Ordering::Acquire), started)
    }

    pub(super) fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(NONE, Ordering::Release);
        InFlight(Arc::clone(self))
    }

    pub(super) fn verdict(&self, limits: &Limits, watch_heads: bool) -> Verdict {
        let now = self.now_ms();
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // Handlers bound their own time (body timeout); event streams are meant
            // to stay open. Look again later.
            return Verdict::Wait(self.at(now) + limits.idle_timeout);
        }
        let head = self.head_started_ms.load(Ordering::Acquire);
        if watch_heads && head != NONE {
            let deadline = head.saturating_add(millis(limits.head_timeout));
            return if now >= deadline {
                Verdict::HeadTimeout
            } else {
                Verdict::Wait(self.at(deadline))
            };
        }
        let deadline = self
            .idle_since_ms
            .load(Ordering::Acquire)
            .saturating_add(millis(limits.idle_timeout));
        if now >= deadline {
            Verdict::Idle
        } else {
            Verdict::Wait(self.at(deadline))
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NONE - 1)
}

/// One request in flight; dropped when its response body is finished (or dropped).
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        let now = a.now_ms();
        a.idle_since_ms.store(now, Ordering::Release);
        // The last request in flight ended: wake the watchdog only if the idle
        // deadline comes before it next looks anyway.
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && a.planned_ms.load(Ordering::Acquire) > now.saturating_add(a.idle_timeout_ms)
        {
            a.wake.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until it ends.
pub(super) struct Tracked {
    pub(super) body: Body,
    pub(super) _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The TCP stream, reporting reads to the watchdog.
pub(super) struct Watched {
    pub(super) tcp: TcpStream,
    pub(super) activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}
