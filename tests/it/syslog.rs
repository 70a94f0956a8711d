//! Security events to a syslog collector: the built binary sends to a real
//! `rsyslogd` on loopback (UDP, TCP, TLS), which writes every message it receives
//! as received; the test parses each RFC 5424 line. Also: a collector that is not
//! there never slows a request, and the drops are reported.
//!
//! Needs the Debian packages `rsyslog` and `rsyslog-openssl` (TLS through the
//! `ossl` netstream driver) and `openssl`; without `rsyslogd` a test prints why and
//! passes without checking anything.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::common::{self, Proc, client_for, login_at, try_login_at, with_client_headers, write_config};

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const WRONG_PASSWORD: &str = "Wr0ng-Guess-Syslog-Secret";
const NEW_PASSWORD: &str = "Integr4tor-Syslog-Secret";

// ---------------------------------------------------------------------------
// A real rsyslogd on loopback.

/// How rsyslogd listens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Listen {
    Udp,
    Tcp,
    /// TLS with a server certificate for `localhost` signed by the test's CA.
    Tls,
}

/// A running `rsyslogd -n` with its own config, work folder and pid file; every
/// message it receives is written to `received.log` as `%rawmsg%`.
struct Rsyslog {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl Rsyslog {
    /// Start one, or `None` (with the reason printed) when rsyslogd is missing.
    fn start(listen: Listen, pki: Option<&Pki>) -> Option<Rsyslog> {
        Self::start_on(listen, pki, free_port(listen))
    }

    fn start_on(listen: Listen, pki: Option<&Pki>, port: u16) -> Option<Rsyslog> {
        if !Path::new(RSYSLOGD).exists() {
            // CI installs it (.ci/run): there, a missing collector is a failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "{RSYSLOGD} is missing (apt-get install rsyslog rsyslog-openssl)"
            );
            eprintln!("SKIPPED: {RSYSLOGD} is missing (apt-get install rsyslog rsyslog-openssl)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let (global_tls, input) = match (listen, pki) {
            (Listen::Udp, _) => (
                String::new(),
                format!("module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\")"),
            ),
            (Listen::Tcp, _) => (
                String::new(),
                format!("module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")"),
            ),
            (Listen::Tls, Some(pki)) => (
                format!(
                    " DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
                    pki.ca.display(),
                    pki.cert.display(),
                    pki.key.display()
                ),
                format!(
                    "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n\
                     input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")"
                ),
            ),
            (Listen::Tls, None) => panic!("TLS needs certificates"),
        };
        let conf = format!(
            "global(workDirectory=\"{d}\"{global_tls})\n{input}\n\
             template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n\
             *.* action(type=\"omfile\" file=\"{d}/received.log\" template=\"raw\")\n"
        );
        std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = Rsyslog { child, dir, port };
        r.wait_until_listening(listen);
        Some(r)
    }

    /// A TCP port accepts connections; a UDP probe shows up in the file.
    fn wait_until_listening(&self, listen: Listen) {
        let start = Instant::now();
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        while start.elapsed() < Duration::from_secs(15) {
            let up = match listen {
                Listen::Udp => {
                    let _ = probe.send_to(b"<14>1 - - probe - - - probe", ("127.0.0.1", self.port));
                    self.received().contains("probe")
                }
                Listen::Tcp | Listen::Tls => TcpStream::connect(("127.0.0.1", self.port)).is_ok(),
            };
            if up {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("rsyslogd did not start listening on {}", self.port);
    }

    /// Everything received so far.
    fn received(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("received.log")).unwrap_or_default()
    }

    /// roomgate's messages received so far, parsed (each must parse).
    fn messages(&self) -> Vec<Rfc5424> {
        self.received()
            .lines()
            .filter(|l| l.contains(" roomgate "))
            .map(|l| Rfc5424::parse(l).unwrap_or_else(|e| panic!("not RFC 5424 ({e}): {l}")))
            .collect()
    }

    /// Wait until a message satisfies `want`.
    async fn wait_for(&self, what: &str, want: impl Fn(&Rfc5424) -> bool) -> Rfc5424 {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(m) = self.messages().into_iter().find(&want) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {what} message reached rsyslog; received:\n{}", self.received());
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now.
fn free_port(listen: Listen) -> u16 {
    match listen {
        Listen::Udp => UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(),
        Listen::Tcp | Listen::Tls => TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(),
    }
}

/// A TCP port on 127.0.0.1 that refuses connections, and that nothing else can take
/// while the socket is held: bound, never listening.
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// A CA and a collector certificate it signed, made with `openssl`.
struct Pki {
    _dir: TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    /// The collector's certificate names `name` (a DNS name).
    fn new(name: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let p = |f: &str| dir.path().join(f);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=syslog test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat(),
        );
        std::fs::write(p("ext"), format!("subjectAltName=DNS:{name}\n")).unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ]);
        Pki {
            ca: p("ca.pem"),
            cert: p("server.pem"),
            key: p("server.key"),
            _dir: dir,
        }
    }
}

// ---------------------------------------------------------------------------
// RFC 5424, parsed as a collector would.

/// An SD element: its SD-ID and its parameters, in order.
type SdElement = (String, Vec<(String, String)>);

/// One RFC 5424 message.
#[derive(Debug, Clone)]
struct Rfc5424 {
    pri: u16,
    timestamp: String,
    hostname: String,
    app_name: String,
    procid: String,
    msgid: String,
    /// SD-ID → its parameters.
    sd: Vec<SdElement>,
    msg: String,
}

impl Rfc5424 {
    fn parse(line: &str) -> Result<Rfc5424, String> {
        let rest = line.strip_prefix('<').ok_or("no PRI")?;
        let (pri, rest) = rest.split_once('>').ok_or("no PRI end")?;
        let pri: u16 = pri.parse().map_err(|_| "PRI not a number")?;
        let rest = rest.strip_prefix("1 ").ok_or("not version 1")?;
        let mut parts = rest.splitn(6, ' ');
        let mut next = |what: &str| parts.next().map(str::to_string).ok_or(format!("no {what}"));
        let (timestamp, hostname, app_name, procid, msgid) = (
            next("TIMESTAMP")?,
            next("HOSTNAME")?,
            next("APP-NAME")?,
            next("PROCID")?,
            next("MSGID")?,
        );
        let rest = next("STRUCTURED-DATA")?;
        let (sd, msg) = parse_sd(&rest)?;
        for field in [&timestamp, &hostname, &app_name, &procid, &msgid] {
            if field.is_empty() || !field.chars().all(|c| c.is_ascii_graphic()) {
                return Err(format!("header field {field:?} is not PRINTUSASCII"));
            }
        }
        Ok(Rfc5424 {
            pri,
            timestamp,
            hostname,
            app_name,
            procid,
            msgid,
            sd,
            msg,
        })
    }

    /// A parameter of an SD element.
    fn param(&self, sd_id: &str, name: &str) -> Option<&str> {
        let (_, params) = self.sd.iter().find(|(id, _)| id == sd_id)?;
        params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn audit(&self, name: &str) -> Option<&str> {
        self.param("roomgate@32473", name)
    }
}

/// `-` or `[ID name="value" …]…`, then an optional ` MSG`. Values unescape `\"`,
/// `\\` and `\]`.
fn parse_sd(s: &str) -> Result<(Vec<SdElement>, String), String> {
    if let Some(msg) = s.strip_prefix('-') {
        return Ok((Vec::new(), msg.strip_prefix(' ').unwrap_or(msg).to_string()));
    }
    let mut chars = s.chars().peekable();
    let mut elements = Vec::new();
    while chars.peek() == Some(&'[') {
        chars.next();
        let id: String = chars.by_ref().take_while(|c| *c != ' ' && *c != ']').collect();
        let mut params = Vec::new();
        loop {
            let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if chars.next() != Some('"') {
                return Err(format!("parameter {name} of {id} has no quoted value"));
            }
            let mut value = String::new();
            loop {
                match chars.next().ok_or("unterminated value")? {
                    '\\' => value.push(chars.next().ok_or("dangling escape")?),
                    '"' => break,
                    ']' => return Err("an unescaped ] in a value".into()),
                    c => value.push(c),
                }
            }
            params.push((name, value));
            match chars.next() {
                Some(' ') => continue,
                Some(']') => break,
                other => return Err(format!("{other:?} after a parameter")),
            }
        }
        elements.push((id, params));
    }
    let msg: String = chars.collect();
    Ok((elements, msg.strip_prefix(' ').unwrap_or(&msg).to_string()))
}

// ---------------------------------------------------------------------------
// The tests.

/// The service with `[log]` `log`, and its folder.
fn service(log: &str) -> (TempDir, PathBuf, Proc) {
    service_at_level(log, "info")
}

/// The service with `[log]` `log` and `--log-level LEVEL` (which must show the
/// "listening on" line the harness waits for).
fn service_at_level(log: &str, level: &str) -> (TempDir, PathBuf, Proc) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &format!("[log]\n{log}\n"));
    let proc = Proc::spawn_with(&config, &["--log-level", level], &[]);
    (dir, config, proc)
}

/// A failed and a successful admin login; returns the secrets that were used or
/// handed out (the enrollment code, the wrong password, the credential).
async fn failed_and_successful_login(dir: &Path, config: &Path, proc: &Proc) -> Vec<String> {
    let client = client_for(&dir.join("certs/cert.pem"), false);
    let url = proc.url("/api/v1/auth/login");
    let failed = try_login_at(&client, &url, "admin", WRONG_PASSWORD).await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let code = common::enrollment_code(config);
    let credential = login_at(&client, &url, "admin", &code).await;
    vec![WRONG_PASSWORD.into(), code.clone(), code.replace('-', ""), credential]
}

/// Facility codes (RFC 5424 §6.2.1).
const AUTHPRIV: u16 = 10;
const LOCAL3: u16 = 19;
const DAEMON: u16 = 3;

/// The two login events, checked field by field; then no secret anywhere.
async fn check_login_events(collector: &Rsyslog, proc: &Proc, facility: u16, secrets: &[String]) {
    let failure = collector
        .wait_for("failed login", |m| {
            m.msgid == "login" && m.audit("outcome") == Some("failure")
        })
        .await;
    let success = collector
        .wait_for("successful login", |m| {
            m.msgid == "login" && m.audit("outcome") == Some("success")
        })
        .await;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for (m, outcome, severity) in [(&failure, "failure", 4), (&success, "success", 5)] {
        assert_eq!(
            m.pri,
            facility * 8 + severity,
            "the facility and the severity of a {outcome}: {m:?}"
        );
        assert_eq!(m.app_name, "roomgate");
        assert_eq!(m.procid, proc.child.id().to_string());
        assert_eq!(m.hostname, hostname.trim());
        let t = humantime::parse_rfc3339_weak(&m.timestamp).unwrap_or_else(|e| panic!("{}: {e}", m.timestamp));
        let age = std::time::SystemTime::now().duration_since(t).unwrap_or_default();
        assert!(age < Duration::from_secs(120), "a current UTC time: {}", m.timestamp);
        assert!(m.timestamp.ends_with('Z'));
        assert_eq!(m.audit("action"), Some("login"));
        assert_eq!(m.audit("outcome"), Some(outcome));
        assert_eq!(m.audit("account"), Some("admin"));
        assert_eq!(m.audit("client_id"), Some(common::CLIENT_ID));
        assert_eq!(m.audit("remote"), Some("127.0.0.1"));
        assert_eq!(m.msg, format!("login {outcome}"));
    }
    assert_no_secret(collector, secrets);
}

fn assert_no_secret(collector: &Rsyslog, secrets: &[String]) {
    let received = collector.received();
    for secret in secrets {
        assert!(secret.len() >= 8, "a real secret: {secret:?}");
        assert!(
            !received.contains(secret.as_str()),
            "a secret reached the collector: {secret}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_events_reach_rsyslog_over_udp_as_rfc5424() {
    let Some(collector) = Rsyslog::start(Listen::Udp, None) else {
        return;
    };
    let (dir, config, proc) = service(&format!("syslog = \"udp://127.0.0.1:{}\"", collector.port));
    let secrets = failed_and_successful_login(dir.path(), &config, &proc).await;
    check_login_events(&collector, &proc, AUTHPRIV, &secrets).await;
    // Audit only: no log line (the "listening on" line is info and roomgate's).
    assert!(
        collector.messages().iter().all(|m| m.audit("action").is_some()),
        "{}",
        collector.received()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_log_lines_reach_rsyslog_over_tcp_with_octet_counting_and_no_secret() {
    let Some(collector) = Rsyslog::start(Listen::Tcp, None) else {
        return;
    };
    // stderr shows only the line the harness waits for: the collector's filter is
    // its own.
    let (dir, config, proc) = service_at_level(
        &format!(
            "syslog = \"tcp://127.0.0.1:{}\"\nsyslog_what = \"all\"\nsyslog_facility = \"local3\"",
            collector.port
        ),
        "warn,roomgate::transport::server=info",
    );
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let mut secrets = failed_and_successful_login(dir.path(), &config, &proc).await;
    // A password set through the API, a key handed out.
    let admin = secrets[3].clone();
    let call = |m: reqwest::Method, p: &str, body: serde_json::Value| {
        with_client_headers(client.request(m, proc.url(p)))
            .header("Authorization", format!("Nureva {admin}"))
            .json(&body)
            .send()
    };
    let patched = call(
        reqwest::Method::PATCH,
        "/api/v1/auth/accounts/integrator",
        json!({"enabled": true, "password": NEW_PASSWORD}),
    )
    .await
    .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let key: serde_json::Value = call(
        reqwest::Method::POST,
        "/api/v1/auth/keys",
        json!({"name": "k1", "account": "general"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    secrets.push(NEW_PASSWORD.into());
    secrets.push(key["key"].as_str().unwrap().to_string());
    collector
        .wait_for("key_create", |m| {
            m.msgid == "key_create" && m.audit("outcome") == Some("success")
        })
        .await;
    // "all": the service's own info lines too, as daemon.info with their target.
    let listening = collector
        .wait_for("listening on", |m| m.msg.starts_with("listening on"))
        .await;
    assert_eq!(listening.pri, DAEMON * 8 + 6, "{listening:?}");
    assert_eq!(listening.msgid, "-");
    assert!(
        listening.audit("target").is_some_and(|t| t.starts_with("roomgate")),
        "{listening:?}"
    );
    // The audit facility is the configured one, whatever the level.
    check_login_events(&collector, &proc, LOCAL3, &secrets).await;
    // An info audit event is on the collector, not on stderr (at warn).
    let stderr = proc.log_text();
    assert!(
        !stderr.contains("outcome=\"success\""),
        "stderr keeps its own level: {stderr}"
    );
}

/// The service sending to `collector` over TLS, trusting `pki`'s CA.
fn tls_service(collector: &Rsyslog, pki: &Pki) -> (TempDir, PathBuf, Proc) {
    service(&format!(
        "syslog = \"tls://localhost:{}\"\nsyslog_ca_file = \"{}\"",
        collector.port,
        pki.ca.display()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_events_reach_rsyslog_over_tls_verified_by_the_ca() {
    let pki = Pki::new("localhost");
    let Some(collector) = Rsyslog::start(Listen::Tls, Some(&pki)) else {
        return;
    };
    let (dir, config, proc) = tls_service(&collector, &pki);
    let secrets = failed_and_successful_login(dir.path(), &config, &proc).await;
    check_login_events(&collector, &proc, AUTHPRIV, &secrets).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_collector_whose_certificate_names_another_host_gets_nothing() {
    let pki = Pki::new("collector.example.net");
    let Some(collector) = Rsyslog::start(Listen::Tls, Some(&pki)) else {
        return;
    };
    let (dir, config, proc) = tls_service(&collector, &pki);
    failed_and_successful_login(dir.path(), &config, &proc).await;
    let refused = common::eventually(Duration::from_secs(20), async || {
        proc.log_text().contains("cannot reach the syslog collector")
    })
    .await;
    assert!(refused.is_some(), "{}", proc.log_text());
    assert!(proc.log_text().contains("not valid for name"), "{}", proc.log_text());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(collector.messages().is_empty(), "{}", collector.received());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_collector_never_slows_a_request_and_drops_are_reported_until_it_is_back() {
    // Nothing listens on the port yet; a queue of two fills at once. The port is
    // held (bound, not listening: connections are refused) until the collector
    // comes up, so that no server another test starts meanwhile can take it.
    let (held, port) = refusing_port();
    let (dir, _config, proc) = service(&format!(
        "syslog = \"tcp://127.0.0.1:{port}\"\nsyslog_queue = 2\nsyslog_what = \"all\""
    ));
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let url = proc.url("/api/v1/auth/login");
    let start = Instant::now();
    for _ in 0..30 {
        let one = Instant::now();
        let status = try_login_at(&client, &url, "general", WRONG_PASSWORD).await.status();
        assert!(
            matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
            "{status}"
        );
        assert!(
            one.elapsed() < Duration::from_secs(2),
            "a request waited {:?}",
            one.elapsed()
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "30 requests took {:?}",
        start.elapsed()
    );
    let reported = common::eventually(Duration::from_secs(10), async || {
        proc.log_text().contains("syslog messages dropped")
    })
    .await;
    assert!(reported.is_some(), "{}", proc.log_text());
    let log = proc.log_text();
    assert!(log.contains("cannot reach the syslog collector"), "{log}");
    let line = log.lines().find(|l| l.contains("syslog messages dropped")).unwrap();
    let dropped: u64 = line
        .split("dropped=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no count: {line}"));
    assert!(dropped > 0, "{line}");
    // Monitoring sees the same count (general, through the vendor's example credential).
    let metrics = client
        .get(proc.url("/api/v1/metrics"))
        .header("Authorization", "Nureva Z2VuZXJhbDo=")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exported: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("roomgate_syslog_dropped_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no roomgate_syslog_dropped_total in {metrics}"));
    assert!(exported >= dropped, "metrics say {exported}, the log {dropped}");
    // The collector comes up: the service reconnects, says what the outage cost,
    // and the next event arrives.
    drop(held);
    let Some(collector) = Rsyslog::start_on(Listen::Tcp, None, port) else {
        return;
    };
    let back = common::eventually(Duration::from_secs(40), async || {
        proc.log_text().contains("the syslog collector is reachable again")
    })
    .await;
    assert!(back.is_some(), "{}", proc.log_text());
    try_login_at(&client, &url, "integrator", WRONG_PASSWORD).await;
    collector
        .wait_for("login after the outage", |m| {
            m.msgid == "login" && m.audit("account") == Some("integrator")
        })
        .await;
}

#[test]
fn a_tls_collector_without_a_usable_ca_file_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-ca.pem"), "no certificate here\n").unwrap();
    let config = write_config(
        dir.path(),
        "[log]\nsyslog = \"tls://localhost:6514\"\nsyslog_ca_file = \"not-a-ca.pem\"\n",
    );
    let out = Command::new(common::bin())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot start the syslog output"), "{stderr}");
    assert!(stderr.contains("not-a-ca.pem: no certificate in the file"), "{stderr}");
}
