//! Integration-test harness: a real device on loopback, a real HTTPS client, and the
//! real binary.
//!
//! [`Device::start`] runs the library's [`roomgate::Server`] on `127.0.0.1:0` in a
//! temporary folder (its own state and generated certificate) with cheap argon2
//! parameters — `memory_kib = 64, iterations = 1`, for tests only; the shipped
//! default is OWASP's 19 MiB / t=2 — and a client that trusts exactly the generated
//! certificate. [`Proc`] runs the built `roomgate` binary for CLI, restart and
//! signal tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The client headers every test request carries.
pub(crate) const CLIENT_ID: &str = "roomgate-tests";
pub(crate) const CLIENT_VERSION: &str = "1.0.0";

/// Test-only config: loopback, port 0, relative folders, cheap hashing.
const BASE_CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
state_dir = "state"
[tls]
cert_dir = "certs"
[passwords]
memory_kib = 64
iterations = 1
[log]
level = "warn"
"#;

/// Merge `extra` TOML into the base test config (tables merge key by key).
pub(crate) fn config_text(extra: &str) -> String {
    fn merge(base: &mut toml::Table, extra: toml::Table) {
        for (k, v) in extra {
            match (base.get_mut(&k), v) {
                (Some(toml::Value::Table(b)), toml::Value::Table(e)) => merge(b, e),
                (_, v) => {
                    base.insert(k, v);
                }
            }
        }
    }
    let mut base: toml::Table = BASE_CONFIG.parse().unwrap();
    let extra: toml::Table = extra.parse().expect("extra config must be valid TOML");
    merge(&mut base, extra);
    toml::to_string(&base).unwrap()
}

/// Write a config file into `dir` and return its path.
pub(crate) fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("roomgate.toml");
    std::fs::write(&path, config_text(extra)).unwrap();
    path
}

/// A device served in-process on loopback.
pub(crate) struct Device {
    pub dir: TempDir,
    #[allow(dead_code)] // no test reads it yet
    pub config_path: PathBuf,
    pub addr: SocketAddr,
    /// The plain-HTTP listener, when the config sets `server.http_listen`.
    pub http_addr: Option<SocketAddr>,
    pub app: roomgate::App,
    #[allow(dead_code)] // no test reads it yet
    pub fingerprint: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Device {
    pub(crate) async fn start() -> Device {
        Self::start_with("").await
    }

    pub(crate) async fn start_with(extra: &str) -> Device {
        Self::start_in(tempfile::tempdir().unwrap(), extra).await
    }

    /// Start on an existing folder (a restart keeps state and certificate).
    pub(crate) async fn start_in(dir: TempDir, extra: &str) -> Device {
        let config_path = write_config(dir.path(), extra);
        let config = roomgate::Config::load(Some(&config_path), &Default::default()).unwrap();
        let server = roomgate::Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let http_addr = server.http_local_addr();
        let app = server.app().clone();
        let fingerprint = server.fingerprint().to_string();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        let client = client_for(&dir.path().join("certs/cert.pem"), false);
        Device {
            dir,
            config_path,
            addr,
            http_addr,
            app,
            fingerprint,
            client,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Graceful shutdown; returns the folder for a restart.
    pub(crate) async fn stop(mut self) -> TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server did not stop")
                .unwrap();
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://localhost:PORT{path}` (the certificate names localhost).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port())
    }

    /// `http://127.0.0.1:PORT{path}` on the plain-HTTP listener (which must be on).
    pub(crate) fn http_url(&self, path: &str) -> String {
        let addr = self.http_addr.expect("the config turns plain HTTP on");
        format!("http://{addr}{path}")
    }

    pub(crate) fn cert_path(&self) -> PathBuf {
        self.dir.path().join("certs/cert.pem")
    }

    /// A client (HTTP/2 by ALPN) trusting the device certificate.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A new HTTP/1.1-only client.
    pub(crate) fn http1_client(&self) -> reqwest::Client {
        client_for(&self.cert_path(), true)
    }

    pub(crate) fn code(&self) -> String {
        self.app.snapshot().enrollment_code.clone()
    }

    /// A request with both client headers.
    pub(crate) fn req(&self, method: Method, path: &str) -> RequestBuilder {
        with_client_headers(self.client.request(method, self.url(path)))
    }

    pub(crate) fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.req(Method::GET, path)
            .header("Authorization", format!("Nureva {token}"))
    }

    /// `GET path` with a credential, as JSON.
    pub(crate) async fn get_json(&self, path: &str, token: &str) -> Value {
        send_json(self.get(path, token)).await
    }

    /// `GET path` with a credential: just the status.
    pub(crate) async fn get_status(&self, path: &str, token: &str) -> StatusCode {
        self.get(path, token).send().await.unwrap().status()
    }

    pub(crate) async fn try_login(&self, account: &str, password: &str) -> Response {
        try_login_at(&self.client, &self.url("/api/v1/auth/login"), account, password).await
    }

    pub(crate) async fn login(&self, account: &str, password: &str) -> String {
        login_at(&self.client, &self.url("/api/v1/auth/login"), account, password).await
    }

    pub(crate) async fn admin_token(&self) -> String {
        self.login("admin", &self.code()).await
    }

    /// Change the state directly (as a test fixture), like the admin API will.
    pub(crate) async fn with_state(&self, f: impl FnOnce(&mut roomgate::testing::State) + Send + 'static) {
        self.app
            .update(move |s| {
                f(s);
                Ok(())
            })
            .await
            .unwrap();
    }

    /// Set an account's password and enable it (hashing like the service does).
    pub(crate) async fn set_password(&self, account: roomgate::testing::Role, password: &str) {
        let phc = self
            .app
            .hasher()
            .hash(roomgate::testing::Password::new(password))
            .await
            .unwrap();
        self.with_state(move |s| {
            s.set_password(account, Some(phc), false, roomgate::testing::now());
            s.set_enabled(account, true, roomgate::testing::now());
        })
        .await;
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `POST {url}` with a login body.
pub(crate) async fn try_login_at(client: &reqwest::Client, url: &str, account: &str, password: &str) -> Response {
    with_client_headers(client.post(url))
        .json(&json!({"account": account, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Log in and return the `authParameters`.
pub(crate) async fn login_at(client: &reqwest::Client, url: &str, account: &str, password: &str) -> String {
    let resp = try_login_at(client, url, account, password).await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {account} failed");
    let body: Value = resp.json().await.unwrap();
    body["authParameters"].as_str().unwrap().to_string()
}

pub(crate) fn client_for(cert: &Path, http1_only: bool) -> reqwest::Client {
    let pem = std::fs::read(cert).unwrap();
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(30));
    if http1_only {
        b = b.http1_only();
    }
    b.build().unwrap()
}

pub(crate) fn with_client_headers(b: RequestBuilder) -> RequestBuilder {
    b.header("Nureva-Client-Id", CLIENT_ID)
        .header("Nureva-Client-Version", CLIENT_VERSION)
}

/// Status and the error codes of a JSON error response (checks its shape).
pub(crate) async fn error_of(resp: Response) -> (StatusCode, Vec<String>) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(ct.as_deref(), Some("application/json"), "errors are JSON ({status})");
    let body: Value = resp.json().await.unwrap();
    let errors = body["errors"].as_array().expect("an errors array");
    assert!(!errors.is_empty());
    let codes = errors
        .iter()
        .map(|e| {
            let code = e["code"].as_str().expect("code").to_string();
            assert!(
                code.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{code}"
            );
            assert!(!e["message"].as_str().expect("message").is_empty());
            code
        })
        .collect();
    (status, codes)
}

// ---------------------------------------------------------------------------
// The real binary.

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_roomgate")
}

/// Send a request and read its answer as JSON.
pub(crate) async fn send_json(b: RequestBuilder) -> Value {
    b.send().await.unwrap().json().await.unwrap()
}

/// Run a CLI command with `--config`.
pub(crate) fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// The enrollment code as the technician reads it: `roomgate enrollment show`.
pub(crate) fn enrollment_code(config: &Path) -> String {
    let out = cli(config, &["enrollment", "show"]);
    assert!(
        out.status.success(),
        "enrollment show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A running `roomgate serve` process; its stderr is collected.
pub(crate) struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    pub(crate) fn spawn(config: &Path, extra_args: &[&str], envs: &[(&str, &str)]) -> Proc {
        // The harness config logs at warn; the "listening on" line is info.
        let mut args = vec!["--log-level", "info"];
        args.extend_from_slice(extra_args);
        Proc::spawn_with(config, &args, envs)
    }

    /// `roomgate serve --config CONFIG ARGS…`, logging at the config's own level
    /// (which must show the info-level "listening on" line).
    pub(crate) fn spawn_with(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(bin())
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on https://").nth(1) {
                    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("service did not start: {:?}", log.lock().unwrap());
            }
        };
        Proc { child, addr, log }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// The plain-HTTP address its start-up warning names, if it logged one.
    pub(crate) fn http_addr(&self) -> Option<SocketAddr> {
        let log = self.log_text();
        let rest = log.split("listening on plain http://").nth(1)?;
        rest.chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .parse()
            .ok()
    }

    pub(crate) fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM and wait; returns the exit status.
    pub(crate) fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        self.signal("TERM");
        let status = wait_timeout(&mut self.child, Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn wait_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "process did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One answer of the `curl` binary: status, response head and body.
#[derive(Debug)]
pub(crate) struct CurlAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl CurlAnswer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `code`s of a JSON error body.
    pub(crate) fn error_codes(&self) -> Vec<String> {
        let body = self.json();
        let errors = body["errors"].as_array().expect("an errors array");
        errors.iter().map(|e| e["code"].as_str().unwrap().to_string()).collect()
    }
}

/// Run `curl --silent --include ARGS…` (one HTTP/1.1 exchange) and split its answer.
pub(crate) async fn curl(args: &[&str]) -> CurlAnswer {
    let out = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--include", "--max-time", "20"])
        .args(args)
        .output()
        .await
        .expect("curl must be installed (see .ci/run)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    CurlAnswer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// What a vendor curl example gave: whether curl succeeded, the status, the body.
pub(crate) struct VendorAnswer {
    pub ok: bool,
    pub status: u16,
    pub body: String,
}

impl Device {
    /// Run a curl example from the vendor's pages as printed, against this device:
    /// the documented address `https://10.0.0.1` becomes the device's and curl
    /// trusts its certificate (`--max-time` ends streams); nothing else changes.
    pub(crate) async fn vendor_curl(&self, example: &str, max_time_secs: u32) -> VendorAnswer {
        let script = format!(
            "{} --silent --show-error --max-time {max_time_secs} --cacert '{}' --write-out '\\n%{{http_code}}'",
            example
                .trim_end()
                .replace("https://10.0.0.1", &format!("https://localhost:{}", self.port())),
            self.cert_path().display()
        );
        let out = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .await
            .expect("bash and curl must be installed (see .ci/run)");
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        VendorAnswer {
            ok: out.status.success(),
            status: status.trim().parse().unwrap_or(0),
            body: body.to_string(),
        }
    }
}

/// Poll `check` until it is true or `limit` passes; returns the time it took.
pub(crate) async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

// ---------------------------------------------------------------------------
// Raw TLS, for tests that need byte-level control of a connection.

pub(crate) type RawTls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A TLS connection to `addr` trusting `cert`, offering one ALPN protocol.
pub(crate) async fn tls_connect(addr: SocketAddr, cert: &Path, alpn: &[u8]) -> RawTls {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    connector
        .connect(rustls::pki_types::ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// An HTTP/1.1 request head with both client headers.
pub(crate) fn http1_request(method: &str, path: &str, extra: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nNureva-Client-Id: {CLIENT_ID}\r\nNureva-Client-Version: {CLIENT_VERSION}\r\n{extra}\r\n"
    )
}

/// Read one HTTP/1.1 response with a Content-Length body; returns head and body.
pub(crate) async fn read_http1_response<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> (String, String) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "connection closed mid-head: {:?}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// Wait until the peer closes (read returns 0 or an error); the time it took.
pub(crate) async fn closed_within<S: tokio::io::AsyncRead + Unpin>(s: &mut S, limit: Duration) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let start = std::time::Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

/// Send raw bytes on a fresh HTTP/1.1 TLS connection; read the answer until the
/// peer closes or one full response has arrived. Returns status and body.
pub(crate) async fn raw_exchange(addr: SocketAddr, cert: &Path, request: &[u8]) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tls_connect(addr, cert, b"http/1.1").await;
    // The peer may answer and close before all of a large request is written.
    let _ = s.write_all(request).await;
    let _ = s.flush().await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let read = async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head.lines().find_map(|l| {
                    l.strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                });
                if len.is_some_and(|len| buf.len() >= end + 4 + len) {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}
