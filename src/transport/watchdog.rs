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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::Limits;
use crate::http_util::{Body, BodyError};

const NONE: u64 = u64::MAX;

/// What the watchdog knows about one connection.
pub(super) struct Activity {
    /// When the connection began, and the same moment on the coarse clock: the
    /// watchdog counts in milliseconds of the coarse clock (`util::coarse_millis`),
    /// which costs no time-counter read on every socket read and every response.
    origin: Instant,
    origin_coarse_ms: u64,
    in_flight: AtomicUsize,
    /// Requests hyper has handed to the service on this connection.
    started: AtomicU64,
    pub(super) idle_since_ms: AtomicU64,
    pub(super) head_started_ms: AtomicU64,
    /// When the watchdog next looks (ms since `origin`).
    planned_ms: AtomicU64,
    head_timeout_ms: u64,
    idle_timeout_ms: u64,
    /// The connection's task, to wake when the watchdog must look again sooner.
    waker: AtomicWaker,
    /// Set with a wake-up, cleared when the connection sees it.
    look: AtomicBool,
    /// The service is shutting down: finish the requests in flight and close.
    closing: AtomicBool,
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
            origin_coarse_ms: crate::util::coarse_millis(),
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(NONE),
            planned_ms: AtomicU64::new(0),
            head_timeout_ms: millis(head_timeout),
            idle_timeout_ms: millis(idle_timeout),
            waker: AtomicWaker::new(),
            look: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        }
    }

    /// Make the connection look at its watchdog again.
    fn wake(&self) {
        self.look.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// The service is shutting down: the connection closes once its requests are
    /// answered.
    pub(super) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.wake();
    }

    /// Whether [`Activity::close`] was called.
    pub(super) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Whether the watchdog was asked to look again since the last call; if not,
    /// the task of `cx` is woken when it is. Called on every poll of the
    /// connection, so it costs two uncontended atomic operations and no lock (a
    /// `Notify` would take its mutex on every poll).
    pub(super) fn poll_look(&self, cx: &Context<'_>) -> bool {
        self.waker.register(cx.waker());
        self.look.load(Ordering::Acquire) && self.look.swap(false, Ordering::AcqRel)
    }

    /// Milliseconds since the connection began (at the coarse clock's resolution, a
    /// few milliseconds: the deadlines it serves are seconds).
    pub(super) fn now_ms(&self) -> u64 {
        crate::util::coarse_millis()
            .saturating_sub(self.origin_coarse_ms)
            .min(NONE - 1)
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
            self.wake();
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

/// The connections being served, so that a shutdown reaches each one's watchdog
/// ([`Activity::close`]) without every connection watching a shared signal on
/// every poll. Touched once when a connection starts serving HTTP and once when it
/// ends.
#[derive(Default)]
pub(super) struct Connections {
    live: std::sync::Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    next: u64,
    activities: std::collections::HashMap<u64, std::sync::Weak<Activity>>,
}

impl Connections {
    /// Count `activity` in until the returned guard is dropped.
    pub(super) fn enter(self: &Arc<Self>, activity: &Arc<Activity>) -> Entered {
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = live.next;
        live.next += 1;
        live.activities.insert(id, Arc::downgrade(activity));
        Entered {
            connections: Arc::clone(self),
            id,
        }
    }

    /// Tell every connection being served to finish ([`Activity::close`]).
    pub(super) fn close_all(&self) {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for activity in live.activities.values().filter_map(std::sync::Weak::upgrade) {
            activity.close();
        }
    }

    /// How many connections are being served.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .activities
            .len()
    }
}

/// A connection counted in [`Connections`]; counted out when dropped.
pub(super) struct Entered {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let mut live = self
            .connections
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        live.activities.remove(&self.id);
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
            a.wake();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake, Waker};
    use std::time::Duration;

    use super::{Activity, Connections};

    /// A waker that counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn activity() -> Arc<Activity> {
        Arc::new(Activity::new(Duration::from_secs(10), Duration::from_secs(60)))
    }

    #[test]
    fn a_wake_up_is_seen_once_and_wakes_the_registered_task() {
        let a = activity();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&waker);
        assert!(!a.poll_look(&cx), "nothing asked for a look yet");
        a.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(a.poll_look(&cx));
        assert!(!a.poll_look(&cx), "a wake-up is seen once");
    }

    #[test]
    fn close_all_reaches_the_connections_being_served_and_no_others() {
        let connections = Arc::new(Connections::default());
        let (a, b) = (activity(), activity());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&waker);
        let _in_a = connections.enter(&a);
        let in_b = connections.enter(&b);
        assert!(!a.poll_look(&cx));
        assert_eq!(connections.len(), 2);
        drop(in_b);
        assert_eq!(connections.len(), 1, "a connection that ended is counted out");
        connections.close_all();
        assert!(a.is_closing() && a.poll_look(&cx));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the connection's task was woken");
        assert!(!b.is_closing());
    }
}
