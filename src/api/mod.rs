//! The request pipeline, in one direction:
//!
//! ```text
//! path under /api → rate limit (429) → client headers (400) → canonical path (400)
//!   → [[route]]? → gateway (below) | route (404/405) → body framing (413/415)
//!   → authenticate (401) → role (403) → handler
//! gateway: method (405) → body framing (413/415) → authenticate (401) → role (403)
//!   → body read whole (413/400/408) → forward
//! ```
//!
//! Every refusal is an [`ApiError`] rendered in one place ([`handle`]). The pipeline
//! is generic over the request body type, so it runs the same behind the TLS
//! listener and in benchmarks without a socket. Handlers live in the submodules by
//! area.

pub(crate) mod admin;
pub(crate) mod authn;
pub(crate) mod body;
pub(crate) mod canonical;
pub(crate) mod certificate;
pub(crate) mod client;
pub(crate) mod device;
pub(crate) mod gateway;
pub(crate) mod heads;
pub(crate) mod login;
pub(crate) mod meta;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod room;
pub(crate) mod routes;
pub(crate) mod streams;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Body as HttpBody;
use serde_json::Value;

use crate::api::authn::{authenticate, authorize, must_change_password, password_change_required};
use crate::api::body::{check_body_framing, read_json, read_limited};
use crate::api::canonical::check_canonical;
use crate::api::client::{Client, client_from, scraper_client};
use crate::api::heads::Heads;
use crate::api::routes::{Lookup, METRICS_PATH, Op, lookup};
use crate::app::App;
use crate::auth::accounts::Role;
use crate::auth::credentials::{Principal, Remembered};
use crate::auth::state::State;
use crate::error::ApiError;
use crate::http_util::{Body, BodyError};

/// Everything a handler may need about the request.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    /// The application.
    pub app: &'a App,
    /// Client address.
    pub remote: SocketAddr,
    /// The calling integration.
    pub client: Client<'a>,
    /// The verified credential (routes above role none).
    pub principal: Option<Principal>,
    /// Path parameters.
    pub params: Vec<String>,
    /// The raw query string.
    pub query: Option<String>,
    /// The state the credential was verified against.
    pub state: Arc<State>,
    /// The `Accept` header, for the metrics endpoint (which chooses its format by
    /// it); `None` for every other route.
    pub accept: Option<http::HeaderValue>,
}

impl Ctx<'_> {
    /// The caller's role, if authenticated.
    pub(crate) fn role(&self) -> Option<Role> {
        self.principal.as_ref().map(|p| p.account)
    }

    /// Record an audit event for this caller.
    pub(crate) fn audit(&self, action: &'static str, outcome: &'static str, subject: Option<&str>) {
        let remote = self.remote.ip().to_string();
        let actor = crate::auth::audit::Actor {
            account: self.role(),
            client_id: &self.client.id,
            remote: &remote,
        };
        crate::auth::audit::record(action, outcome, &actor, subject);
    }

    /// Record what an operation did, as done by this caller.
    pub(crate) fn record(&self, event: &crate::auth::audit::Event) {
        self.audit(event.action, "success", event.subject.as_deref());
    }

    /// Whether this is an admin credential obtained with the enrollment code while
    /// the policy requires the admin password to be changed first.
    pub(crate) fn must_change_password(&self) -> bool {
        self.principal
            .as_ref()
            .is_some_and(|p| must_change_password(p, &self.state))
    }
}

/// What the API keeps about one connection between its requests.
#[derive(Debug)]
pub(crate) struct Peer {
    /// The client's address.
    pub remote: SocketAddr,
    /// The credential last verified on this connection (see [`Remembered`]).
    remembered: Remembered,
}

impl Peer {
    /// A new connection from `remote`.
    pub(crate) fn new(remote: SocketAddr) -> Peer {
        Peer {
            remote,
            remembered: Remembered::default(),
        }
    }
}

/// Serve one request on its own, as on a new connection. Never fails: every
/// problem becomes a JSON error response. (The work is boxed, as the transport
/// boxes it; see `handle_on`.)
pub async fn handle<B>(app: &App, remote: SocketAddr, req: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let peer = Peer::new(remote);
    Box::pin(handle_on(app, &peer, req)).await
}

/// Serve one request that came on `peer`'s connection. Never fails: every problem
/// becomes a JSON error response.
///
/// The future is large (the whole pipeline's state): the caller boxes it. hyper
/// keeps a slot for the service's future in every HTTP/1 connection for the
/// connection's whole life, so the transport hands hyper a pointer, and the
/// request's state lives on the heap only while the request is in flight.
pub(crate) async fn handle_on<B>(app: &App, peer: &Peer, req: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let started = Instant::now();
    let remote = peer.remote;
    // The pipeline borrows the head, so that it is here for the logs afterwards.
    let (parts, body) = req.into_parts();
    let heads = Heads::scan(&parts.headers);
    // Only a request that carries a body can leave one unread (not a GET's).
    let framing = (!body.is_end_stream()).then(|| Framing::of(&parts, &heads));
    let mut body = Some(body);
    let mut served_by = ServedBy::Unrouted;
    let mut resp = match pipeline(app, peer, started, &parts, &heads, &mut body, &mut served_by).await {
        Ok(resp) => resp,
        Err(e) => {
            if e.status().is_server_error() {
                let (method, path) = (&parts.method, parts.uri.path());
                tracing::warn!(%method, path, %remote, code = e.code(), "request failed");
            }
            e.into_response(&app.realm())
        }
    };
    if let (Some(body), Some(framing)) = (body, framing) {
        finish_unread(app, &framing, body, &mut resp).await;
    }
    let method = &parts.method;
    if method == http::Method::HEAD {
        resp = without_body(resp);
    }
    served_by.record(app, method, resp.status(), started.elapsed());
    tracing::debug!(
        %method,
        path = parts.uri.path(),
        %remote,
        status = resp.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    resp
}

/// What answered a request, for its request counters.
enum ServedBy {
    /// Answered before a route was chosen (or no route has the path).
    Unrouted,
    /// The built-in route at this index of the route table.
    Builtin(usize),
    /// A configured `[[route]]` (counted under its prefix).
    Forwarded(Arc<crate::api::gateway::ProxyRoute>),
}

impl ServedBy {
    /// Count the answered request: a few relaxed atomic adds.
    fn record(&self, app: &App, method: &http::Method, status: http::StatusCode, elapsed: std::time::Duration) {
        let target = match self {
            ServedBy::Unrouted => app.metrics().unrouted(),
            ServedBy::Builtin(index) => app.metrics().route(*index),
            ServedBy::Forwarded(route) => &route.stats,
        };
        target.record(method, status.as_u16(), elapsed);
    }
}

/// What the request head says about its body, kept for after the pipeline.
struct Framing {
    /// HTTP/1.x (where a connection can be told to close).
    http1: bool,
    /// `Expect: 100-continue`: the client sends the body only when asked to.
    expects_continue: bool,
    /// The declared `Content-Length`, if any.
    declared: Option<u64>,
}

impl Framing {
    fn of(parts: &http::request::Parts, heads: &Heads<'_>) -> Framing {
        Framing {
            http1: parts.version < http::Version::HTTP_2,
            expects_continue: heads
                .expect
                .first()
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
            declared: heads.content_length.first().and_then(body::declared_length),
        }
    }
}

/// The pipeline answered without reading the request body (a refusal before the
/// body, or an endpoint that takes none). Read what is left of it, within
/// `limits.max_discard_bytes` and `limits.discard_timeout`, before the answer goes
/// out, so that the client reads the answer rather than a reset. A body that is not
/// coming (`Expect: 100-continue`) is not asked for; one too large to read closes an
/// HTTP/1 connection after the answer. (On HTTP/2 the stream is reset with NO_ERROR
/// after the answer, RFC 9113 §8.1, which curl 7.88 still reports as an error while
/// it is uploading: reading the body is what makes the answer reach it.)
async fn finish_unread<B>(app: &App, framing: &Framing, mut body: B, resp: &mut Response<Body>)
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    if body.is_end_stream() || framing.expects_continue {
        return;
    }
    let (max, timeout) = {
        let config = app.config();
        (config.limits.max_discard_bytes, config.limits.discard_timeout)
    };
    let fits = framing.declared.is_none_or(|n| n <= max as u64);
    if fits && body::discard(&mut body, max, timeout).await {
        return;
    }
    if framing.http1 {
        resp.headers_mut()
            .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    }
}

/// The answer to a HEAD request: the GET answer's head, without its body. The
/// length of a body known in advance is kept, as GET would send it.
fn without_body(resp: Response<Body>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    if let Some(len) = body.size_hint().exact()
        && !parts.headers.contains_key(http::header::CONTENT_LENGTH)
    {
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    }
    Response::from_parts(parts, crate::http_util::empty())
}

/// The pipeline proper, on the request head `parts` and the headers found in one
/// pass over it (`heads`, also read by [`Framing::of`]). It takes the body out of
/// `body` only when it reads it (or forwards it); a body left there is the
/// caller's to finish. It notes in `served_by` the route it chose, for the request
/// counters.
async fn pipeline<B>(
    app: &App,
    peer: &Peer,
    started: Instant,
    parts: &http::request::Parts,
    heads: &Heads<'_>,
    body: &mut Option<B>,
    served_by: &mut ServedBy,
) -> Result<Response<Body>, ApiError>
where
    B: HttpBody<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let path = parts.uri.path();
    if path != "/api" && !path.starts_with("/api/") {
        return Err(ApiError::not_found());
    }
    let remote = peer.remote;
    let state = app.snapshot();
    app.limiter()
        .check(remote.ip(), state.policy.requests_per_minute, started)
        .map_err(|retry| {
            ApiError::rate_limited("rate_limited", "too many requests from this address; slow down", retry)
        })?;
    let client = if is_metrics_path(path) {
        scraper_client(&parts.headers, heads)?
    } else {
        client_from(heads)?
    };
    // Before any route is matched: a path has one spelling, so what roomgate checks
    // is what a device service serves (see `canonical`).
    check_canonical(path)?;
    // One look at the configuration in force for the two things the pipeline reads.
    let (forwarded, max_body_bytes) = {
        let config = app.config();
        (config.route_for(path)?, config.limits.max_body_bytes)
    };
    if let Some(route) = forwarded {
        *served_by = ServedBy::Forwarded(Arc::clone(&route));
        let head = RequestHead {
            peer,
            client: &client,
            heads,
            parts,
        };
        return Box::pin(proxy(app, &head, &state, &route, body)).await;
    }
    let (route, params) = match lookup(&parts.method, path) {
        Lookup::Found { route, params } => (route, params),
        Lookup::MethodNotAllowed { allow } => return Err(ApiError::method_not_allowed(allow)),
        Lookup::NotFound => return Err(ApiError::not_found()),
    };
    *served_by = ServedBy::Builtin(routes::index(route));
    let unread = body.as_ref().ok_or_else(ApiError::internal)?;
    let declared = heads.content_length.first();
    check_body_framing(
        route.op.body_required(),
        &parts.headers,
        declared,
        unread,
        max_body_bytes,
    )?;
    let principal = match route.min_role {
        None => None,
        Some(required) => {
            let principal = authenticate(app, &parts.headers, heads.authorization, peer, &client, &state).await?;
            authorize(&principal, required, &route.method, route.path)?;
            if must_change_password(&principal, &state) && !route.op.allowed_before_password_change() {
                return Err(password_change_required());
            }
            Some(principal)
        }
    };
    check_needs(app, route)?;
    let query = parts.uri.query().map(str::to_string);
    // Only the metrics endpoint reads it (to choose its format).
    let accept = match route.op {
        Op::Metrics => parts.headers.get(http::header::ACCEPT).cloned(),
        _ => None,
    };
    let ctx = Ctx {
        app,
        remote,
        client,
        principal,
        params,
        query,
        state,
        accept,
    };
    let json = match body.take() {
        Some(b) if route.op.takes_body() => Box::pin(read_json(b, app, route.op.body_required())).await?,
        other => {
            *body = other;
            None
        }
    };
    dispatch(route.op, ctx, json).await
}

/// The metrics endpoint, where scrapers may leave the client headers out
/// ([`scraper_client`]); one trailing slash as the route table allows.
fn is_metrics_path(path: &str) -> bool {
    path.strip_suffix('/').unwrap_or(path) == METRICS_PATH
}

/// Refuse an operation this device's model or firmware does not have, as the
/// vendor's device does (409; the capabilities document lists the same needs).
fn check_needs(app: &App, route: &routes::Route) -> Result<(), ApiError> {
    if route.needs == routes::Needs::NONE {
        return Ok(()); // most routes: no config load on the hot path
    }
    let config = app.config();
    let device = &config.device;
    let Some(failed) = route.needs.unmet(device.model, &device.firmware_version) else {
        return Ok(());
    };
    let what = format!("{} {}", route.method, route.path);
    if let Some(models) = failed.models {
        let supported = if models.is_empty() {
            "none".to_string()
        } else {
            models.join(", ")
        };
        return Err(ApiError::conflict(
            "unsupported_device_type",
            format!(
                "{what} is not supported on device type {} (supported: {supported})",
                device.model
            ),
        ));
    }
    if let Some(bars) = failed.bars {
        return Err(ApiError::conflict(
            "not_enough_bars",
            format!("{what} needs {bars} bars; this device has {}", device.model.bars()),
        ));
    }
    let firmware = failed.firmware.map(|f| f.to_string()).unwrap_or_default();
    Err(ApiError::conflict(
        "unsupported_firmware",
        format!(
            "{what} needs firmware {firmware} or later; this device runs {}",
            device.firmware_version
        ),
    ))
}

/// A request under a configured `[[route]]`: the same checks as a built-in endpoint,
/// then forwarded to the device service.
async fn proxy<B>(
    app: &App,
    head: &RequestHead<'_>,
    state: &Arc<State>,
    route: &crate::api::gateway::ProxyRoute,
    body: &mut Option<B>,
) -> Result<Response<Body>, ApiError>
where
    B: HttpBody<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    let RequestHead {
        peer,
        client,
        heads,
        parts,
    } = *head;
    let cfg = &route.config;
    let method = &parts.method;
    let allowed =
        cfg.methods.contains(method) || (method == http::Method::HEAD && cfg.methods.contains(&http::Method::GET));
    if !allowed {
        return Err(ApiError::method_not_allowed(routes::allow_header(cfg.methods.iter())));
    }
    let limits = app.config().limits.clone();
    let unread = body.as_ref().ok_or_else(ApiError::internal)?;
    let declared = heads.content_length.first();
    check_body_framing(false, &parts.headers, declared, unread, limits.max_body_bytes)?;
    let principal = authenticate(app, &parts.headers, heads.authorization, peer, client, state).await?;
    authorize(&principal, cfg.min_role, method, &cfg.prefix)?;
    if must_change_password(&principal, state) {
        return Err(password_change_required());
    }
    let caller = crate::api::gateway::Caller {
        remote: peer.remote.ip(),
        account: principal.account,
        client_id: &client.id,
        client_version: &client.version,
    };
    // Read whole before anything goes upstream: a body past the limit (413), with
    // broken framing (400) or too slow (408) is refused and the device service sees
    // none of it. Bodies are bounded by the limit anyway, so streaming them would
    // save only latency; response bodies (event streams) still stream.
    let body = read_limited(body.take().ok_or_else(ApiError::internal)?, &limits).await?;
    // The head is copied only here: the forwarded request owns its own (the
    // built-in routes only read it).
    route.forward(Request::from_parts(parts.clone(), body), &caller).await
}

/// A request's head as the pipeline has checked it, for a configured `[[route]]`.
#[derive(Clone, Copy)]
struct RequestHead<'a> {
    peer: &'a Peer,
    client: &'a Client<'a>,
    heads: &'a Heads<'a>,
    parts: &'a http::request::Parts,
}

/// Run an operation. Reads are answered inline; operations that write the state or
/// hash a password are boxed: they are rare and slow anyway, and keeping their state
/// machines out of the request future keeps it small — hyper holds one such future
/// per HTTP/1 connection for the connection's whole life.
async fn dispatch(op: Op, ctx: Ctx<'_>, sent: Option<Value>) -> Result<Response<Body>, ApiError> {
    // An optional body (`CreateCsr`) is handed over as sent: `null` is not absence.
    let (body, optional) = match op {
        Op::CreateCsr => (Value::Null, sent),
        _ => (sent.unwrap_or(Value::Null), None),
    };
    match op {
        Op::Capabilities => Ok(meta::capabilities(&ctx)),
        Op::Validate => login::validate(&ctx),
        Op::Heartbeat => streams::heartbeat(&ctx),
        Op::Events => streams::events(&ctx),
        Op::GetAudio => Ok(device::get_audio(&ctx)),
        Op::Hardware => Ok(device::hardware(&ctx)),
        Op::Data => device::data(&ctx),
        Op::Status => Ok(device::status(&ctx)),
        Op::Identify => Ok(device::identify(&ctx)),
        Op::Calibrate => device::calibrate(&ctx),
        // Refused by `check_needs` on both models before they get here.
        Op::GetSettings | Op::PatchSettings => Err(ApiError::not_found()),
        Op::GetRoomLayout => Ok(room::get_room_layout(&ctx)),
        Op::ListProfiles => Ok(room::list_profiles(&ctx)),
        Op::GetCameraSwitcher => Ok(room::get_camera_switcher(&ctx)),
        Op::NetworkConfiguration => Ok(room::network_configuration(&ctx)),
        Op::ListAccounts => Ok(admin::list_accounts(&ctx)),
        Op::ListSessions => Ok(admin::list_sessions(&ctx)),
        Op::ListKeys => Ok(admin::list_keys(&ctx)),
        Op::GetPolicy => Ok(admin::get_policy(&ctx)),
        Op::Metrics => Ok(metrics::metrics(&ctx)),
        Op::Login => Box::pin(login::login(ctx, body)).await,
        Op::Logout => Box::pin(login::logout(&ctx)).await,
        Op::PatchAudio => Box::pin(device::patch_audio(&ctx, body)).await,
        Op::ChangeVolume => Box::pin(device::change_volume(&ctx, body)).await,
        Op::PatchRoomLayout => Box::pin(room::patch_room_layout(&ctx, body)).await,
        Op::PatchZoneInputMaps => Box::pin(room::patch_zone_input_maps(&ctx, body)).await,
        Op::CreateProfile => Box::pin(room::create_profile(&ctx, body)).await,
        Op::RenameProfile => Box::pin(room::rename_profile(&ctx, body)).await,
        Op::ActivateProfile => Box::pin(room::activate_profile(&ctx)).await,
        Op::DeleteProfile => Box::pin(room::delete_profile(&ctx)).await,
        Op::PatchCameraSwitcher => Box::pin(room::patch_camera_switcher(&ctx, body)).await,
        Op::UpdateAccount => Box::pin(admin::update_account(&ctx, body)).await,
        Op::RevokeSession => Box::pin(admin::revoke_session(&ctx)).await,
        Op::CreateKey => Box::pin(admin::create_key(&ctx, body)).await,
        Op::RevokeKey => Box::pin(admin::revoke_key(&ctx)).await,
        Op::PatchPolicy => Box::pin(admin::patch_policy(&ctx, body)).await,
        Op::GetCertificate => certificate::get(&ctx),
        Op::InstallCertificate => Box::pin(certificate::install(&ctx, body)).await,
        Op::CreateCsr => Box::pin(certificate::create_csr(&ctx, optional)).await,
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::authn::presented_credential;
    use super::body::is_json;
    use super::client::client_headers;
    use crate::error::ApiError;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    fn codes(e: ApiError) -> Vec<&'static str> {
        e.entries().iter().map(|e| e.code).collect()
    }

    #[test]
    fn client_header_rules_give_one_entry_per_bad_header() {
        let long = "x".repeat(501);
        let ok = "x".repeat(500);
        assert!(
            client_headers(&headers(&[
                ("nureva-client-id", ok.as_bytes()),
                ("nureva-client-version", b"1")
            ]))
            .is_ok()
        );
        let cases: Vec<(HeaderMap, Vec<&str>)> = vec![
            (headers(&[]), vec!["missing_client_id", "missing_client_version"]),
            (headers(&[("nureva-client-version", b"1")]), vec!["missing_client_id"]),
            (
                headers(&[("nureva-client-id", b""), ("nureva-client-version", b"1")]),
                vec!["empty_client_id"],
            ),
            (
                headers(&[("nureva-client-id", b"a"), ("nureva-client-version", long.as_bytes())]),
                vec!["client_version_too_long"],
            ),
            (
                headers(&[("nureva-client-id", b"a\tb"), ("nureva-client-version", b"1")]),
                vec!["invalid_client_id"],
            ),
            (
                headers(&[
                    ("nureva-client-id", b"a"),
                    ("nureva-client-id", b"b"),
                    ("nureva-client-version", b"1"),
                ]),
                vec!["invalid_client_id"],
            ),
            (
                headers(&[("nureva-client-id", b"\xff"), ("nureva-client-version", b"1")]),
                vec!["invalid_client_id"],
            ),
            // A C1 control character (U+0085) outside ASCII.
            (
                headers(&[
                    ("nureva-client-id", "a\u{85}b".as_bytes()),
                    ("nureva-client-version", b"1"),
                ]),
                vec!["invalid_client_id"],
            ),
            (
                headers(&[("nureva-client-id", b"   "), ("nureva-client-version", b"1")]),
                vec!["empty_client_id"],
            ),
        ];
        for (h, expected) in cases {
            assert_eq!(codes(client_headers(&h).unwrap_err()), expected);
        }
        // 500 characters, not bytes.
        let wide = "é".repeat(500);
        assert!(
            client_headers(&headers(&[
                ("nureva-client-id", wide.as_bytes()),
                ("nureva-client-version", b"1")
            ]))
            .is_ok()
        );
    }

    #[test]
    fn authorization_schemes() {
        let tok = |v: &[u8]| presented_credential(&headers(&[("authorization", v)])).map(str::to_string);
        assert_eq!(tok(b"Nureva abc").unwrap(), "abc");
        assert_eq!(tok(b"nUrEvA abc").unwrap(), "abc");
        assert_eq!(tok(b"Bearer abc").unwrap(), "abc");
        assert_eq!(tok(b"bearer   abc ").unwrap(), "abc");
        assert_eq!(tok(b"Basic abc").unwrap_err().code(), "unsupported_auth_scheme");
        assert_eq!(tok(b"Nureva").unwrap_err().code(), "invalid_authorization");
        assert_eq!(tok(b"Nureva ").unwrap_err().code(), "invalid_authorization");
        assert_eq!(
            presented_credential(&HeaderMap::new()).unwrap_err().code(),
            "missing_authorization"
        );
    }

    #[test]
    fn json_content_types() {
        let ct = |v: &str| is_json(&headers(&[("content-type", v.as_bytes())]));
        assert!(ct("application/json"));
        assert!(ct("Application/JSON; charset=utf-8"));
        assert!(!ct("text/plain"));
        assert!(!ct("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }

    /// What the head says about the body, from the one pass over the headers.
    #[test]
    fn framing_reads_expect_and_the_declared_length() {
        let framing = |version, pairs: &[(&str, &[u8])]| {
            let mut req = http::Request::new(());
            *req.version_mut() = version;
            *req.headers_mut() = headers(pairs);
            let (parts, ()) = req.into_parts();
            let f = super::Framing::of(&parts, &super::Heads::scan(&parts.headers));
            (f.http1, f.expects_continue, f.declared)
        };
        let h1 = http::Version::HTTP_11;
        assert_eq!(framing(h1, &[]), (true, false, None));
        assert_eq!(
            framing(h1, &[("expect", b"100-Continue"), ("content-length", b" 12 ")]),
            (true, true, Some(12))
        );
        assert_eq!(framing(h1, &[("expect", b"something-else")]), (true, false, None));
        assert_eq!(framing(h1, &[("content-length", b"12x")]), (true, false, None));
        assert_eq!(
            framing(http::Version::HTTP_2, &[("content-length", b"7")]),
            (false, false, Some(7))
        );
    }
}

#[cfg(test)]
mod future_size {
    /// `handle` boxes the pipeline as the transport does (hyper keeps one request
    /// future per HTTP/1 connection for the connection's life): what it returns
    /// stays small (it was 3 KB before the pipeline was boxed).
    #[tokio::test]
    async fn the_request_future_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::app::test_app(dir.path()).await;
        let req = http::Request::new(http_body_util::Full::new(bytes::Bytes::new()));
        let fut = super::handle(&app, "127.0.0.1:1".parse().unwrap(), req);
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 512, "the request future is {size} bytes");
    }
}
