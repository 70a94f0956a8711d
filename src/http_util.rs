//! The response body type every handler returns, small builders for JSON and
//! empty responses, and the mark of a request that came over plain HTTP.
//!
//! One boxed body type serves fixed JSON, server-sent event streams and (for
//! gateway routes) streamed upstream bodies, so the pipeline has a single response
//! type from end to end.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use serde::Serialize;

/// Marks a request that arrived on the plain-HTTP listener (absent: HTTPS). Set by
/// the transport; read by the gateway for `X-Forwarded-Proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlainHttp;

/// The error a streamed response body may end with.
pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body: fixed bytes or a stream.
pub(crate) type Body = BoxBody<Bytes, BodyError>;

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
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// An empty body.
pub(crate) fn empty() -> Body {
    Empty::new().map_err(|never: Infallible| match never {}).boxed()
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
