//! Request bodies: framing checked from the headers before authentication (413,
//! 415), the JSON body (and a forwarded request's body) read within the size limit
//! and timeout, and the helpers handlers use to pick fields out of it with the
//! documented error codes.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, header};
use http_body_util::BodyExt;
use hyper::body::Body as HttpBody;
use serde_json::{Map, Value};

use crate::app::App;
use crate::auth::passwords::Password;
use crate::config::Limits;
use crate::error::ApiError;
use crate::http_util::BodyError;

/// Why a body could not be collected.
enum Collect {
    /// Past the limit after this many bytes.
    TooLarge(usize),
    /// The client's framing was broken or the connection failed.
    Failed,
}

/// The whole body, if it fits in `limit` bytes.
async fn collect_within<B>(body: &mut B, limit: usize) -> Result<Bytes, Collect>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BodyError>,
{
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Collect::Failed)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(Collect::TooLarge(buf.len() + data.len()));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Read and throw away the rest of a body the answer does not need, up to `max`
/// bytes within `timeout`; `true` when the body ended within them. A client that
/// is still sending its body when the server answers and closes gets a reset, which
/// takes the unread answer with it (curl: "broken pipe", HTTP/2 clients: a stream
/// error); read to its end, the body leaves nothing to reset.
pub(crate) async fn discard<B>(body: &mut B, max: usize, timeout: std::time::Duration) -> bool
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let drain = async {
        let mut read = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Ok(data) = frame.into_data() {
                read = read.saturating_add(data.len());
                if read > max {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, drain).await.unwrap_or(false)
}

/// Whether the request says `Content-Type: application/json` (parameters allowed).
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The length a `Content-Length` value declares; `None` if it is not a number.
pub(super) fn declared_length(value: &HeaderValue) -> Option<u64> {
    value.to_str().ok().and_then(|v| v.trim().parse().ok())
}

/// 413 for a declared length (`content_length`, the first `Content-Length`) past
/// the limit; 415 for a body (or a route that takes one) not declared as JSON.
/// Checked before authentication so nothing large is read from anyone.
pub(super) fn check_body_framing<B: HttpBody>(
    expects_json: bool,
    headers: &HeaderMap,
    content_length: Option<&HeaderValue>,
    body: &B,
    limit: usize,
) -> Result<(), ApiError> {
    if let Some(declared) = content_length {
        match declared_length(declared) {
            Some(n) if n > limit as u64 => return Err(ApiError::payload_too_large(limit)),
            Some(_) => {}
            None => {
                return Err(ApiError::bad_request(
                    "invalid_content_length",
                    "Content-Length is not a number",
                ));
            }
        }
    }
    if body.size_hint().lower() > limit as u64 {
        return Err(ApiError::payload_too_large(limit));
    }
    let has_body = !body.is_end_stream() && body.size_hint().exact() != Some(0);
    if (expects_json || has_body) && !is_json(headers) {
        return Err(ApiError::unsupported_media_type());
    }
    Ok(())
}

/// Read a whole body within `limits.max_body_bytes` and `limits.body_timeout`.
/// Every failure is the client's: 413 past the limit (the rest of the body is read
/// and thrown away first, see [`discard`]), 408 too slow, 400 for broken framing
/// (a bad chunk, a connection closed early).
pub(super) async fn read_limited<B>(body: B, limits: &Limits) -> Result<Bytes, ApiError>
where
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let mut body = body;
    let collected = tokio::time::timeout(limits.body_timeout, collect_within(&mut body, limits.max_body_bytes))
        .await
        .map_err(|_| ApiError::request_timeout())?;
    match collected {
        Ok(bytes) => Ok(bytes),
        Err(Collect::TooLarge(read)) => {
            let left = limits.max_discard_bytes.saturating_sub(read);
            discard(&mut body, left, limits.discard_timeout).await;
            Err(ApiError::payload_too_large(limits.max_body_bytes))
        }
        Err(Collect::Failed) => Err(ApiError::bad_request(
            "body_read_error",
            "the request body could not be read",
        )),
    }
}

/// Read a JSON body within the size limit and the body timeout. An empty body is
/// `None` where the body may be left out (`required` false), 400 otherwise.
pub(super) async fn read_json<B>(body: B, app: &App, required: bool) -> Result<Option<Value>, ApiError>
where
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let config = app.config();
    let limits = &config.limits;
    let bytes = read_limited(body, limits).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if !required {
            return Ok(None);
        }
        return Err(ApiError::bad_request(
            "missing_body",
            "this endpoint needs a JSON request body",
        ));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        // Position only: the message must not echo the body, which may hold a password.
        ApiError::bad_request(
            "invalid_json",
            format!(
                "request body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Pull a required string field out of a JSON object.
pub(crate) fn string_field<'a>(obj: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, ApiError> {
    match obj.get(name) {
        None => Err(ApiError::bad_request("missing_field", format!("`{name}` is required"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::bad_request(
            "invalid_type",
            format!("`{name}` must be a string"),
        )),
    }
}

/// Refuse fields other than `allowed` (the name shown is truncated).
pub(crate) fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(ApiError::bad_request(
            "unknown_field",
            format!(
                "`{}` is not a field of this request (allowed: {})",
                crate::util::shown(k),
                allowed.join(", ")
            ),
        )),
    }
}

/// The body as a JSON object, or 400.
pub(crate) fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::bad_request("invalid_body", "request body must be a JSON object"))
}

/// An optional string field, as a [`Password`] (the fields that use it hold secrets).
pub(crate) fn optional_password(obj: &Map<String, Value>, name: &'static str) -> Result<Option<Password>, ApiError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(Password::new(s.as_str()))),
        Some(_) => Err(ApiError::bad_request(
            "invalid_type",
            format!("`{name}` must be a string"),
        )),
    }
}
