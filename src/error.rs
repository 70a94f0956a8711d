//! The one error type of the HTTP API, and the one place it becomes a response.
//!
//! Every refusal the service gives is an [`ApiError`]: a status, one or more
//! `{code, message}` entries, and the headers that status needs (`Retry-After`,
//! `Allow`, `WWW-Authenticate`). `code` is a stable snake_case word that clients may
//! match on; `message` is for people and never carries internal error text, paths or
//! secrets. Internal failures are logged where they happen and reach the client only
//! as `internal_error`.

use std::path::Path;

use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use crate::http_util::{Body, json_response};

/// A file operation that failed: what, on which path, and the error kind. Used by
/// the modules that own files (store, tls); never carries file contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op} {path}: {kind}")]
pub struct IoFailure {
    /// What was being done.
    pub op: &'static str,
    /// The file or folder.
    pub path: String,
    /// The I/O error kind.
    pub kind: std::io::ErrorKind,
}

/// `map_err` adapter: `file.sync_all().map_err(io_failure("fsync", &path))?`.
pub(crate) fn io_failure<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> IoFailure + 'a {
    move |e| IoFailure {
        op,
        path: path.display().to_string(),
        kind: e.kind(),
    }
}

/// Merge a PATCH body into a document: each top-level field the body names replaces
/// the document's; each name the document does not have becomes an `unknown_field`
/// entry, returned for the caller to report with its own findings. `what` names the
/// document in messages.
pub(crate) fn merge_top_level(
    current: &impl serde::Serialize,
    body: &serde_json::Value,
    what: &str,
) -> Result<(serde_json::Map<String, serde_json::Value>, Vec<ErrorEntry>), ApiError> {
    let Some(patch) = body.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("request body must be a JSON object of {what} fields"),
        ));
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(ApiError::internal()),
    };
    let mut unknown = Vec::new();
    for (name, value) in patch {
        if merged.contains_key(name) {
            merged.insert(name.clone(), value.clone());
        } else {
            let shown = crate::util::shown(name);
            unknown.push(ErrorEntry {
                code: "unknown_field",
                message: format!("`{shown}` is not a {what} field"),
            });
        }
    }
    Ok((merged, unknown))
}

/// One entry of the `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// Stable, machine-readable snake_case code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// An API refusal: status, error entries and the headers the status calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<ErrorEntry>,
    retry_after: Option<u64>,
    allow: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    errors: &'a [ErrorEntry],
}

impl ApiError {
    /// An error with one entry.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![ErrorEntry {
                code,
                message: message.into(),
            }],
            retry_after: None,
            allow: None,
        }
    }

    /// An error made of several entries (for example one per bad header or field).
    /// `entries` must not be empty.
    pub fn many(status: StatusCode, entries: Vec<ErrorEntry>) -> Self {
        debug_assert!(!entries.is_empty());
        ApiError {
            status,
            errors: entries,
            retry_after: None,
            allow: None,
        }
    }

    /// 400 with one entry.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 with one entry; the response carries `WWW-Authenticate`.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 with one entry.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 for a path no route serves.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no endpoint at this path")
    }

    /// 404 for a named resource (session, key…) that does not exist.
    pub fn no_such(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 405 with the `Allow` header listing the methods the path supports.
    pub fn method_not_allowed(allow: String) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this endpoint allows {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// 409 state conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: the body is larger than the configured limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 415: a body that is not declared as JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "request body must be sent with Content-Type: application/json",
        )
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// 503 with `Retry-After`: the device is saturated, try again shortly.
    pub fn busy(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// 408: the request body did not arrive in time.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        )
    }

    /// 500: the cause must already have been logged by the caller; the client
    /// only learns that something went wrong inside the device.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the device could not complete the request",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error entries.
    pub fn entries(&self) -> &[ErrorEntry] {
        &self.errors
    }

    /// The first entry's code (every error has at least one).
    pub fn code(&self) -> &'static str {
        self.errors.first().map_or("internal_error", |e| e.code)
    }

    /// `Retry-After` seconds, when the status carries one.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// Render as a response. `realm` is the already-quoted-safe device name used in
    /// `WWW-Authenticate` on 401.
    pub fn into_response(self, realm: &HeaderValue) -> Response<Body> {
        let mut resp = json_response(self.status, &ErrorBody { errors: &self.errors });
        let headers = resp.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, realm.clone());
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(allow) = self.allow
            && let Ok(v) = HeaderValue::from_str(&allow)
        {
            headers.insert(header::ALLOW, v);
        }
        resp
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn realm() -> HeaderValue {
        HeaderValue::from_static("Nureva realm=\"test\"")
    }

    #[test]
    fn unauthorized_carries_www_authenticate() {
        let r = ApiError::unauthorized("invalid_credentials", "x").into_response(&realm());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], realm());
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn retry_after_and_allow_are_set() {
        let r = ApiError::rate_limited("rate_limited", "slow down", 0).into_response(&realm());
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = ApiError::method_not_allowed("GET, PATCH".into()).into_response(&realm());
        assert_eq!(r.headers()[header::ALLOW], "GET, PATCH");
        assert!(!r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
