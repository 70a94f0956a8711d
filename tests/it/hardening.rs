//! What a hostile client and an old curl used to break, each through the real
//! listener: refusals of requests with bodies read by curl (HTTP/2 and HTTP/1.1)
//! and Python, HEAD, one address against the connection slots, anonymous streams
//! against the authenticated ones, a lockout of the admin from many addresses,
//! strangers' logins against an integration's session, and a proxied body that
//! looks like one of hyper's own error answers.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, CLIENT_ID, CLIENT_VERSION, Device, closed_within, error_of, http1_request};

/// The vendor's example credential: general with the factory's empty password.
const EXAMPLE: &str = "Nureva Z2VuZXJhbDo=";

/// A client whose connections come from `local` (any 127.0.0.0/8 address).
fn client_from(d: &Device, local: &str) -> reqwest::Client {
    let pem = std::fs::read(d.cert_path()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .local_address(local.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn req_from(client: &reqwest::Client, d: &Device, method: Method, path: &str) -> reqwest::RequestBuilder {
    common::with_client_headers(client.request(method, d.url(path)))
}

/// `curl ARGS` against the device: curl's exit code and the status it read.
async fn curl_status(d: &Device, args: &[&str]) -> (i32, u16) {
    let out = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code}", "--cacert"])
        .arg(d.cert_path())
        .args(["-H", &format!("Nureva-Client-Id: {CLIENT_ID}")])
        .args(["-H", &format!("Nureva-Client-Version: {CLIENT_VERSION}")])
        .args(args)
        .output()
        .await
        .expect("curl must be installed (see .ci/run)");
    let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    (out.status.code().unwrap_or(-1), status)
}

/// `tries` requests with `body` by Python's `requests` (installed by `.ci/run`);
/// the status of each, or the exception's name.
fn python_requests(
    d: &Device,
    request: (&str, &str),
    content_type: &str,
    auth: Option<&str>,
    body: &Path,
    tries: u32,
) -> Vec<String> {
    let (method, path) = request;
    const SCRIPT: &str = r#"
import sys
import requests
port, cafile, method, path, ctype, auth, body_file, tries = sys.argv[1:9]
body = open(body_file, "rb").read()
headers = {"Nureva-Client-Id": "roomgate-tests", "Nureva-Client-Version": "1.0.0", "Content-Type": ctype}
if auth:
    headers["Authorization"] = auth
for _ in range(int(tries)):
    try:
        resp = requests.request(method, f"https://localhost:{port}{path}", data=body, headers=headers, verify=cafile, timeout=20)
        print(resp.status_code)
    except Exception as e:
        print(type(e).__name__)
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(d.port().to_string())
        .arg(d.cert_path())
        .args([method, path, content_type, auth.unwrap_or("")])
        .arg(body)
        .arg(tries.to_string())
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "python3 with requests (see .ci/run): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_requests_with_bodies_reach_curl_and_python_on_both_protocols() {
    let d = Device::start_with("[limits]\nrequests_per_minute = 0\n").await;
    let general = d.login("general", "").await;
    let dir = tempfile::tempdir().unwrap();
    // 70 KB: past the 64 KiB body limit.
    let big = dir.path().join("big.json");
    std::fs::write(
        &big,
        serde_json::to_vec(&json!({"account": "admin", "password": "x".repeat(70_000)})).unwrap(),
    )
    .unwrap();
    let small = dir.path().join("small.json");
    std::fs::write(
        &small,
        serde_json::to_vec(&json!({"microphoneGain": 3, "pad": "y".repeat(20_000)})).unwrap(),
    )
    .unwrap();
    let big_arg = format!("@{}", big.display());
    let small_arg = format!("@{}", small.display());
    let json_ct = "Content-Type: application/json";
    let bearer = format!("Authorization: Nureva {general}");
    let url = |p: &str| d.url(p);
    // (what, curl arguments after the protocol, expected status)
    let cases: Vec<(&str, Vec<String>, u16)> = vec![
        (
            "413",
            vec![
                "-H".into(),
                json_ct.into(),
                "--data-binary".into(),
                big_arg.clone(),
                url("/api/v1/auth/login"),
            ],
            413,
        ),
        (
            "415",
            vec![
                "-H".into(),
                "Content-Type: text/plain".into(),
                "--data-binary".into(),
                small_arg.clone(),
                url("/api/v1/auth/login"),
            ],
            415,
        ),
        (
            "401",
            vec![
                "-X".into(),
                "PATCH".into(),
                "-H".into(),
                json_ct.into(),
                "--data-binary".into(),
                small_arg.clone(),
                url("/api/v1/audio"),
            ],
            401,
        ),
        (
            "403",
            vec![
                "-X".into(),
                "PATCH".into(),
                "-H".into(),
                json_ct.into(),
                "-H".into(),
                bearer.clone(),
                "--data-binary".into(),
                small_arg.clone(),
                url("/api/v1/security/policy"),
            ],
            403,
        ),
    ];
    for (what, args, expected) in &cases {
        let tries = 20;
        for protocol in ["--http2", "--http1.1"] {
            let mut all: Vec<&str> = vec![protocol];
            all.extend(args.iter().map(String::as_str));
            let mut failures = Vec::new();
            for _ in 0..tries {
                let (exit, status) = curl_status(&d, &all).await;
                if (exit, status) != (0, *expected) {
                    failures.push((exit, status));
                }
            }
            assert!(
                failures.is_empty(),
                "{what} over curl {protocol}: {failures:?} in {tries} tries"
            );
        }
    }
    // Python's requests sends the whole body before it reads; a reset would lose the answer.
    let python = |request, ct, auth, body, tries| python_requests(&d, request, ct, auth, body, tries);
    let expect_all = |got: Vec<String>, status: &str, tries: usize| {
        assert_eq!(got.len(), tries, "{got:?}");
        assert!(got.iter().all(|s| s == status), "{got:?}");
    };
    expect_all(
        python(("POST", "/api/v1/auth/login"), "application/json", None, &big, 20),
        "413",
        20,
    );
    expect_all(
        python(("POST", "/api/v1/auth/login"), "text/plain", None, &small, 5),
        "415",
        5,
    );
    expect_all(
        python(("PATCH", "/api/v1/audio"), "application/json", None, &small, 5),
        "401",
        5,
    );
    let auth = format!("Nureva {general}");
    expect_all(
        python(
            ("POST", "/api/v1/auth/keys"),
            "application/json",
            Some(&auth),
            &small,
            5,
        ),
        "403",
        5,
    );
    // The refused bodies changed nothing, and the device still serves.
    let audio = common::send_json(d.req(Method::GET, "/api/v1/audio").header("Authorization", EXAMPLE)).await;
    assert_eq!(audio["microphoneGain"], 0);
    assert_eq!(d.get_status("/api/v1/auth/validate", &general).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_is_answered_wherever_get_is() {
    let d = Device::start().await;
    let get = d
        .req(Method::GET, "/api/v1/audio")
        .header("Authorization", EXAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    let get_len = get.bytes().await.unwrap().len();
    for protocol in ["--http2", "--http1.1"] {
        let out = tokio::process::Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "10",
                "-I",
                protocol,
                "--cacert",
            ])
            .arg(d.cert_path())
            .args(["-H", &format!("Nureva-Client-Id: {CLIENT_ID}")])
            .args(["-H", &format!("Nureva-Client-Version: {CLIENT_VERSION}")])
            .args(["-H", &format!("Authorization: {EXAMPLE}")])
            .arg(d.url("/api/v1/audio"))
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "curl -I {protocol}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        assert!(
            head.starts_with("http/2 200") || head.starts_with("http/1.1 200"),
            "{head}"
        );
        assert!(
            head.contains(&format!("content-length: {get_len}")),
            "the GET length: {head}"
        );
        assert!(head.contains("content-type: application/json"), "{head}");
    }
    // HEAD goes through the same checks as GET.
    let (exit, status) = curl_status(&d, &["-I", d.url("/api/v1/audio").as_str()]).await;
    assert_eq!((exit, status), (0, 401));
    // No HEAD where there is no GET; Allow names HEAD where there is.
    let resp = d.req(Method::HEAD, "/api/v1/auth/login").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "POST");
    let resp = d.req(Method::DELETE, "/api/v1/heartbeat").send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
    // A HEAD on a stream answers the head and ends.
    let (exit, status) = curl_status(&d, &["-I", d.url("/api/v1/heartbeat").as_str()]).await;
    assert_eq!((exit, status), (0, 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection_slot() {
    let d = Device::start_with(
        "[limits]\nmax_connections = 32\nmax_connections_per_address = 8\nfirst_byte_timeout = \"2s\"\n",
    )
    .await;
    // 100 connections from 127.0.0.1 that never send a byte.
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(tokio::net::TcpStream::connect(d.addr).await.unwrap());
    }
    // A legitimate client from another address is served at once.
    let started = Instant::now();
    let (exit, status) = curl_status(&d, &["--interface", "127.0.0.2", d.url("/api/v1").as_str()]).await;
    let took = started.elapsed();
    assert_eq!((exit, status), (0, 200));
    assert!(took < Duration::from_millis(900), "served in {took:?}");
    // Past its share, the address's connections are closed at once, long before the
    // first-byte deadline…
    let mut open = silent;
    while open.len() > 8 && opened.elapsed() < Duration::from_millis(1500) {
        let mut still = Vec::new();
        for mut s in open {
            if closed_within(&mut s, Duration::from_millis(1)).await.is_none() {
                still.push(s);
            }
        }
        open = still;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open.len(), 8, "only the address's share of slots is held");
    // …and the eight that held slots are closed when the deadline passes.
    for s in open.iter_mut() {
        assert!(closed_within(s, Duration::from_secs(5)).await.is_some());
    }
    let took = opened.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "closed after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_streams_leave_authenticated_streams_their_places() {
    let d =
        Device::start_with("[limits]\nmax_public_streams = 4\nmax_event_streams = 8\nmax_streams_per_address = 3\n")
            .await;
    let open = |client: &reqwest::Client, path: &str, auth: Option<&str>| {
        let mut b = req_from(client, &d, Method::GET, path);
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        b.send()
    };
    // One stranger, many heartbeats over one HTTP/2 connection: its share is three.
    let stranger = client_from(&d, "127.0.0.1");
    let mut held = Vec::new();
    for _ in 0..3 {
        let r = open(&stranger, "/api/v1/heartbeat", None).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        held.push(r);
    }
    let (status, codes) = error_of(open(&stranger, "/api/v1/heartbeat", None).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::SERVICE_UNAVAILABLE, vec!["too_many_streams".to_string()])
    );
    // A second stranger takes the last public place, then the public budget is used up.
    let other = client_from(&d, "127.0.0.3");
    held.push(open(&other, "/api/v1/heartbeat", None).await.unwrap());
    assert_eq!(held[3].status(), StatusCode::OK);
    let (status, _) = error_of(open(&other, "/api/v1/heartbeat", None).await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The room controller's authenticated streams still open.
    let controller = client_from(&d, "127.0.0.2");
    let events = open(&controller, "/api/v1/events", Some(EXAMPLE)).await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let data = open(&controller, "/api/v1/data", Some(EXAMPLE)).await.unwrap();
    assert_eq!(data.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_many_addresses_do_not_lock_out_an_admin_who_logged_in_before() {
    let d = Device::start_with(
        "[policy]\nlogin_failures_per_hour = 10\nlogin_failures_before_delay = 5\n[limits]\nrequests_per_minute = 0\n",
    )
    .await;
    let code = d.code();
    let login = |client: &reqwest::Client, password: &str| {
        req_from(client, &d, Method::POST, "/api/v1/auth/login")
            .json(&json!({"account": "admin", "password": password}))
            .send()
    };
    let admin_home = client_from(&d, "127.0.0.2");
    assert_eq!(login(&admin_home, &code).await.unwrap().status(), StatusCode::OK);
    // Five wrong guesses from each of two addresses reach the account's ceiling.
    for host in ["127.0.0.10", "127.0.0.11"] {
        let guesser = client_from(&d, host);
        for _ in 0..5 {
            assert_eq!(
                login(&guesser, "AAA-AAA-AAA").await.unwrap().status(),
                StatusCode::UNAUTHORIZED
            );
        }
    }
    // A fresh address is held back by the ceiling, even with the right code…
    let fresh = client_from(&d, "127.0.0.12");
    let resp = login(&fresh, &code).await.unwrap();
    assert!(resp.headers().contains_key("retry-after"));
    let (status, codes) = error_of(resp).await;
    assert_eq!(
        (status, codes),
        (StatusCode::TOO_MANY_REQUESTS, vec!["login_rate_limited".to_string()])
    );
    // …but the address the admin logged in from before still gets in.
    let resp = login(&admin_home, &code).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_logins_do_not_end_an_integrations_session() {
    let d = Device::start_with("[policy]\nmax_sessions_per_account = 4\n[limits]\nrequests_per_minute = 0\n").await;
    let login = |client: reqwest::Client| {
        let url = d.url("/api/v1/auth/login");
        async move { common::try_login_at(&client, &url, "general", "").await }
    };
    let token_of = |body: Value| body["authParameters"].as_str().unwrap().to_string();
    let home = client_from(&d, "127.0.0.2");
    let integration = token_of(login(home.clone()).await.json().await.unwrap());
    // 32 anonymous logins from other addresses, on a factory-default device: three
    // find a free place, the rest are told to wait; none ends the integration's.
    let mut refused = 0;
    for i in 0..32 {
        let resp = login(client_from(&d, &format!("127.0.1.{i}"))).await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(resp.headers().contains_key("retry-after"));
            let (_, codes) = error_of(resp).await;
            assert_eq!(codes, ["too_many_sessions"]);
            refused += 1;
        } else {
            assert_eq!(resp.status(), StatusCode::OK);
        }
    }
    assert_eq!(refused, 29);
    assert_eq!(
        d.get_status("/api/v1/auth/validate", &integration).await,
        StatusCode::OK
    );
    // The integration logging in again replaces its own session, not a stranger's.
    let again = token_of(login(home.clone()).await.json().await.unwrap());
    assert_eq!(
        d.get_status("/api/v1/auth/validate", &integration).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(d.get_status("/api/v1/auth/validate", &again).await, StatusCode::OK);
    let state = d.app.snapshot();
    assert_eq!(
        state.sessions.values().filter(|s| s.remote_addr == "127.0.0.2").count(),
        1
    );
    assert_eq!(state.sessions.len(), 4, "the cap holds");
}

/// A device service whose answer body is, byte for byte, what hyper would write for
/// a request it cannot parse; the body follows the head a moment later, in a write
/// of its own.
async fn lookalike_upstream() -> (SocketAddr, &'static [u8]) {
    const BODY: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
                    BODY.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(150)).await;
                let _ = s.write_all(BODY).await;
                let _ = s.flush().await;
                let _ = s.read(&mut chunk).await;
            });
        }
    });
    (addr, BODY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxied_body_that_looks_like_hypers_own_answer_is_forwarded_untouched() {
    let (up, body) = lookalike_upstream().await;
    let d = Device::start_with(&format!(
        "[[route]]\nprefix = \"/api/v1/svc\"\nmin_role = \"general\"\nupstream = \"http://{up}\"\n"
    ))
    .await;
    let mut s = common::tls_connect(d.addr, &d.cert_path(), b"http/1.1").await;
    let request = http1_request("GET", "/api/v1/svc/x", &format!("Authorization: {EXAMPLE}\r\n"));
    s.write_all(request.as_bytes()).await.unwrap();
    let (head, got) = common::read_http1_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(got.as_bytes(), body, "the body arrives as the service sent it");
    // The connection is still in step: a request hyper cannot parse gets its JSON 400.
    s.write_all(b"GET /api/v1 HTTP/1.1\r\nHost localhost\r\n\r\n")
        .await
        .unwrap();
    let (head, got) = common::read_http1_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let v: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["errors"][0]["code"], "malformed_request");
}
