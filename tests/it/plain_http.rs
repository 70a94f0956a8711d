//! The optional plain-HTTP listener (`server.http_listen`): off by default; when on,
//! the same API under the same rules, checked with the `curl` binary over
//! `http://127.0.0.1:PORT`; the same watchdog, connection cap and drain; the start-up
//! warning of the real binary; and a reload that changes it asks for a restart.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, Device, Proc, closed_within, curl, http1_request, read_http1_response};

/// Plain HTTP on a free loopback port.
const PLAIN: &str = "[server]\nhttp_listen = \"127.0.0.1:0\"\n";

const CLIENT: [&str; 4] = [
    "--header",
    "Nureva-Client-Id: integration_app_name",
    "--header",
    "Nureva-Client-Version: 0.0.1",
];

/// `curl --request METHOD --url URL` with the client headers and `extra` arguments.
async fn call(method: &str, url: &str, extra: &[&str]) -> common::CurlAnswer {
    let mut args = vec!["--request", method, "--url", url];
    args.extend_from_slice(&CLIENT);
    args.extend_from_slice(extra);
    curl(&args).await
}

/// Log in as general (empty password) over `login_url`; the `authParameters`.
async fn login_general(login_url: &str) -> String {
    let body = r#"{"account": "general", "password": ""}"#;
    let answer = call(
        "POST",
        login_url,
        &["--header", "Content-Type: application/json", "--data", body],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["authParameters"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_serves_the_same_api_under_the_same_rules() {
    let d = Device::start_with(PLAIN).await;
    let audio = d.http_url("/api/v1/audio");
    let token = login_general(&d.http_url("/api/v1/auth/login")).await;
    let auth = format!("Authorization: Nureva {token}");

    let plain = call("GET", &audio, &["--header", &auth]).await;
    assert_eq!(plain.status, 200, "{plain:?}");
    assert!(plain.head.starts_with("HTTP/1.1 200"), "HTTP/1.1: {}", plain.head);
    let over_tls = d.get("/api/v1/audio", &token).send().await.unwrap();
    assert_eq!(over_tls.status(), StatusCode::OK, "one credential for both ports");
    assert_eq!(plain.body, over_tls.text().await.unwrap(), "the same answer");
    let example = call("GET", &audio, &["--header", "Authorization: Nureva Z2VuZXJhbDo="]).await;
    assert_eq!(
        (example.status, &example.body),
        (200, &plain.body),
        "the vendor's example credential"
    );

    // The same rules: client headers, credential, body framing, roles.
    let bare = curl(&["--request", "GET", "--url", &audio, "--header", &auth]).await;
    assert_eq!(bare.status, 400);
    assert_eq!(bare.error_codes(), ["missing_client_id", "missing_client_version"]);
    let anonymous = call("GET", &audio, &[]).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.error_codes(), ["missing_authorization"]);
    assert!(
        anonymous
            .head
            .to_ascii_lowercase()
            .contains("www-authenticate: nureva realm="),
        "{}",
        anonymous.head
    );
    let not_json = call(
        "PATCH",
        &audio,
        &["--header", &auth, "--header", "Content-Type: text/plain", "--data", "x"],
    )
    .await;
    assert_eq!(
        (not_json.status, not_json.error_codes()),
        (415, vec!["unsupported_media_type".into()])
    );
    let keys = call("GET", &d.http_url("/api/v1/auth/keys"), &["--header", &auth]).await;
    assert_eq!(
        (keys.status, keys.error_codes()),
        (403, vec!["insufficient_role".into()])
    );

    // hyper's own answer to a request it cannot parse is JSON here too.
    let mut tcp = tokio::net::TcpStream::connect(d.http_addr.unwrap()).await.unwrap();
    tcp.write_all(b"GET /api/v1 HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"malformed_request\""), "{answer}");

    // The HTTPS port still refuses plain HTTP.
    let wrong_port = call("GET", &format!("http://127.0.0.1:{}/api/v1", d.port()), &[]).await;
    assert_eq!(
        (wrong_port.status, wrong_port.error_codes()),
        (400, vec!["https_required".into()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_off_by_default() {
    let d = Device::start().await;
    assert_eq!(d.http_addr, None, "nothing is bound");
    assert_eq!(d.app.config().start.http_listen, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_connections_are_watched_and_share_the_connection_cap() {
    let d = Device::start_with(&format!(
        "{PLAIN}[limits]\nmax_connections = 1\nhead_timeout = \"500ms\"\nidle_timeout = \"30s\"\n"
    ))
    .await;
    let plain_addr = d.http_addr.unwrap();
    // A silent connection is cut off after the head timeout, as on the TLS port.
    let mut silent = tokio::net::TcpStream::connect(plain_addr).await.unwrap();
    let t = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("an unused plain connection must be closed");
    assert!(
        t >= Duration::from_millis(300) && t < Duration::from_millis(2000),
        "{t:?}"
    );

    // A kept-alive plain connection holds the only slot: the TLS port waits.
    let mut kept = tokio::net::TcpStream::connect(plain_addr).await.unwrap();
    kept.write_all(http1_request("GET", "/api/v1", "").as_bytes())
        .await
        .unwrap();
    let (head, _) = read_http1_response(&mut kept).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let waiting = tokio::time::timeout(Duration::from_millis(800), d.req(Method::GET, "/api/v1").send()).await;
    assert!(waiting.is_err(), "the cap is shared by both listeners");
    drop(kept);
    let served = d.http1_client().get(d.url("/api/v1"));
    let resp = common::with_client_headers(served).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "served once the slot is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_plain_connections_and_streams() {
    let d = Device::start_with(PLAIN).await;
    let mut stream = tokio::net::TcpStream::connect(d.http_addr.unwrap()).await.unwrap();
    stream
        .write_all(http1_request("GET", "/api/v1/heartbeat", "").as_bytes())
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let started = std::time::Instant::now();
    d.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stream ends at shutdown instead of running into the drain timeout"
    );
    assert!(closed_within(&mut stream, Duration::from_secs(2)).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_plain_http_only_when_asked_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "");
    let https_only = Proc::spawn(&config, &[], &[]);
    assert_eq!(https_only.http_addr(), None);
    assert!(
        !https_only.log_text().contains("clear text"),
        "{}",
        https_only.log_text()
    );
    let (status, _) = https_only.terminate();
    assert!(status.success());

    let p = Proc::spawn(&config, &["--http-listen", "127.0.0.1:0"], &[]);
    let addr = p.http_addr().expect("the warning names the address");
    let log = p.log_text();
    let warning = log.lines().find(|l| l.contains("listening on plain http://")).unwrap();
    assert!(
        warning.contains("WARN") && warning.contains("clear text") && warning.contains("isolated"),
        "{warning}"
    );
    let token = login_general(&format!("http://{addr}/api/v1/auth/login")).await;
    let audio = call(
        "GET",
        &format!("http://{addr}/api/v1/audio"),
        &["--header", &format!("Authorization: Nureva {token}")],
    )
    .await;
    assert_eq!(audio.status, 200, "{audio:?}");
    assert!(audio.json()["speakerVolume"].is_number());
    let (status, _) = p.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_changes_http_listen_asks_for_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), PLAIN);
    let p = Proc::spawn(&config, &[], &[]);
    let addr = p.http_addr().expect("plain HTTP is on");
    common::write_config(dir.path(), "");
    p.signal("HUP");
    let logged = common::eventually(Duration::from_secs(5), async || {
        p.log_text().contains("configuration reloaded")
    })
    .await;
    assert!(logged.is_some(), "{}", p.log_text());
    let log = p.log_text();
    let pending = log
        .lines()
        .find(|l| l.contains("next restart") && l.contains("server.http_listen"));
    assert!(pending.is_some(), "the start-only key is named: {log}");
    let still = call("GET", &format!("http://{addr}/api/v1"), &[]).await;
    assert_eq!(still.status, 200, "the running listener stays until the restart");
    let (status, _) = p.terminate();
    assert!(status.success());
}
