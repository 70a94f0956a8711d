//! Server-sent events: the change bus and the stream bodies.
//!
//! Handlers publish changes (`event: /api/v1/audio`, data: the new resource) on an
//! [`EventBus`]; every `/api/v1/events` stream subscribes to it. A stream ends when
//! the service shuts down, when the credential that opened it is revoked (checked
//! on every state change), or when the client goes away. Streams with nothing to say
//! send a keep-alive comment now and then so dead peers are noticed.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::StreamBody;
use hyper::body::Frame;
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};
use tokio::time::{Interval, MissedTickBehavior};

use crate::http_util::{Body, BodyError};
use crate::per_address::Share;

/// Events kept for slow subscribers before they skip ahead.
const BUS_CAPACITY: usize = 64;
/// Reconnection delay suggested to clients, in milliseconds (as the vendor sends).
pub(crate) const RETRY_MS: u64 = 5000;

/// One published change.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event name (for resource changes, the resource's path).
    pub name: &'static str,
    /// Compact JSON (no line breaks).
    pub data: Bytes,
}

/// Fan-out of changes to every open event stream.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        EventBus {
            tx: broadcast::channel(BUS_CAPACITY).0,
        }
    }

    /// Publish a change (the resource, already serialised) to every current
    /// subscriber.
    pub fn publish(&self, name: &'static str, data: Bytes) {
        // No subscribers is not an error.
        let _ = self.tx.send(Arc::new(Event { name, data }));
    }

    /// Subscribe to changes published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// One SSE frame: `event:`, one `data:` line per line of data, optional `retry:`.
pub(crate) fn frame(name: &str, data: &[u8], retry_ms: Option<u64>) -> Bytes {
    let mut b = BytesMut::with_capacity(name.len() + data.len() + 32);
    b.put_slice(b"event: ");
    b.put_slice(name.as_bytes());
    b.put_u8(b'\n');
    for line in data.split(|&c| c == b'\n') {
        b.put_slice(b"data: ");
        b.put_slice(line.strip_suffix(b"\r").unwrap_or(line));
        b.put_u8(b'\n');
    }
    if let Some(ms) = retry_ms {
        b.put_slice(format!("retry: {ms}\n").as_bytes());
    }
    b.put_u8(b'\n');
    b.freeze()
}

const KEEPALIVE: &[u8] = b": keep-alive\n\n";

/// What a stream emits.
pub(crate) enum Source {
    /// `event: heartbeat` / `data: .` at every tick (the first one at once).
    Heartbeat(Interval),
    /// Changes from the bus.
    Bus(broadcast::Receiver<Arc<Event>>),
    /// Some frames at once, then each timer's frame at its tick (the first tick at
    /// once): a device's measurements.
    Scheduled {
        /// Sent first, in order.
        first: std::collections::VecDeque<Bytes>,
        /// The periodic events.
        timers: Vec<Timer>,
    },
}

/// An event that comes every `period`: `next` makes its frame.
pub(crate) struct Timer {
    tick: Interval,
    next: Box<dyn FnMut() -> Bytes + Send + Sync>,
}

/// A timer calling `next` every `period`, the first time at once.
pub(crate) fn timer(period: Duration, next: impl FnMut() -> Bytes + Send + Sync + 'static) -> Timer {
    Timer {
        tick: interval(period),
        next: Box::new(next),
    }
}

/// A source sending `first`, then the timers' events (only keep-alives when there
/// are none).
pub(crate) fn scheduled(first: Vec<Bytes>, timers: Vec<Timer>) -> Source {
    Source::Scheduled {
        first: first.into(),
        timers,
    }
}

/// An open stream's place: one of its budget's (public or authenticated) and one
/// of its client address's share.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    /// The place under `max_event_streams` or `max_public_streams`.
    pub _place: OwnedSemaphorePermit,
    /// The place under `max_streams_per_address`.
    pub _share: Share,
}

/// Decides, on every state change, whether the stream's credential is still good.
pub(crate) type StillValid = Box<dyn Fn() -> bool + Send + Sync>;

/// Everything a stream watches besides its source.
pub(crate) struct Watch {
    /// Flips to `true` when the service shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// State generation; changes on every state change.
    pub changes: watch::Receiver<u64>,
    /// Re-checked on every state change; `None` for public streams.
    pub still_valid: Option<StillValid>,
    /// Keep-alive comment interval for quiet streams.
    pub keepalive: Duration,
    /// The stream's place under its budget and its address's share: held, never
    /// read, given back when the stream ends and this is dropped.
    pub _slot: StreamSlot,
    /// When the stream ends at the latest (`events.max_stream_duration`).
    pub until: Option<tokio::time::Instant>,
}

struct Running {
    source: Source,
    watch: Watch,
    keepalive: Interval,
}

fn interval(period: Duration) -> Interval {
    let mut i = tokio::time::interval(period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// A heartbeat source ticking every `period`, first tick at once.
pub(crate) fn heartbeat(period: Duration) -> Source {
    Source::Heartbeat(interval(period))
}

async fn next_frame(r: &mut Running) -> Option<Bytes> {
    loop {
        tokio::select! {
            biased;
            changed = r.watch.shutdown.changed() => {
                if changed.is_err() || *r.watch.shutdown.borrow() {
                    return None;
                }
            }
            changed = r.watch.changes.changed(), if r.watch.still_valid.is_some() => {
                let valid = r.watch.still_valid.as_ref().is_some_and(|f| f());
                if changed.is_err() || !valid {
                    return None;
                }
            }
            out = next_from_source(&mut r.source) => {
                if out.is_some() {
                    r.keepalive.reset();
                }
                return out;
            }
            _ = r.keepalive.tick() => return Some(Bytes::from_static(KEEPALIVE)),
            () = until(r.watch.until) => return None,
        }
    }
}

async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn next_from_source(source: &mut Source) -> Option<Bytes> {
    match source {
        Source::Heartbeat(tick) => {
            tick.tick().await;
            Some(frame("heartbeat", b".", Some(RETRY_MS)))
        }
        Source::Scheduled { first, timers } => {
            if let Some(frame) = first.pop_front() {
                return Some(frame);
            }
            if timers.is_empty() {
                return std::future::pending().await;
            }
            std::future::poll_fn(|cx| {
                for t in timers.iter_mut() {
                    if t.tick.poll_tick(cx).is_ready() {
                        return std::task::Poll::Ready(Some((t.next)()));
                    }
                }
                std::task::Poll::Pending
            })
            .await
        }
        Source::Bus(rx) => loop {
            match rx.recv().await {
                Ok(event) => return Some(frame(event.name, &event.data, None)),
                // A slow client skipped some changes; the next one carries full state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        },
    }
}

/// A `text/event-stream` response that runs until the source ends, the service
/// shuts down, the credential is revoked, or the client disconnects.
pub(crate) fn response(source: Source, watch: Watch) -> Response<Body> {
    let mut keepalive = interval(watch.keepalive);
    keepalive.reset(); // the first keep-alive comes one period from now
    let running = Running {
        source,
        watch,
        keepalive,
    };
    let stream = futures_util::stream::unfold(running, |mut r| async move {
        next_frame(&mut r).await.map(|bytes| (bytes, r))
    })
    .map(|bytes| Ok::<_, BodyError>(Frame::data(bytes)));
    let mut resp = Response::new(Body::stream(StreamBody::new(stream)));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_well_formed() {
        assert_eq!(
            &frame("heartbeat", b".", Some(5000))[..],
            b"event: heartbeat\ndata: .\nretry: 5000\n\n"
        );
        assert_eq!(
            &frame("/api/v1/audio", b"{\"a\":1}", None)[..],
            b"event: /api/v1/audio\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(&frame("x", b"a\nb", None)[..], b"event: x\ndata: a\ndata: b\n\n");
    }
}
