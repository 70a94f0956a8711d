//! The real binary under a service manager's eyes: SIGHUP reloads the config and
//! the certificate without dropping open connections or streams, a broken config is
//! refused while the service keeps running, and readiness, reload and stop reach
//! the sd_notify socket.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::{
    self, Proc, client_for, eventually, http1_request, read_http1_response, send_json, tls_connect, with_client_headers,
};

fn write(config: &Path, extra: &str) {
    std::fs::write(config, common::config_text(extra)).unwrap();
}

/// Send SIGHUP and wait until the log says `line`; returns the log.
async fn hangup_until_logged(p: &Proc, line: &str) -> String {
    p.signal("HUP");
    let seen = eventually(Duration::from_secs(5), async || p.log_text().contains(line)).await;
    assert!(seen.is_some(), "no {line:?} in the log: {}", p.log_text());
    p.log_text()
}

/// A route whose upstream is a closed port: forwarded requests get 502, where an
/// unrouted path gets 404. Enough to see which configuration is in force.
const CAMERA_ROUTE: &str = r#"
[device]
hardware_id = "reloaded-hw"
[[route]]
prefix = "/api/v1/camera"
min_role = "general"
upstream = "http://127.0.0.1:9"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_config_and_certificate_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("roomgate.toml");
    write(&config, "");
    let p = Proc::spawn(&config, &[], &[]);
    let old_cert = dir.path().join("certs/cert.pem");
    let client = client_for(&old_cert, true);
    let code = common::enrollment_code(&config);
    let admin = common::login_at(&client, &p.url("/api/v1/auth/login"), "admin", &code).await;
    let auth = format!("Nureva {admin}");

    // An open keep-alive connection and an open event stream, from before the reload.
    let mut kept = tls_connect(p.addr, &old_cert, b"http/1.1").await;
    let request = http1_request("GET", "/api/v1/audio", &format!("Authorization: {auth}\r\n"));
    kept.write_all(request.as_bytes()).await.unwrap();
    let (head, _) = read_http1_response(&mut kept).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut events = with_client_headers(client.get(p.url("/api/v1/events")))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let camera = |c: reqwest::Client| {
        let req = with_client_headers(c.get(p.url("/api/v1/camera/status"))).header("Authorization", &auth);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(camera(client.clone()).await, StatusCode::NOT_FOUND);

    // The new file: a route, a new device identity, a certificate folder that does
    // not exist yet (so the reload must generate one), and a start-only change.
    write(
        &config,
        &format!("{CAMERA_ROUTE}\n[tls]\ncert_dir = \"certs-new\"\n[limits]\nmax_connections = 77\n"),
    );
    let log = hangup_until_logged(&p, "configuration reloaded").await;
    assert!(
        log.contains("limits.max_connections") && log.contains("next restart"),
        "a start-only key is named: {log}"
    );
    // New connections get the new certificate: only a client trusting it connects.
    let new_cert = dir.path().join("certs-new/cert.pem");
    assert!(new_cert.exists());
    let fresh = client_for(&new_cert, true);
    assert_eq!(
        camera(fresh.clone()).await,
        StatusCode::BAD_GATEWAY,
        "the route is in force"
    );
    let hw =
        send_json(with_client_headers(fresh.get(p.url("/api/v1/audio/hardware"))).header("Authorization", &auth)).await;
    assert_eq!(hw["hardwareId"], "reloaded-hw");
    let caps = send_json(with_client_headers(fresh.get(p.url("/api/v1")))).await;
    assert!(
        caps.to_string().contains("/api/v1/camera"),
        "the capabilities list the route"
    );

    let stale = client_for(&old_cert, true);
    assert!(
        with_client_headers(stale.get(p.url("/api/v1"))).send().await.is_err(),
        "new connections no longer present the old certificate"
    );

    // The connection and the stream opened before the reload still work.
    kept.write_all(request.as_bytes()).await.unwrap();
    let (head, body) = read_http1_response(&mut kept).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("speakerBassLevel"));
    let r = with_client_headers(fresh.patch(p.url("/api/v1/audio")))
        .header("Authorization", &auth)
        .json(&json!({"speakerBassLevel": 61}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let announced = tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = String::new();
        while let Ok(Some(chunk)) = events.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"speakerBassLevel\":61") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        announced,
        Ok(true),
        "the stream opened before the reload carries the change"
    );
    let (status, _) = p.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_is_refused_and_the_running_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("roomgate.toml");
    write(&config, CAMERA_ROUTE);
    let p = Proc::spawn(&config, &[], &[]);
    let client = client_for(&dir.path().join("certs/cert.pem"), true);
    let general = common::login_at(&client, &p.url("/api/v1/auth/login"), "general", "").await;
    let camera = || async {
        with_client_headers(client.get(p.url("/api/v1/camera/x")))
            .header("Authorization", format!("Nureva {general}"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(camera().await, StatusCode::BAD_GATEWAY);

    std::fs::write(&config, "[limits]\nidle_timeout = \"soon\"\n").unwrap();
    let log = hangup_until_logged(&p, "configuration not reloaded").await;
    assert!(
        log.contains("roomgate.toml") && log.contains("limits.idle_timeout"),
        "the error names the file and the key: {log}"
    );
    assert_eq!(camera().await, StatusCode::BAD_GATEWAY, "the running config stays");
    let (status, _) = p.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_changes_the_log_level_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("roomgate.toml");
    write(&config, "[log]\nlevel = \"info\"\n");
    let p = Proc::spawn_with(&config, &[], &[]);
    let client = client_for(&dir.path().join("certs/cert.pem"), true);
    let request = || with_client_headers(client.get(p.url("/api/v1/heartbeat?probe"))).send();
    drop(request().await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!p.log_text().contains("DEBUG"), "nothing at debug before the reload");
    write(&config, "[log]\nlevel = \"roomgate=debug\"\n");
    hangup_until_logged(&p, "configuration reloaded").await;
    drop(request().await.unwrap());
    let seen = eventually(Duration::from_secs(5), async || p.log_text().contains("DEBUG")).await;
    assert!(seen.is_some(), "debug lines after the reload: {}", p.log_text());
    let (status, _) = p.terminate();
    assert!(status.success());
}

/// Receive one datagram, or fail after a while.
fn next_message(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("a notification within the timeout");
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn readiness_reload_and_stop_reach_the_service_manager() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let p = Proc::spawn(&config, &[], &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())]);
    assert_eq!(next_message(&socket), "READY=1");

    p.signal("HUP");
    let reloading = next_message(&socket);
    let mut lines = reloading.lines();
    assert_eq!(lines.next(), Some("RELOADING=1"));
    let usec: u64 = lines
        .next()
        .and_then(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("MONOTONIC_USEC follows: {reloading:?}"));
    assert!(usec > 0);
    assert_eq!(next_message(&socket), "READY=1");

    let (status, _) = p.terminate();
    assert!(status.success());
    assert_eq!(next_message(&socket), "STOPPING=1");
}
