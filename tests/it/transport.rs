//! Transport: HTTP/2 and HTTP/1.1 by ALPN, TLS versions and resumption, plain HTTP
//! on the TLS port, and the connection watchdog's idle and head timeouts.

use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, Device, closed_within, http1_request, read_http1_response, tls_connect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_http1_both_work() {
    let d = Device::start().await;
    let token = d.login("general", "").await;
    let h2 = d.get("/api/v1/audio", &token).send().await.unwrap();
    assert_eq!(h2.version(), Version::HTTP_2);
    assert_eq!(h2.status(), StatusCode::OK);
    let h1 = common::with_client_headers(d.http1_client().get(d.url("/api/v1/audio")))
        .header("Authorization", format!("Nureva {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), Version::HTTP_11);
    assert_eq!(h1.status(), StatusCode::OK);
    // Many requests multiplexed on one HTTP/2 connection.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        tasks.push(tokio::spawn(d.get("/api/v1/audio", &token).send()));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}

/// What curl 7.88 reports (`%{http_version} %{http_code}`) for a GET of the audio
/// settings with `protocol_args`.
async fn curl_protocol(d: &Device, token: &str, protocol_args: &[&str]) -> String {
    let cert = d.cert_path();
    let out = tokio::process::Command::new("curl")
        .args(["--silent", "--max-time", "10", "--output", "/dev/null"])
        .args(["--write-out", "%{http_version} %{http_code}", "--cacert"])
        .arg(&cert)
        .args(protocol_args)
        .args(["-H", &format!("Authorization: Nureva {token}")])
        .args([
            "-H",
            "Nureva-Client-Id: transport-test",
            "-H",
            "Nureva-Client-Version: 1",
        ])
        .arg(d.url("/api/v1/audio"))
        .output()
        .await
        .expect("curl must be installed (see .ci/run)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_chooses_the_protocol_and_no_alpn_means_http1() {
    let d = Device::start().await;
    let token = d.login("general", "").await;
    assert_eq!(curl_protocol(&d, &token, &["--http2"]).await, "2 200");
    assert_eq!(curl_protocol(&d, &token, &["--http1.1"]).await, "1.1 200");
    // No ALPN: HTTP/1.1, as nginx does.
    assert_eq!(curl_protocol(&d, &token, &["--no-alpn"]).await, "1.1 200");
    // HTTP/2 over TLS is negotiated by ALPN only (RFC 9113 §3.2): the HTTP/2 preface
    // without it is not HTTP/1.1, and the connection is closed without an answer.
    let prior = curl_protocol(&d, &token, &["--no-alpn", "--http2-prior-knowledge"]).await;
    assert!(prior.ends_with(" 000"), "{prior}");
    // The device goes on serving.
    assert_eq!(curl_protocol(&d, &token, &["--http2"]).await, "2 200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_garbage_do_not_hurt_the_server() {
    let d = Device::start().await;
    // A plain-HTTP request gets a JSON hint to use https.
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    tcp.write_all(http1_request("GET", "/api/v1", "").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"https_required\""), "{answer}");
    // Binary garbage and an instant close are dropped quietly.
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    tcp.write_all(&[0x00, 0xff, 0x13, 0x37, 0x16]).await.unwrap();
    assert!(closed_within(&mut tcp, Duration::from_secs(5)).await.is_some());
    drop(tokio::net::TcpStream::connect(d.addr).await.unwrap());
    // A TLS record that is not a valid ClientHello.
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])
        .await
        .unwrap();
    assert!(closed_within(&mut tcp, Duration::from_secs(5)).await.is_some());
    // Still serving.
    let resp = d.req(Method::GET, "/api/v1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

fn s_client(port: u16, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl must be installed (see .ci/run)");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions_alpn_and_session_resumption() {
    let d = Device::start().await;
    let port = d.port();
    let cert_path = d.cert_path().to_str().unwrap().to_string();
    let request = http1_request("GET", "/api/v1", "Connection: close\r\n");
    let h = tokio::task::spawn_blocking(move || {
        let cert = cert_path.as_str();
        let v13 = s_client(port, &["-tls1_3", "-CAfile", cert, "-alpn", "h2,http/1.1"], "");
        let v12 = s_client(port, &["-tls1_2", "-CAfile", cert, "-brief"], "");
        let v11 = s_client(port, &["-tls1_1", "-brief"], "");
        let only256 = s_client(
            port,
            &["-tls1_3", "-CAfile", cert, "-ciphersuites", "TLS_AES_256_GCM_SHA384"],
            "",
        );
        // Resumption: save the session from a first connection, offer it on a second.
        let dir = tempfile::tempdir().unwrap();
        let sess = dir.path().join("sess");
        let sess = sess.to_str().unwrap();
        let first = s_client(port, &["-tls1_2", "-CAfile", cert, "-sess_out", sess], &request);
        let second = s_client(port, &["-tls1_2", "-CAfile", cert, "-sess_in", sess], &request);
        let first13 = s_client(
            port,
            &["-tls1_3", "-CAfile", cert, "-sess_out", sess, "-ign_eof"],
            &request,
        );
        let second13 = s_client(
            port,
            &["-tls1_3", "-CAfile", cert, "-sess_in", sess, "-ign_eof"],
            &request,
        );
        (v13, v12, v11, only256, first, second, first13, second13)
    });
    let (v13, v12, v11, only256, first, second, first13, second13) = h.await.unwrap();
    assert!(v13.contains("New, TLSv1.3"), "{v13}");
    // The server's order: AES-128-GCM/SHA-256 first (docs/PERFORMANCE.md); a client
    // that accepts only AES-256 still gets it.
    assert!(v13.contains("Cipher is TLS_AES_128_GCM_SHA256"), "{v13}");
    assert!(v12.contains("Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256"), "{v12}");
    assert!(only256.contains("Cipher is TLS_AES_256_GCM_SHA384"), "{only256}");
    assert!(v13.contains("ALPN protocol: h2"), "{v13}");
    assert!(v13.contains("Verification: OK"), "{v13}");
    assert!(v12.contains("Protocol version: TLSv1.2"), "{v12}");
    assert!(
        !v11.contains("Protocol version: TLSv1.1"),
        "TLS 1.1 must be refused: {v11}"
    );
    assert!(first.contains("New, TLSv1.2"), "{first}");
    assert!(second.contains("Reused, TLSv1.2"), "TLS 1.2 resumption: {second}");
    assert!(first13.contains("New, TLSv1.3"), "{first13}");
    assert!(
        second13.contains("Reused, TLSv1.3"),
        "TLS 1.3 ticket resumption: {second13}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keepalive_connections_are_closed_after_the_idle_timeout() {
    let d = Device::start_with("[limits]\nidle_timeout = \"1s\"\nhead_timeout = \"10s\"\n").await;
    let mut s = tls_connect(d.addr, &d.cert_path(), b"http/1.1").await;
    // Requests spaced well within the idle timeout reuse the connection.
    for _ in 0..3 {
        s.write_all(http1_request("GET", "/api/v1", "").as_bytes())
            .await
            .unwrap();
        let (head, body) = read_http1_response(&mut s).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(body.contains("openapi"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let t = closed_within(&mut s, Duration::from_secs(5))
        .await
        .expect("idle connection must be closed");
    assert!(
        t >= Duration::from_millis(400) && t < Duration::from_millis(2500),
        "{t:?}"
    );

    // HTTP/2 connections are held to the same idle timeout.
    let mut h2 = tls_connect(d.addr, &d.cert_path(), b"h2").await;
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let t = closed_within(&mut h2, Duration::from_secs(5))
        .await
        .expect("idle h2 connection must be closed");
    assert!(
        t >= Duration::from_millis(800) && t < Duration::from_millis(3000),
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_head_is_cut_off_and_others_are_served() {
    let d = Device::start_with("[limits]\nidle_timeout = \"30s\"\nhead_timeout = \"500ms\"\n").await;
    let mut stalled = tls_connect(d.addr, &d.cert_path(), b"http/1.1").await;
    stalled
        .write_all(b"GET /api/v1 HTTP/1.1\r\nHost: localhost\r\nNureva-Cli")
        .await
        .unwrap();
    // Meanwhile a normal client is served at once.
    let started = std::time::Instant::now();
    let resp = d.req(Method::GET, "/api/v1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(400));
    let t = closed_within(&mut stalled, Duration::from_secs(5))
        .await
        .expect("stalled head must be cut off");
    assert!(
        t >= Duration::from_millis(300) && t < Duration::from_millis(2000),
        "{t:?}"
    );

    // A connection that never sends a request is cut off after the head timeout too
    // (the first request is due within it of the handshake).
    let mut silent = tls_connect(d.addr, &d.cert_path(), b"http/1.1").await;
    let t = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("an unused connection must be closed");
    assert!(
        t >= Duration::from_millis(300) && t < Duration::from_millis(2000),
        "{t:?}"
    );

    // A head dribbled byte by byte is cut off too, even though bytes keep coming.
    let mut dribble = tls_connect(d.addr, &d.cert_path(), b"http/1.1").await;
    let head = http1_request("GET", "/api/v1", &"X-Pad: y\r\n".repeat(50));
    let started = std::time::Instant::now();
    let mut cut = false;
    for b in head.bytes() {
        if dribble.write_all(&[b]).await.is_err() || dribble.flush().await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let closed = cut || closed_within(&mut dribble, Duration::from_millis(500)).await.is_some();
    assert!(
        closed && started.elapsed() < Duration::from_secs(3),
        "dribbled head took {:?}",
        started.elapsed()
    );
}
