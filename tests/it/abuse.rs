//! Abuse resistance through the real listener: login throttling per address and per
//! account, the request rate, stalled and half-open connections, HTTP/2 limits.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::{self, Device, closed_within, error_of, tls_connect, with_client_headers};

/// A client whose connections come from `ip` (any 127.x.y.z works on loopback).
fn client_from(d: &Device, ip: [u8; 4]) -> reqwest::Client {
    let pem = std::fs::read(d.cert_path()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .local_address(IpAddr::from(ip))
        .build()
        .unwrap()
}

async fn login_from(d: &Device, c: &reqwest::Client, account: &str, password: &str) -> reqwest::Response {
    with_client_headers(c.post(d.url("/api/v1/auth/login")))
        .json(&json!({"account": account, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_one_address_wait_longer_and_longer() {
    let d = Device::start_with("[policy]\nlogin_failures_before_delay = 3\n").await;
    let me = client_from(&d, [127, 0, 0, 21]);
    for _ in 0..3 {
        assert_eq!(
            login_from(&d, &me, "admin", "NOT-THE-CODE").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The fourth comes too soon.
    let resp = login_from(&d, &me, "admin", "NOT-THE-CODE").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("\"login_rate_limited\"") && body.contains("rate limit"),
        "{body}"
    );
    assert!(
        !body.to_lowercase().contains("password is"),
        "the answer never says the password was wrong"
    );
    assert_eq!(retry, 1);
    // Even the right password waits its turn (no hash is spent on throttled tries).
    assert_eq!(
        login_from(&d, &me, "admin", &d.code()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another address is not affected.
    let other = client_from(&d, [127, 0, 0, 22]);
    assert_eq!(
        login_from(&d, &other, "admin", &d.code()).await.status(),
        StatusCode::OK
    );
    // After the wait one more try; the next wait is longer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        login_from(&d, &me, "general", "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let resp = login_from(&d, &me, "general", "wrong").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "2");
    // Not a lockout: after the wait the right password works, and clears the delay.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(login_from(&d, &me, "admin", &d.code()).await.status(), StatusCode::OK);
    assert_eq!(
        login_from(&d, &me, "general", "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_takes_a_limited_number_of_failures_per_hour() {
    let d = Device::start_with("[policy]\nlogin_failures_per_hour = 4\nlogin_failures_before_delay = 100\n").await;
    d.set_password(roomgate::testing::Role::Integrator, "integrator-pass-1")
        .await;
    // Someone guesses the integrator password from several addresses.
    for i in 0..4 {
        let attacker = client_from(&d, [127, 0, 1, 10 + i]);
        assert_eq!(
            login_from(&d, &attacker, "integrator", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The integrator account now answers 429 to everyone, for at most an hour…
    let legit = client_from(&d, [127, 0, 2, 1]);
    let resp = login_from(&d, &legit, "integrator", "integrator-pass-1").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    let (_, codes) = error_of(resp).await;
    assert_eq!(codes, ["login_rate_limited"]);
    // …but a correct login to another account from another address is not blocked.
    assert_eq!(
        login_from(&d, &legit, "admin", &d.code()).await.status(),
        StatusCode::OK
    );
    assert_eq!(login_from(&d, &legit, "general", "").await.status(), StatusCode::OK);
    // A new password (an admin's, or the technician's) starts the account afresh.
    d.set_password(roomgate::testing::Role::Integrator, "integrator-pass-2")
        .await;
    assert_eq!(
        login_from(&d, &legit, "integrator", "integrator-pass-2").await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_never_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "[policy]\nlogin_failures_per_hour = 2\n");
    let p = common::Proc::spawn(&config, &[], &[]);
    let client = common::client_for(&dir.path().join("certs/cert.pem"), false);
    let url = p.url("/api/v1/auth/login");
    for _ in 0..2 {
        assert_eq!(
            common::try_login_at(&client, &url, "admin", "WRONG-CODE-1")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let code = common::enrollment_code(&config);
    assert_eq!(
        common::try_login_at(&client, &url, "admin", &code).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The technician resets the code at the console: no throttle there, and the
    // account's failure window starts afresh.
    let out = common::cli(&config, &["enrollment", "reset"]);
    assert!(out.status.success());
    let new_code = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let ok = common::eventually(Duration::from_secs(2), async || {
        common::try_login_at(&client, &url, "admin", &new_code).await.status() == StatusCode::OK
    })
    .await;
    assert!(ok.is_some(), "the new code logs in after the console reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_rate_per_address_is_limited() {
    let d = Device::start_with("[limits]\nrequests_per_minute = 10\n").await;
    let a = client_from(&d, [127, 0, 3, 1]);
    let get = |c: &reqwest::Client| with_client_headers(c.get(d.url("/api/v1"))).send();
    for _ in 0..10 {
        assert_eq!(get(&a).await.unwrap().status(), StatusCode::OK);
    }
    let resp = get(&a).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "6");
    let (_, codes) = error_of(resp).await;
    assert_eq!(codes, ["rate_limited"]);
    let b = client_from(&d, [127, 0, 3, 2]);
    assert_eq!(
        get(&b).await.unwrap().status(),
        StatusCode::OK,
        "other addresses are not affected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_stalled_connections_do_not_stop_a_normal_client() {
    // They all come from 127.0.0.1 here; on a real network they would come from many
    // addresses, so the per-address share is lifted to let them take slots.
    let d = Device::start_with(
        "[limits]\nhead_timeout = \"3s\"\nhandshake_timeout = \"3s\"\nidle_timeout = \"60s\"\n\
         max_connections_per_address = 4096\nfirst_byte_timeout = \"3s\"\n",
    )
    .await;
    let cert = d.cert_path();
    // 1,000 TLS connections that send half a request head and stall…
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (addr, cert) = (d.addr, cert.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = tls_connect(addr, &cert, b"http/1.1").await;
            s.write_all(b"GET /api/v1/audio HTTP/1.1\r\nHost: localhost\r\nNureva-Cli")
                .await
                .unwrap();
            s.flush().await.unwrap();
            s
        }));
    }
    let mut stalled = Vec::new();
    for t in tasks {
        stalled.push(t.await.unwrap());
    }
    let opened = Instant::now();
    // …and 200 that never even start TLS.
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(tokio::net::TcpStream::connect(d.addr).await.unwrap());
    }
    // A normal client is served at once.
    let started = Instant::now();
    let resp = d.req(Method::GET, "/api/v1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "served in {took:?}");
    // The stalled ones are closed after the head timeout.
    let mut closed = 0;
    for s in stalled.iter_mut() {
        if closed_within(s, Duration::from_secs(6).saturating_sub(opened.elapsed()))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 1000, "every stalled head is cut off");
    assert!(opened.elapsed() < Duration::from_secs(6));
    for s in silent.iter_mut() {
        assert!(
            closed_within(s, Duration::from_secs(5)).await.is_some(),
            "silent connections are cut off"
        );
    }
    assert_eq!(
        d.req(Method::GET, "/api/v1").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_header_list_is_limited() {
    let d = Device::start().await;
    let token = d.login("general", "").await;
    // 20 KiB of headers exceeds the advertised 16 KiB header list.
    let big = "a".repeat(20 * 1024);
    let resp = d.get("/api/v1/audio", &token).header("X-Big", big).send().await;
    assert!(
        resp.map(|r| r.status() != StatusCode::OK).unwrap_or(true),
        "an oversized header list is refused"
    );
    // The connection pool and the device carry on.
    assert_eq!(d.get_status("/api/v1/audio", &token).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_concurrent_streams_are_limited_per_connection() {
    let d = Device::start_with("[limits]\nh2_max_concurrent_streams = 2\n").await;
    // One HTTP/2 connection (reqwest multiplexes on it) holding two open streams.
    let c = d.client();
    let a = with_client_headers(c.get(d.url("/api/v1/heartbeat")))
        .send()
        .await
        .unwrap();
    let b = with_client_headers(c.get(d.url("/api/v1/heartbeat")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (a.version(), b.version()),
        (reqwest::Version::HTTP_2, reqwest::Version::HTTP_2)
    );
    // A third stream on that connection must wait for a free slot…
    let third = tokio::spawn(with_client_headers(c.get(d.url("/api/v1"))).send());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "the server allows only two concurrent streams");
    // …which it gets as soon as one stream ends.
    drop(a);
    let resp = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    drop(b);
}
