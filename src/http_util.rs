//! The response body type every handler returns, small builders for JSON and
//! empty responses, and the mark of a request that came over plain HTTP.
//!
//! One body type serves fixed JSON, server-sent event streams and (for gateway
//! routes) streamed upstream bodies, so the pipeline has a single response type from
//! end to end; only streams are boxed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use serde::Serialize;

/// Marks a request that arrived on the plain-HTTP listener (absent: HTTPS). Set by
/// the transport; read by the gateway for `X-Forwarded-Proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlainHttp;

/// The error a streamed response body may end with.
pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body: fixed bytes or a stream. Fixed bytes (nearly every answer)
/// are held as they are; only a stream is boxed, so an ordinary answer costs no
/// allocation for its body.
pub enum Body {
    /// Fixed bytes; `None` once they have been taken (or for no body).
    Fixed(Option<Bytes>),
    /// A stream: server-sent events, a forwarded upstream body.
    Stream(BoxBody<Bytes, BodyError>),
}

impl Body {
    /// A streamed body.
    pub(crate) fn stream<B>(body: B) -> Body
    where
        B: HttpBody<Data = Bytes, Error = BodyError> + Send + Sync + 'static,
    {
        Body::Stream(BodyExt::boxed(body))
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Fixed(bytes) => f
                .debug_tuple("Fixed")
                .field(&bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Fixed(bytes) => Poll::Ready(bytes.take().filter(|b| !b.is_empty()).map(|b| Ok(Frame::data(b)))),
            Body::Stream(stream) => Pin::new(stream).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Fixed(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Body::Stream(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Fixed(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(stream) => stream.size_hint(),
        }
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// A document serialised once, for answers served many times. Our own plain data
/// types always serialise; an empty body would be the (logged) fallback.
pub(crate) fn to_json_bytes(value: &impl Serialize) -> Bytes {
    match serde_json::to_vec(value) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a document");
            Bytes::new()
        }
    }
}

/// A body of fixed bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Body::Fixed(Some(bytes.into()))
}

/// An empty body.
pub(crate) fn empty() -> Body {
    Body::Fixed(None)
}

/// A JSON response. Serialising our own plain data types cannot fail; if it ever
/// did, the client gets a generic 500 body rather than a panic.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_bytes(status, Bytes::from(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(
                    br#"{"errors":[{"code":"internal_error","message":"the device could not complete the request"}]}"#,
                ),
            )
        }
    }
}

/// A response whose body is already-serialised JSON.
pub(crate) fn json_bytes(status: StatusCode, bytes: Bytes) -> Response<Body> {
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, JSON);
    h.insert(header::CACHE_CONTROL, NO_STORE);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    resp
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response<Body> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
    resp
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use hyper::body::Body as _;

    use super::*;

    #[tokio::test]
    async fn fixed_bodies_give_their_bytes_once_and_say_their_length() {
        let body = full("{}");
        assert!(!body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(2));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "{}");

        for none in [empty(), full(Bytes::new())] {
            assert!(none.is_end_stream());
            assert_eq!(none.size_hint().exact(), Some(0));
            assert!(none.collect().await.unwrap().to_bytes().is_empty());
        }

        let mut body = full("x");
        assert!(body.frame().await.is_some());
        assert!(body.frame().await.is_none(), "the bytes come once");
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    #[tokio::test]
    async fn a_stream_body_passes_its_frames_through() {
        let frames = futures_util::stream::iter(["a", "b"].map(|s| Ok::<_, BodyError>(Frame::data(Bytes::from(s)))));
        let body = Body::stream(http_body_util::StreamBody::new(frames));
        assert!(matches!(body, Body::Stream(_)));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "ab");
    }
}
