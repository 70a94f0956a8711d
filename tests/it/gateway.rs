//! Routes to the device's own services, against real upstreams on loopback (TCP and a
//! Unix socket): headers stripped and added (`X-Forwarded-Proto: http` from the
//! plain-HTTP port), query strings kept, bodies streamed both ways, an upstream event
//! stream arriving event by event, 502 and 504, roles per route, a built-in endpoint
//! taken over, and the capabilities document.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use reqwest::{Method, StatusCode};
use roomgate::testing::Role;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::common::{self, CLIENT_ID, CLIENT_VERSION, Device, error_of, raw_exchange};

type UpBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// What the test upstream does, by path. Every request it receives (its head, even
/// if no body follows) is counted in `hits`.
async fn upstream(
    req: Request<Incoming>,
    release: std::sync::Arc<tokio::sync::Notify>,
    hits: Arc<AtomicUsize>,
) -> Result<Response<UpBody>, Infallible> {
    hits.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    if path.ends_with("/events") {
        // One event at once, the next only when the test says so.
        let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        tokio::spawn(async move {
            let _ = tx
                .send(Ok(Frame::data(Bytes::from_static(b"event: one\ndata: 1\n\n"))))
                .await;
            release.notified().await;
            let _ = tx
                .send(Ok(Frame::data(Bytes::from_static(b"event: two\ndata: 2\n\n"))))
                .await;
        });
        let stream = tokio_stream_from(rx);
        let mut resp = Response::new(StreamBody::new(stream).boxed());
        resp.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        return Ok(resp);
    }
    if path.ends_with("/slow") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let method = req.method().to_string();
    let path_and_query = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or("?").to_string())))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let echo = json!({
        "method": method,
        "pathAndQuery": path_and_query,
        "headers": headers,
        "bodyLength": body.len(),
    });
    let mut resp = Response::new(Full::new(Bytes::from(echo.to_string())).boxed());
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp.headers_mut().insert("x-upstream", "camera".parse().unwrap());
    resp.headers_mut()
        .insert("connection", "keep-alive, x-upstream-private".parse().unwrap());
    resp.headers_mut().insert("x-upstream-private", "hop".parse().unwrap());
    Ok(resp)
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Frame<Bytes>, Infallible>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

struct Upstream {
    release: std::sync::Arc<tokio::sync::Notify>,
    /// Requests the upstream has seen.
    hits: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

impl Upstream {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Serve the test upstream on a TCP port or a Unix socket.
async fn start_upstream(unix: Option<&std::path::Path>) -> (String, Upstream) {
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let hits = Arc::new(AtomicUsize::new(0));
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    fn serve<S>(io: TokioIo<S>, release: std::sync::Arc<tokio::sync::Notify>, hits: Arc<AtomicUsize>)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| upstream(req, release.clone(), hits.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
    let r = release.clone();
    let h = hits.clone();
    let address = match unix {
        Some(path) => {
            let listener = tokio::net::UnixListener::bind(path).unwrap();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        Ok((s, _)) = listener.accept() => serve(TokioIo::new(s), r.clone(), h.clone()),
                    }
                }
            });
            format!("unix:{}", path.display())
        }
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        Ok((s, _)) = listener.accept() => serve(TokioIo::new(s), r.clone(), h.clone()),
                    }
                }
            });
            format!("http://{addr}")
        }
    };
    (
        address,
        Upstream {
            release,
            hits,
            _stop: stop_tx,
        },
    )
}

fn route(prefix: &str, role: &str, upstream: &str, extra: &str) -> String {
    format!("[[route]]\nprefix = \"{prefix}\"\nmin_role = \"{role}\"\nupstream = \"{upstream}\"\n{extra}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_plain_http_is_forwarded_as_http() {
    let (addr, _up) = start_upstream(None).await;
    let plain = "[server]\nhttp_listen = \"127.0.0.1:0\"\n";
    let d = Device::start_with(&format!("{plain}{}", route("/api/v1/camera", "general", &addr, ""))).await;
    let token = d.login("general", "").await;
    let via = |url: String| {
        common::with_client_headers(reqwest::Client::new().get(url))
            .header("Authorization", format!("Nureva {token}"))
            .header("X-Forwarded-Proto", "https")
            .send()
    };
    let echo: Value = via(d.http_url("/api/v1/camera/x")).await.unwrap().json().await.unwrap();
    assert_eq!(
        echo["headers"]["x-forwarded-proto"], "http",
        "not what the client claimed"
    );
    let echo: Value = d
        .get("/api/v1/camera/x", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echo["headers"]["x-forwarded-proto"], "https");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_forwarded_with_who_the_caller_is() {
    let (addr, _up) = start_upstream(None).await;
    let d = Device::start_with(&route("/api/v1/camera", "integrator", &addr, "")).await;
    d.set_password(Role::Integrator, "integrator-pass-1").await;
    let token = d.login("integrator", "integrator-pass-1").await;
    let resp = d
        .req(Method::GET, "/api/v1/camera/presets/3?zoom=2&x=%20y")
        .header("Authorization", format!("Nureva {token}"))
        .header("X-Roomgate-Account", "admin")
        .header("X-Forwarded-For", "6.6.6.6")
        .header("Forwarded", "for=6.6.6.6")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-upstream"], "camera");
    assert!(
        !resp.headers().contains_key("x-upstream-private"),
        "hop-by-hop headers of the answer are dropped"
    );
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(
        echo["pathAndQuery"], "/api/v1/camera/presets/3?zoom=2&x=%20y",
        "path and query unchanged"
    );
    let h = &echo["headers"];
    assert!(
        h.get("authorization").is_none(),
        "the credential never reaches the upstream"
    );
    assert_eq!(
        h["x-roomgate-account"], "integrator",
        "a spoofed account header is replaced"
    );
    assert_eq!(h["x-roomgate-client-id"], common::CLIENT_ID);
    assert_eq!(h["x-roomgate-client-version"], common::CLIENT_VERSION);
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert!(h.get("forwarded").is_none());
    assert_eq!(h["accept"], "application/json");

    // Bodies go through, in both directions.
    let body = json!({"pan": 10, "pad": "x".repeat(40_000)});
    let resp = d
        .req(Method::POST, "/api/v1/camera/move")
        .header("Authorization", format!("Nureva {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["bodyLength"], body.to_string().len());
    // A body past the limit is refused before it is forwarded; a non-JSON one too.
    let big = d
        .req(Method::POST, "/api/v1/camera/move")
        .header("Authorization", format!("Nureva {token}"))
        .json(&json!({"pad": "x".repeat(70_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let text = d
        .req(Method::POST, "/api/v1/camera/move")
        .header("Authorization", format!("Nureva {token}"))
        .header("Content-Type", "text/plain")
        .body("pan")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_per_route() {
    let (addr, _up) = start_upstream(None).await;
    let config = format!(
        "{}{}",
        route("/api/v1/camera", "integrator", &addr, "methods = [\"GET\"]"),
        route("/api/v1/camera/status", "monitor", &addr, "")
    );
    let d = Device::start_with(&config).await;
    d.set_password(Role::Monitor, "monitor-pass-1").await;
    let general = d.login("general", "").await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    let (s, c) = error_of(d.get("/api/v1/camera/zoom", &general).send().await.unwrap()).await;
    assert_eq!((s, c), (StatusCode::FORBIDDEN, vec!["insufficient_role".to_string()]));
    let (s, c) = error_of(d.req(Method::GET, "/api/v1/camera/zoom").send().await.unwrap()).await;
    assert_eq!(
        (s, c),
        (StatusCode::UNAUTHORIZED, vec!["missing_authorization".to_string()])
    );
    // The longer prefix has its own, lower role.
    assert_eq!(
        d.get_status("/api/v1/camera/status/now", &monitor).await,
        StatusCode::OK
    );
    assert_eq!(d.get_status("/api/v1/camera/status", &general).await, StatusCode::OK);
    // Methods a route does not list are 405 with Allow.
    let admin = d.admin_token().await;
    let resp = d
        .req(Method::DELETE, "/api/v1/camera/zoom")
        .header("Authorization", format!("Nureva {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The capabilities document lists the routes with their roles.
    let doc = common::send_json(d.req(Method::GET, "/api/v1")).await;
    assert_eq!(
        doc["paths"]["/api/v1/camera"]["get"]["x-nureva"]["minimumRoleRequired"],
        "integrator"
    );
    assert!(doc["paths"]["/api/v1/camera"].get("delete").is_none());
    assert_eq!(
        doc["paths"]["/api/v1/camera/status"]["post"]["x-nureva"]["minimumRoleRequired"],
        "monitor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_event_stream_arrives_event_by_event() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("camera.sock");
    let (addr, up) = start_upstream(Some(&sock)).await;
    let d = Device::start_with(&route("/api/v1/camera", "general", &addr, "")).await;
    let token = d.login("general", "").await;
    let mut resp = d.get("/api/v1/camera/events", &token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // The first event arrives while the upstream is still holding the stream open.
    let first = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"event: one\ndata: 1\n\n");
    up.release.notify_one();
    let second = tokio::time::timeout(Duration::from_secs(2), resp.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&second[..], b"event: two\ndata: 2\n\n");
    // Then the end (HTTP/2 may close with an empty DATA frame first).
    let rest = tokio::time::timeout(Duration::from_secs(2), async {
        let mut extra = Vec::new();
        while let Some(chunk) = resp.chunk().await.unwrap() {
            extra.extend_from_slice(&chunk);
        }
        extra
    })
    .await
    .expect("the stream ends when the upstream's does");
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_and_slow_upstreams_give_502_and_504() {
    let (addr, _up) = start_upstream(None).await;
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // A peer that accepts and hangs up at once.
    let rude = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rude_addr = rude.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = rude.accept().await {
            drop(s);
        }
    });
    let config = format!(
        "{}{}{}{}",
        route("/api/v1/slow", "general", &addr, "timeout = \"500ms\""),
        route("/api/v1/gone", "general", &format!("http://{closed}"), ""),
        route("/api/v1/rude", "general", &format!("http://{rude_addr}"), ""),
        route("/api/v1/nosock", "general", "unix:/nonexistent/roomgate-test.sock", "")
    );
    let d = Device::start_with(&config).await;
    let token = d.login("general", "").await;
    let started = std::time::Instant::now();
    let (s, c) = error_of(d.get("/api/v1/slow/slow", &token).send().await.unwrap()).await;
    assert_eq!(
        (s, c),
        (StatusCode::GATEWAY_TIMEOUT, vec!["upstream_timeout".to_string()])
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    for path in ["/api/v1/gone/x", "/api/v1/rude/x", "/api/v1/nosock/x"] {
        let (s, c) = error_of(d.get(path, &token).send().await.unwrap()).await;
        assert_eq!(
            (s, c),
            (StatusCode::BAD_GATEWAY, vec!["upstream_unavailable".to_string()]),
            "{path}"
        );
    }
    // The device itself is fine.
    assert_eq!(d.get_status("/api/v1/audio", &token).await, StatusCode::OK);
    assert_eq!(d.get_status("/api/v1/slow/fast", &token).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_device_routes_its_audio_endpoints_to_the_audio_daemon() {
    let (addr, _up) = start_upstream(None).await;
    let d = Device::start_with(&route("/api/v1/audio", "general", &addr, "override_builtin = true")).await;
    let token = d.login("general", "").await;
    let resp = d.get("/api/v1/audio", &token).send().await.unwrap();
    assert_eq!(
        resp.headers()["x-upstream"],
        "camera",
        "served by the upstream, not the reference device"
    );
    let doc = common::send_json(d.req(Method::GET, "/api/v1")).await;
    assert!(doc["paths"]["/api/v1/audio"]["get"]["x-roomgate-forwarded-prefix"].is_string());
    // Authentication stays with roomgate.
    assert_eq!(
        d.req(Method::GET, "/api/v1/audio").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn config_check_refuses_a_route_that_would_shadow_a_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        &route("/api/v1/room", "integrator", "http://127.0.0.1:9", ""),
    );
    let out = common::cli(&config, &["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("route[0].prefix") && err.contains("/api/v1/room/layout") && err.contains("override_builtin"),
        "{err}"
    );
}

/// A raw HTTP/1.1 request with the client headers, the credential and `extra` lines,
/// then `body`: sent byte for byte, so no client library normalises the path first.
fn raw_request(method: &str, path: &str, token: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nNureva-Client-Id: {CLIENT_ID}\r\nNureva-Client-Version: {CLIENT_VERSION}\r\nAuthorization: Nureva {token}\r\n{extra}\r\n"
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

/// Status and first error code of a raw exchange.
async fn raw_error(d: &Device, request: &[u8]) -> (u16, String) {
    let (status, body) = raw_exchange(d.addr, &d.cert_path(), request).await.expect("an answer");
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    (status, v["errors"][0]["code"].as_str().unwrap_or(&body).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_an_admin_path_reaches_the_general_route() {
    let (general_addr, general_up) = start_upstream(None).await;
    let (admin_addr, admin_up) = start_upstream(None).await;
    let config = format!(
        "{}{}",
        route("/api/v1/svc", "general", &general_addr, ""),
        route("/api/v1/svc/admin", "admin", &admin_addr, "")
    );
    let d = Device::start_with(&config).await;
    let general = d.login("general", "").await;
    let admin = d.admin_token().await;
    // Each names /api/v1/svc/admin/users to an upstream that decodes, removes dot
    // segments, merges slashes, drops `;` parameters or ignores case; roomgate would
    // have matched each one to the general route.
    let variants = [
        "/api/v1/svc/x/../admin/users",
        "/api/v1/svc/./admin/users",
        "/api/v1/svc//admin/users",
        "/api/v1/svc/admin;x/users",
        "/api/v1/svc/%61dmin/users",
        "/api/v1/svc/ADMIN/users",
        "/api/v1/svc/x/%2e%2e/admin/users",
        "/api/v1/svc/x%2F..%2Fadmin/users",
        "/api/v1/svc/%2e/admin/users",
        "/api/v1/svc%2Fadmin/users",
        "/api/v1/svc/Admin/users",
        "/api/v1/svc/x/.%2E/admin/users",
        "/api/v1/svc/x/..%2fadmin/users",
        "/api/v1/svc/%252e%252e/admin/users",
        "/api/v1/svc/admin%3Bx/users",
        "/api/v1/svc/adm%69n/users",
        "/api/v1/svc/x\\..\\admin/users",
    ];
    for path in variants {
        for token in [&general, &admin] {
            let got = raw_error(&d, &raw_request("GET", path, token, "", b"")).await;
            assert_eq!(got, (400, "non_canonical_path".to_string()), "{path}");
        }
    }
    assert_eq!(
        (general_up.hits(), admin_up.hits()),
        (0, 0),
        "no upstream saw any of them"
    );

    // The canonical spellings: the admin path is the admin route's, and the path
    // forwarded is the one matched.
    let got = raw_error(&d, &raw_request("GET", "/api/v1/svc/admin/users", &general, "", b"")).await;
    assert_eq!(got, (403, "insufficient_role".to_string()));
    let echo = d.get_json("/api/v1/svc/admin/users?x=1", &admin).await;
    assert_eq!(echo["pathAndQuery"], "/api/v1/svc/admin/users?x=1");
    let echo = d.get_json("/api/v1/svc/x/users/?q=%2e%2e", &general).await;
    assert_eq!(echo["pathAndQuery"], "/api/v1/svc/x/users/?q=%2e%2e");
    assert_eq!((general_up.hits(), admin_up.hits()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_body_is_the_clients_error_and_never_reaches_the_upstream() {
    let (addr, up) = start_upstream(None).await;
    let d = Device::start_with(&format!(
        "[limits]\nbody_timeout = \"1s\"\n{}",
        route("/api/v1/svc", "general", &addr, "")
    ))
    .await;
    let token = d.login("general", "").await;
    let chunked = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n";
    let mut over_limit = String::new();
    for _ in 0..80 {
        over_limit.push_str(&format!("400\r\n{}\r\n", "x".repeat(1024)));
    }
    over_limit.push_str("0\r\n\r\n");
    // name, head lines, body, expected status and code
    type Case<'a> = (&'a str, &'a str, &'a [u8], (u16, &'a str));
    let cases: [Case<'_>; 5] = [
        (
            "chunked body past the limit",
            chunked,
            over_limit.as_bytes(),
            (413, "payload_too_large"),
        ),
        (
            "chunk size not hex",
            chunked,
            b"zz\r\n{}\r\n0\r\n\r\n",
            (400, "body_read_error"),
        ),
        (
            "broken framing after a good chunk",
            chunked,
            b"2\r\n{}\r\nzz\r\n",
            (400, "body_read_error"),
        ),
        (
            "declared length past the limit",
            "Content-Type: application/json\r\nContent-Length: 70000\r\n",
            b"{}",
            (413, "payload_too_large"),
        ),
        (
            "a body that never finishes",
            "Content-Type: application/json\r\nContent-Length: 10\r\n",
            b"{}",
            (408, "request_timeout"),
        ),
    ];
    for (name, extra, body, expected) in cases {
        let got = raw_error(&d, &raw_request("POST", "/api/v1/svc/upload", &token, extra, body)).await;
        assert_eq!(got, (expected.0, expected.1.to_string()), "{name}");
    }
    assert_eq!(up.hits(), 0, "the upstream saw none of them");

    // A chunked body within the limit is forwarded whole.
    let good = format!(
        "4000\r\n{}\r\n4000\r\n{}\r\n0\r\n\r\n",
        "x".repeat(0x4000),
        "y".repeat(0x4000)
    );
    let (status, body) = raw_exchange(
        d.addr,
        &d.cert_path(),
        &raw_request("POST", "/api/v1/svc/upload", &token, chunked, good.as_bytes()),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let echo: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["bodyLength"], 0x8000);
    assert_eq!(up.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_like_headers_never_reach_the_upstream() {
    let (addr, _up) = start_upstream(None).await;
    let d = Device::start_with(&route("/api/v1/svc", "general", &addr, "")).await;
    let token = d.login("general", "").await;
    let claims = [
        ("X_Roomgate_Account", "admin"),
        ("x_roomgate_client_id", "spoof"),
        ("X_Forwarded_For", "6.6.6.6"),
        ("X-Real-IP", "6.6.6.6"),
        ("True-Client-IP", "6.6.6.6"),
        ("X-Client-IP", "6.6.6.6"),
        ("X-Cluster-Client-IP", "6.6.6.6"),
        ("Client-IP", "6.6.6.6"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Original-URL", "/api/v1/svc/admin"),
        ("X-Rewrite-URL", "/api/v1/svc/admin"),
        ("X-HTTP-Method-Override", "DELETE"),
        ("Some_Header", "x"),
    ];
    let extra: String = claims
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .chain(["X-Custom: kept\r\n".to_string()])
        .collect();
    let (status, body) = raw_exchange(
        d.addr,
        &d.cert_path(),
        &raw_request("GET", "/api/v1/svc/x", &token, &extra, b""),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let echo: Value = serde_json::from_str(&body).unwrap();
    let h = echo["headers"].as_object().unwrap();
    for (name, _) in claims {
        assert!(
            !h.contains_key(&name.to_ascii_lowercase()),
            "{name} reached the upstream"
        );
    }
    assert!(!h.keys().any(|k| k.contains('_')), "{h:?}");
    assert_eq!(h["x-roomgate-account"], "general");
    assert_eq!(h["x-roomgate-client-id"], CLIENT_ID);
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-custom"], "kept", "other headers still pass");
}
