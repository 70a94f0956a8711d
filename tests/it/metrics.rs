//! Health metrics (`GET /api/v1/metrics`) through the real listener: who may read
//! them, that the counters move with requests and logins, that `promtool` accepts
//! the text, and that a real Prometheus scrapes the device over TLS with an API key.
//!
//! `promtool` and `prometheus` come from Debian's `prometheus` package; the tests
//! that need them say so and stop when they are missing.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use roomgate::testing::Role;
use serde_json::{Value, json};

use crate::common::{Device, error_of, eventually};

const PATH: &str = "/api/v1/metrics";

/// A device whose accounts throttle after two failed logins, with a monitor
/// password set.
async fn device() -> Device {
    let d = Device::start_with("[policy]\nlogin_failures_per_hour = 2\nlogin_failures_before_delay = 100\n").await;
    d.set_password(Role::Monitor, "monitor-pass-1").await;
    d
}

/// An API key of `account`, made by the admin.
async fn api_key(d: &Device, account: &str) -> String {
    let admin = d.admin_token().await;
    let resp = d
        .req(Method::POST, "/api/v1/auth/keys")
        .header("Authorization", format!("Nureva {admin}"))
        .json(&json!({"name": format!("monitoring ({account})"), "account": account}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    body["key"].as_str().unwrap().to_string()
}

/// Scrape with the client headers and `Authorization: <scheme> <token>`.
async fn scrape(d: &Device, scheme: &str, token: &str) -> String {
    let resp = d
        .req(Method::GET, PATH)
        .header("Authorization", format!("{scheme} {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.text().await.unwrap()
}

/// The value of the sample written exactly as `series` (name and labels), if any.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn logins(text: &str, outcome: &str) -> f64 {
    value(text, &format!("roomgate_logins_total{{outcome=\"{outcome}\"}}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_credential_or_any_api_key_reads_the_metrics_and_nobody_else() {
    let d = device().await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    // No credential, a wrong one: 401.
    let (status, codes) = error_of(d.req(Method::GET, PATH).send().await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::UNAUTHORIZED, vec!["missing_authorization".into()])
    );
    let wrong = d.get(PATH, "rgk_AAAA").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The lowest role is enough, as a session under either scheme and as a key.
    scrape(&d, "Nureva", &monitor).await;
    scrape(&d, "Bearer", &monitor).await;
    for account in ["monitor", "general", "admin"] {
        let key = api_key(&d, account).await;
        scrape(&d, "Bearer", &key).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_headers_may_be_left_out_on_the_metrics_endpoint_only() {
    let d = device().await;
    let key = api_key(&d, "monitor").await;
    let bare = |path: &str| {
        d.client()
            .get(d.url(path))
            .header("Authorization", format!("Bearer {key}"))
            .header("User-Agent", "Prometheus/2.42.0")
    };
    assert_eq!(bare(PATH).send().await.unwrap().status(), StatusCode::OK);
    // The key's last use names the scraper after its User-Agent.
    let admin = d.admin_token().await;
    let keys = d.get_json("/api/v1/auth/keys", &admin).await;
    assert_eq!(keys["keys"][0]["lastClientId"], "Prometheus", "{keys}");
    // Everywhere else they are required.
    let (status, codes) = error_of(bare("/api/v1/auth/validate").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["missing_client_id", "missing_client_version"]);
    // Sending one of them holds the scraper to the rules.
    let (status, codes) = error_of(bare(PATH).header("Nureva-Client-Id", "nms").send().await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["missing_client_version".into()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_logins_move_the_counters() {
    let d = device().await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    let general = d.login("general", "").await;
    let before = scrape(&d, "Bearer", &monitor).await;
    let audio_ok = r#"roomgate_http_requests_total{route="/api/v1/audio",method="GET",code="200"}"#;
    let audio_401 = r#"roomgate_http_requests_total{route="/api/v1/audio",method="GET",code="401"}"#;
    let unrouted = r#"roomgate_http_requests_total{route="unrouted",method="GET",code="404"}"#;
    let profile =
        r#"roomgate_http_requests_total{route="/api/v1/room/profiles/{profileId}",method="DELETE",code="401"}"#;
    let latency = r#"roomgate_http_request_duration_seconds_count{route="/api/v1/audio",method="GET"}"#;
    assert_eq!(value(&before, audio_ok), None, "nothing yet");

    for _ in 0..3 {
        assert_eq!(d.get_status("/api/v1/audio", &general).await, StatusCode::OK);
    }
    assert_eq!(
        d.get_status("/api/v1/audio", "nonsense").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.get_status("/api/v1/nothing-here", &general).await,
        StatusCode::NOT_FOUND
    );
    // A path parameter is counted under the route's template, not the raw path.
    let raw = "/api/v1/room/profiles/6f1c1b2e-0000-4000-8000-000000000001";
    let resp = d.req(Method::DELETE, raw).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Logins: two failures, then the account is throttled.
    for _ in 0..2 {
        assert_eq!(
            d.try_login("integrator", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        d.try_login("integrator", "guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let after = scrape(&d, "Bearer", &monitor).await;
    assert_eq!(value(&after, audio_ok), Some(3.0), "{after}");
    assert_eq!(value(&after, audio_401), Some(1.0));
    assert_eq!(value(&after, unrouted), Some(1.0));
    assert_eq!(value(&after, profile), Some(1.0));
    assert_eq!(value(&after, latency), Some(4.0));
    assert!(!after.contains("6f1c1b2e"), "raw paths are never labels");
    assert_eq!(logins(&after, "ok") - logins(&before, "ok"), 0.0);
    assert_eq!(logins(&before, "ok"), 2.0, "monitor and general");
    assert_eq!(logins(&after, "failed") - logins(&before, "failed"), 2.0);
    assert_eq!(logins(&after, "throttled") - logins(&before, "throttled"), 1.0);
    // The metrics endpoint counts itself too.
    let own = r#"roomgate_http_requests_total{route="/api/v1/metrics",method="GET",code="200"}"#;
    assert_eq!(value(&after, own), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_requests_are_counted_under_their_prefix() {
    // A port nobody listens on: every forwarded request is a 502.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let d = Device::start_with(&format!(
        "[[route]]\nprefix = \"/api/v1/camera\"\nmin_role = \"general\"\nupstream = \"http://{closed}\"\n"
    ))
    .await;
    let general = d.login("general", "").await;
    for path in ["/api/v1/camera/zoom/5", "/api/v1/camera/presets/17"] {
        assert_eq!(d.get_status(path, &general).await, StatusCode::BAD_GATEWAY);
    }
    let resp = d
        .req(Method::POST, "/api/v1/camera/recall")
        .header("Authorization", format!("Nureva {general}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        d.get_status("/api/v1/camera/x", "nonsense").await,
        StatusCode::UNAUTHORIZED
    );
    let text = scrape(&d, "Bearer", &general).await;
    let series = |method: &str, code: &str| {
        value(
            &text,
            &format!(r#"roomgate_http_requests_total{{route="/api/v1/camera",method="{method}",code="{code}"}}"#),
        )
    };
    assert_eq!(series("GET", "502"), Some(2.0), "{text}");
    assert_eq!(series("POST", "502"), Some(1.0));
    assert_eq!(series("GET", "401"), Some(1.0));
    let latency = r#"roomgate_http_request_duration_seconds_count{route="/api/v1/camera",method="GET"}"#;
    assert_eq!(value(&text, latency), Some(3.0));
    assert!(
        !text.contains("zoom") && !text.contains("presets"),
        "raw paths are never labels"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gauges_describe_credentials_load_certificate_and_process() {
    let d = device().await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    d.login("general", "").await;
    let key = api_key(&d, "general").await;
    let _heartbeat = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    let text = scrape(&d, "Bearer", &key).await;
    let gauge = |series: &str| value(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(gauge(r#"roomgate_sessions{account="monitor"}"#), 1.0);
    // The general session, and the admin's that made the key.
    assert_eq!(gauge(r#"roomgate_sessions{account="general"}"#), 1.0);
    assert_eq!(gauge(r#"roomgate_sessions{account="admin"}"#), 1.0);
    assert_eq!(gauge(r#"roomgate_api_keys{account="general"}"#), 1.0);
    assert_eq!(gauge(r#"roomgate_api_keys{account="monitor"}"#), 0.0);
    assert!(gauge("roomgate_open_connections") >= 1.0, "the scrape's own connection");
    assert_eq!(gauge(r#"roomgate_open_streams{kind="public"}"#), 1.0);
    assert_eq!(gauge(r#"roomgate_open_streams{kind="authenticated"}"#), 0.0);
    assert_eq!(gauge("roomgate_argon2_running"), 0.0);
    assert_eq!(gauge("roomgate_argon2_queue_depth"), 0.0);
    let now = roomgate::testing::now() as f64;
    let expiry = gauge("roomgate_certificate_expiry_timestamp_seconds");
    assert!(
        expiry > now + 86_400.0 * 365.0,
        "the generated certificate lasts years: {expiry}"
    );
    assert!(gauge("process_resident_memory_bytes") > 1_000_000.0);
    assert!(gauge("process_open_fds") >= 5.0);
    drop(monitor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_is_served_when_asked_for() {
    let d = device().await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    let resp = d
        .get(PATH, &monitor)
        .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    assert!(text.contains("# TYPE roomgate_logins counter\n"), "{text}");
    assert!(text.contains("\nroomgate_logins_total{outcome=\"ok\"} 1\n"), "{text}");
}

/// Whether `program` can be run (it answers `--version`).
fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_exposition() {
    if !installed("promtool") {
        eprintln!("SKIPPED: promtool is not installed (Debian package prometheus)");
        return;
    }
    let d = device().await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    // Traffic of every kind, so that every family has samples.
    d.get_status("/api/v1/audio", &monitor).await;
    d.get_status("/api/v1/nothing-here", &monitor).await;
    d.req(Method::HEAD, "/api/v1").send().await.unwrap();
    d.try_login("integrator", "guess").await;
    let text = scrape(&d, "Bearer", &monitor).await;
    let mut child = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, text.as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("promtool did not finish")
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{said}\n--- text ---\n{text}"
    );
    assert!(said.trim().is_empty(), "promtool has remarks:\n{said}");
}

/// A `prometheus` server run by a test; killed when dropped.
struct Prometheus {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Prometheus {
    fn start(dir: &Path, config: &str) -> Prometheus {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.join("prometheus.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap();
        Prometheus { child, port, log }
    }

    /// The first value of an instant query, if it has one.
    async fn query(&self, client: &reqwest::Client, promql: &str) -> Option<f64> {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let resp = client.get(url).query(&[("query", promql)]).send().await.ok()?;
        let body: Value = resp.json().await.ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// Its log and what it says about its targets (health, last error).
    async fn diagnosis(&self, client: &reqwest::Client) -> String {
        let url = format!("http://127.0.0.1:{}/api/v1/targets", self.port);
        let targets = match client.get(url).send().await {
            Ok(resp) => resp.text().await.unwrap_or_default(),
            Err(e) => format!("targets API: {e}"),
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("{log}\n--- targets ---\n{targets}")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Scrape config: HTTPS trusting the device certificate, the API key as a bearer
/// credential from a file, every second.
fn scrape_config(device: &Device, key_file: &Path) -> String {
    format!(
        r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: roomgate
    scheme: https
    metrics_path: /api/v1/metrics
    authorization:
      type: Bearer
      credentials_file: {key}
    tls_config:
      ca_file: {ca}
      server_name: localhost
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"#,
        key = key_file.display(),
        ca = device.cert_path().display(),
        port = device.port(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_device_over_tls_with_an_api_key() {
    if !installed("prometheus") {
        eprintln!("SKIPPED: prometheus is not installed (Debian package prometheus)");
        return;
    }
    let d = Device::start().await;
    // As an IT department sets it up: the monitor account enabled without a
    // password (nobody logs in to it), and a monitor key for Prometheus.
    let admin = d.admin_token().await;
    let resp = d
        .req(Method::PATCH, "/api/v1/auth/accounts/monitor")
        .header("Authorization", format!("Nureva {admin}"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let key = api_key(&d, "monitor").await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("roomgate.key");
    std::fs::write(&key_file, &key).unwrap();
    let prometheus = Prometheus::start(dir.path(), &scrape_config(&d, &key_file));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let limit = Duration::from_secs(60);

    let up = eventually(limit, async || {
        prometheus.query(&client, r#"up{job="roomgate"}"#).await == Some(1.0)
    })
    .await;
    assert!(
        up.is_some(),
        "the target never came up:\n{}",
        prometheus.diagnosis(&client).await
    );

    let failed = r#"roomgate_logins_total{job="roomgate",outcome="failed"}"#;
    let before = prometheus.query(&client, failed).await.expect("a failed-logins sample");
    for _ in 0..3 {
        assert_eq!(d.try_login("general", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    let moved = eventually(limit, async || {
        prometheus
            .query(&client, failed)
            .await
            .is_some_and(|v| v >= before + 3.0)
    })
    .await;
    assert!(
        moved.is_some(),
        "Prometheus never saw the failed logins (before: {before}):\n{}",
        prometheus.diagnosis(&client).await
    );
    // The scrapes themselves are counted, under the endpoint's template (a scrape
    // shows the ones before it).
    let scrapes = r#"roomgate_http_requests_total{job="roomgate",route="/api/v1/metrics",method="GET",code="200"}"#;
    let seen = prometheus.query(&client, scrapes).await;
    assert!(seen.is_some_and(|v| v >= 1.0), "{seen:?}");
}
