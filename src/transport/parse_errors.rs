//! JSON for hyper's own HTTP/1 error answers: the write adapter that replaces the
//! bare 400/431/414 hyper writes for a request it cannot parse, and the canned
//! `connection: close` JSON responses it (and the plain-HTTP answer) writes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::watchdog::Activity;

/// A complete `connection: close` HTTP/1.1 response with a one-entry JSON error.
pub(super) fn canned_response(status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// hyper's automatic answers to requests it cannot parse (by status-line prefix),
/// and their JSON versions.
pub(super) static PARSE_ERRORS: std::sync::LazyLock<[(&[u8], Vec<u8>); 3]> = std::sync::LazyLock::new(|| {
    [
        (
            b"HTTP/1.1 400 ",
            canned_response(
                "400 Bad Request",
                "malformed_request",
                "the request is not valid HTTP/1.1",
            ),
        ),
        (
            b"HTTP/1.1 431 ",
            canned_response(
                "431 Request Header Fields Too Large",
                "headers_too_large",
                "the request head is too large or has too many headers",
            ),
        ),
        (
            b"HTTP/1.1 414 ",
            canned_response("414 URI Too Long", "uri_too_long", "the request URI is too long"),
        ),
    ]
});

/// HTTP/1: hyper answers a request it cannot parse (bad request line or header
/// syntax, an oversized head, a long URI) by itself, with a bare status line and no
/// way to customise it. This adapter replaces that answer with the same status as a
/// JSON error: every error the device gives is JSON.
///
/// Which writes are hyper's own is decided from the connection's request counts,
/// never from what a response carries (a proxied body may hold any bytes, including
/// a status line). hyper parses a request head only when the previous exchange is
/// complete and flushed, and writes its own answer only for a head it could not
/// parse, so before the service was called for it. The adapter therefore notes, at
/// each flush that finds no request in flight, how many requests had started: every
/// byte of their responses has been written by then. A later write is hyper's own
/// exactly when still no request is in flight and none has started since.
pub(super) struct JsonParseErrors<S> {
    inner: S,
    activity: Arc<Activity>,
    /// HTTP/1 (hyper writes no answers of its own on an HTTP/2 connection).
    http1: bool,
    /// Requests started when a flush last found none in flight.
    settled: u64,
    /// A replacement being written: the bytes, how many are out, and how many of
    /// hyper's bytes it stands for.
    replacing: Option<(&'static [u8], usize, usize)>,
}

impl<S> JsonParseErrors<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>, http1: bool) -> Self {
        JsonParseErrors {
            inner,
            activity,
            http1,
            settled: 0,
            replacing: None,
        }
    }

    /// The JSON version of `buf`, when `buf` is hyper's own answer to a request it
    /// could not parse.
    fn replacement_for(&self, buf: &[u8]) -> Option<&'static [u8]> {
        if !self.http1 || self.activity.requests() != (0, self.settled) {
            return None;
        }
        PARSE_ERRORS
            .iter()
            .find(|(prefix, _)| buf.starts_with(prefix))
            .map(|(_, json)| json.as_slice())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let (bytes, mut written, stands_for) = match self.replacing {
            Some(replacing) => replacing,
            None => match self.replacement_for(buf) {
                Some(json) => (json, 0, buf.len()),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            },
        };
        self.replacing = Some((bytes, written, stands_for));
        while written < bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    written += n;
                    self.replacing = Some((bytes, written, stands_for));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.replacing = None;
        Poll::Ready(Ok(stands_for))
    }

    /// On HTTP/1, a response's head and body go out in one `writev`, not copied
    /// into one buffer first. hyper's queued writes put the head first: its own
    /// answers, and a replacement under way, go through `poll_write`, which sees
    /// that head whole.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &**b);
        if self.replacing.is_some() || self.replacement_for(first).is_some() {
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    /// HTTP/1 only. h2 writes vectored by chaining each DATA frame of 256 bytes or
    /// more behind the frames before it and flushing: one TLS record and one
    /// `writev` per small answer. Copied instead (below 1 KiB), the answers of
    /// several streams share a record and a system call: a third less CPU per
    /// HTTP/2 request here (`bench/`).
    fn is_write_vectored(&self) -> bool {
        self.http1 && self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(poll, Poll::Ready(Ok(()))) {
            let (in_flight, started) = self.activity.requests();
            if in_flight == 0 {
                self.settled = started;
            }
        }
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
