//! JSON for hyper's own HTTP/1 error answers: the write adapter that replaces the
//! bare 400/431/414 hyper writes for a request it cannot parse, and the canned
//! `connection: close` JSON responses it (and the plain-HTTP answer) writes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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
/// way to customise it. The service counts every response it hands to hyper; a final
/// response head beyond that count can only be hyper's automatic one, so it is
/// replaced by the same status as a JSON error: every error the device gives is JSON.
pub(super) struct JsonParseErrors<S> {
    inner: S,
    activity: Arc<Activity>,
    /// Final (non-1xx) response heads seen at the start of a write.
    heads: u64,
    /// The buffer being written was already counted (hyper retries after Pending).
    counted: bool,
    /// A replacement being written: the bytes, how many are out, and how many of
    /// hyper's bytes it stands for.
    replacing: Option<(&'static [u8], usize, usize)>,
}

impl<S> JsonParseErrors<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        JsonParseErrors {
            inner,
            activity,
            heads: 0,
            counted: false,
            replacing: None,
        }
    }
}

/// Whether `buf` starts with a final (non-informational) HTTP/1.1 response head.
fn starts_final_head(buf: &[u8]) -> bool {
    buf.starts_with(b"HTTP/1.1 ") && buf.get(9).is_some_and(|c| *c != b'1')
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() && !self.counted && starts_final_head(buf) {
            self.heads += 1;
            self.counted = true;
            if self.heads > self.activity.responses.load(Ordering::Acquire) {
                self.replacing = PARSE_ERRORS
                    .iter()
                    .find(|(prefix, _)| buf.starts_with(prefix))
                    .map(|(_, json)| (json.as_slice(), 0, buf.len()));
            }
        }
        let Some((bytes, mut written, stands_for)) = self.replacing else {
            let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
            if poll.is_ready() {
                self.counted = false;
            }
            return poll;
        };
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
        self.counted = false;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
