//! Operator certificates with a real CA made by `openssl`: a request made by the
//! device (API and console), signed with `openssl x509 -req` / `openssl ca`,
//! installed, served live (curl verifies the device with `--cacert ca.pem`, no
//! `-k`), the refusals that change nothing, and the expiry warning.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, CLIENT_ID, CLIENT_VERSION, Device, Proc, client_for, curl, error_of, eventually};

/// The device's names: what its requests carry and what a chain must cover.
const NAMES: &str = "[tls]\nhostnames = [\"localhost\"]\nip_addresses = [\"127.0.0.1\"]\n";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA in `dir`: `ca.pem`, `ca.key`, and what `openssl ca` needs.
fn make_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Test Room CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    std::fs::create_dir_all(dir.join("newcerts")).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "1000\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ ca ]\ndefault_ca = testca\n[ testca ]\ndatabase = ./index.txt\nnew_certs_dir = ./newcerts\n\
         certificate = ./ca.pem\nprivate_key = ./ca.key\nserial = ./serial\ndefault_md = sha256\n\
         policy = anything\ncopy_extensions = copy\nunique_subject = no\n[ anything ]\ncommonName = optional\n",
    )
    .unwrap();
}

/// `openssl x509 -req`: sign `csr` for `days`, copying the request's extensions
/// (its SANs) — or, with `extfile`, taking the extensions from that file instead.
fn sign(dir: &Path, csr: &str, out: &str, days: &str, extfile: Option<&str>) -> String {
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        out,
        "-days",
        days,
    ];
    match extfile {
        Some(ext) => args.extend(["-extfile", ext]),
        None => args.extend(["-copy_extensions", "copy"]),
    }
    openssl(dir, &args);
    std::fs::read_to_string(dir.join(out)).unwrap()
}

/// `openssl ca` with explicit dates (`YYYYMMDDHHMMSSZ`), for certificates that
/// are not valid now.
fn sign_dated(dir: &Path, csr: &str, out: &str, start: &str, end: &str) -> String {
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-in",
            csr,
            "-out",
            out,
            "-startdate",
            start,
            "-enddate",
            end,
            "-notext",
        ],
    );
    std::fs::read_to_string(dir.join(out)).unwrap()
}

/// The SHA-256 fingerprint openssl computes for a PEM certificate file.
fn openssl_fingerprint(path: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().split_once('=').unwrap().1.to_string()
}

fn auth(token: &str) -> String {
    format!("Nureva {token}")
}

/// `GET validate` over `client`'s existing connection: its status.
async fn validate_over(client: &reqwest::Client, url: &str, token: &str) -> StatusCode {
    common::with_client_headers(client.get(url))
        .header("Authorization", auth(token))
        .send()
        .await
        .unwrap()
        .status()
}

async fn csr(d: &Device, token: &str, body: Option<Value>) -> Value {
    let mut req = d
        .req(Method::POST, "/api/v1/security/certificate/csr")
        .header("Authorization", auth(token));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn install(client: &reqwest::Client, url: &str, token: &str, chain: &str) -> reqwest::Response {
    common::with_client_headers(client.put(url))
        .header("Authorization", auth(token))
        .json(&json!({"chain": chain}))
        .send()
        .await
        .unwrap()
}

/// `curl --cacert ca.pem https://localhost:PORT/api/v1` (no `-k`): the status.
async fn curl_verified(ca: &Path, port: u16) -> u16 {
    let ca = ca.display().to_string();
    let url = format!("https://localhost:{port}/api/v1");
    let id = format!("Nureva-Client-Id: {CLIENT_ID}");
    let version = format!("Nureva-Client-Version: {CLIENT_VERSION}");
    curl(&["--cacert", &ca, "-H", &id, "-H", &version, &url]).await.status
}

/// curl's exit status for a URL verified against `ca` (0: verified and answered).
fn curl_exit(ca: &Path, port: u16) -> Option<i32> {
    Command::new("curl")
        .args(["--silent", "--output", "/dev/null", "--max-time", "10", "--cacert"])
        .arg(ca)
        .arg(format!("https://localhost:{port}/api/v1"))
        .args(["-H", &format!("Nureva-Client-Id: {CLIENT_ID}")])
        .args(["-H", &format!("Nureva-Client-Version: {CLIENT_VERSION}")])
        .status()
        .unwrap()
        .code()
}

#[tokio::test]
async fn a_request_signed_by_a_ca_is_installed_live_and_curl_verifies_the_device() {
    let d = Device::start_with(NAMES).await;
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = ca_dir.path();
    make_ca(ca);
    let ca_pem = ca.join("ca.pem");
    let admin = d.admin_token().await;
    // Before: the self-signed certificate; curl does not trust it with the CA.
    let before = d.get_json("/api/v1/security/certificate", &admin).await;
    assert_eq!(before["selfSigned"], true, "{before}");
    assert_ne!(curl_exit(&ca_pem, d.port()), Some(0));
    // Connections opened before the installation: HTTP/2 and HTTP/1.1 keep-alive.
    let h1 = d.http1_client();
    let validate = d.url("/api/v1/auth/validate");
    for client in [d.client(), &h1] {
        assert_eq!(validate_over(client, &validate, &admin).await, StatusCode::OK);
    }

    // The request: the device key, the configured names.
    let answer = csr(&d, &admin, None).await;
    assert_eq!(answer["newKey"], false);
    let pem = answer["csr"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"));
    std::fs::write(ca.join("device.csr"), pem).unwrap();
    let text = Command::new("openssl")
        .current_dir(ca)
        .args(["req", "-in", "device.csr", "-noout", "-text", "-verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"),
        "{text}"
    );
    let key_before = std::fs::read(d.dir.path().join("certs/key.pem")).unwrap();

    let chain = sign(ca, "device.csr", "device.pem", "90", None);
    let resp = install(d.client(), &d.url("/api/v1/security/certificate"), &admin, &chain).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["selfSigned"], false, "{doc}");
    assert!(doc["issuer"].as_str().unwrap().contains("Test Room CA"), "{doc}");
    assert_eq!(doc["sha256Fingerprint"], openssl_fingerprint(&ca.join("device.pem")));
    assert_eq!(doc["expiringSoon"], false);
    assert!(doc["daysLeft"].as_i64().unwrap() >= 89, "{doc}");
    assert!(
        doc["names"].as_array().unwrap().contains(&json!("DNS:localhost")),
        "{doc}"
    );
    assert!(!doc.to_string().contains("PRIVATE"), "{doc}");
    assert_eq!(std::fs::read(d.dir.path().join("certs/key.pem")).unwrap(), key_before);

    // Served at once: the real curl verifies the device with the CA, without -k.
    assert_eq!(curl_verified(&ca_pem, d.port()).await, 200);
    let ca_client = client_for(&ca_pem, false);
    let shown = common::send_json(
        common::with_client_headers(ca_client.get(d.url("/api/v1/security/certificate")))
            .header("Authorization", auth(&admin)),
    )
    .await;
    assert_eq!(shown["sha256Fingerprint"], doc["sha256Fingerprint"]);
    // The connections opened before still work (these clients trust only the old
    // self-signed certificate, so a new connection could not be made).
    for client in [d.client(), &h1] {
        assert_eq!(validate_over(client, &validate, &admin).await, StatusCode::OK);
    }
}

#[tokio::test]
async fn chains_that_do_not_fit_the_device_are_refused_and_change_nothing() {
    let d = Device::start_with(NAMES).await;
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = ca_dir.path();
    make_ca(ca);
    let admin = d.admin_token().await;
    let url = d.url("/api/v1/security/certificate");
    let fingerprint = d.get_json("/api/v1/security/certificate", &admin).await["sha256Fingerprint"].clone();
    let files =
        |d: &Device| ["cert.pem", "key.pem"].map(|f| std::fs::read(d.dir.path().join("certs").join(f)).unwrap());
    let before = files(&d);
    // The request's body is optional, but a body that is not an object is refused.
    for bad in ["null", "[]", "true", "{\"newKey\": 1}"] {
        let resp = d
            .req(Method::POST, "/api/v1/security/certificate/csr")
            .header("Authorization", auth(&admin))
            .header("Content-Type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert!(!d.dir.path().join("certs/key.pending.pem").exists());
    std::fs::write(
        ca.join("device.csr"),
        csr(&d, &admin, Some(json!({}))).await["csr"].as_str().unwrap(),
    )
    .unwrap();

    // Another key, with the right names.
    openssl(
        ca,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.csr",
            "-subj",
            "/CN=other",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    let other = sign(ca, "other.csr", "other.pem", "90", None);
    // The device's key, but expired, or not valid yet.
    let expired = sign_dated(ca, "device.csr", "expired.pem", "20200101000000Z", "20200201000000Z");
    let future = sign_dated(ca, "device.csr", "future.pem", "20990101000000Z", "20991231000000Z");
    // The device's key, valid, but without 127.0.0.1.
    std::fs::write(ca.join("dns-only.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    let narrow = sign(ca, "device.csr", "narrow.pem", "90", Some("dns-only.ext"));
    // Out of order: the CA before the leaf.
    let good = sign(ca, "device.csr", "good.pem", "90", None);
    let ca_pem = std::fs::read_to_string(ca.join("ca.pem")).unwrap();
    let reversed = format!("{ca_pem}{good}");
    let key = std::fs::read_to_string(ca.join("other.key")).unwrap();
    let with_key = format!("{good}{key}");

    let cases: [(&str, &str, StatusCode, &str); 7] = [
        ("another key", &other, StatusCode::CONFLICT, "certificate_key_mismatch"),
        (
            "expired",
            &expired,
            StatusCode::BAD_REQUEST,
            "certificate_not_valid_now",
        ),
        (
            "not yet valid",
            &future,
            StatusCode::BAD_REQUEST,
            "certificate_not_valid_now",
        ),
        (
            "names",
            &narrow,
            StatusCode::BAD_REQUEST,
            "certificate_names_not_covered",
        ),
        ("order", &reversed, StatusCode::BAD_REQUEST, "invalid_certificate"),
        (
            "a private key",
            &with_key,
            StatusCode::BAD_REQUEST,
            "invalid_certificate",
        ),
        ("not PEM", "hello", StatusCode::BAD_REQUEST, "invalid_certificate"),
    ];
    for (what, chain, status, code) in cases {
        let resp = install(d.client(), &url, &admin, chain).await;
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (
                body["errors"][0]["code"].as_str(),
                text.contains("PRIVATE") || text.contains("BEGIN")
            ),
            (Some(code), false),
            "{what}: {text}"
        );
        let resp = install(d.client(), &url, &admin, chain).await;
        assert_eq!(resp.status(), status, "{what}");
        assert_eq!(
            d.get_json("/api/v1/security/certificate", &admin).await["sha256Fingerprint"],
            fingerprint,
            "{what}: the live certificate changed"
        );
        assert!(files(&d) == before, "{what}: the files changed");
    }
    let names = install(d.client(), &url, &admin, &narrow)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        names["errors"][0]["message"].as_str().unwrap().contains("127.0.0.1"),
        "{names}"
    );

    // Only an admin; and the well-formed one still installs afterwards.
    let general = d.login("general", "").await;
    let (status, _) = error_of(install(d.client(), &url, &general, &good).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(install(d.client(), &url, &admin, &good).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_new_key_stays_pending_until_its_chain_is_installed() {
    let d = Device::start_with(NAMES).await;
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = ca_dir.path();
    make_ca(ca);
    let admin = d.admin_token().await;
    let certs = d.dir.path().join("certs");
    let key_before = std::fs::read(certs.join("key.pem")).unwrap();
    let answer = csr(&d, &admin, Some(json!({"newKey": true}))).await;
    assert_eq!(answer["newKey"], true);
    std::fs::write(ca.join("new.csr"), answer["csr"].as_str().unwrap()).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    let pending = certs.join("key.pending.pem");
    assert_eq!(std::fs::metadata(&pending).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::read(certs.join("key.pem")).unwrap(),
        key_before,
        "the live key stays"
    );
    let shown = d.get_json("/api/v1/security/certificate", &admin).await;
    assert_eq!(shown["pendingKey"], true, "{shown}");
    // Still served with the old key: the harness client (trusting the old
    // certificate) makes new connections.
    assert_eq!(
        d.http1_client().get(d.url("/api/v1")).send().await.unwrap().status(),
        400
    );

    let chain = sign(ca, "new.csr", "new.pem", "90", None);
    let ca_pem = std::fs::read_to_string(ca.join("ca.pem")).unwrap();
    let resp = install(
        d.client(),
        &d.url("/api/v1/security/certificate"),
        &admin,
        &format!("{chain}{ca_pem}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(
        (doc["pendingKey"].clone(), doc["chainLength"].clone()),
        (json!(false), json!(2))
    );
    assert!(!pending.exists());
    assert_ne!(
        std::fs::read(certs.join("key.pem")).unwrap(),
        key_before,
        "the pending key was promoted"
    );
    assert_eq!(curl_verified(&ca.join("ca.pem"), d.port()).await, 200);
}

/// The console: `cert csr --new-key --out`, `openssl x509 -req`, `cert install`
/// on the built binary; the running service picks it up through its file watch.
/// Signed for 10 days, it is `expiringSoon` in the status and the log warns at
/// the next start.
#[tokio::test]
async fn console_request_and_install_reach_the_running_service_and_a_short_certificate_warns() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), &format!("{NAMES}[log]\nlevel = \"info\"\n"));
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = ca_dir.path();
    make_ca(ca);
    let ca_pem = ca.join("ca.pem");
    let proc = Proc::spawn(&config, &[], &[]);
    let port = proc.addr.port();

    let csr_path = ca.join("console.csr");
    let out = common::cli(
        &config,
        &["cert", "csr", "--new-key", "--out", csr_path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let chain = sign(ca, "console.csr", "console.pem", "10", None);
    assert!(chain.contains("BEGIN CERTIFICATE"));
    let out = common::cli(&config, &["cert", "install", ca.join("console.pem").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(&openssl_fingerprint(&ca.join("console.pem"))),
        "{printed}"
    );

    let picked_up = eventually(Duration::from_secs(10), async || curl_exit(&ca_pem, port) == Some(0)).await;
    assert!(
        picked_up.is_some(),
        "the running service did not switch: {}",
        proc.log_text()
    );
    // A refused one through the console: the code, nothing changed.
    let out = common::cli(&config, &["cert", "install", ca_pem.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("certificate_key_mismatch"));

    let client = client_for(&ca_pem, false);
    let url = format!("https://localhost:{port}");
    let code = common::enrollment_code(&config);
    let admin = common::login_at(&client, &format!("{url}/api/v1/auth/login"), "admin", &code).await;
    let status = common::send_json(
        common::with_client_headers(client.get(format!("{url}/api/v1/status"))).header("Authorization", auth(&admin)),
    )
    .await;
    let health = &status["certificate"];
    assert_eq!(health["expiringSoon"], true, "{status}");
    assert!(matches!(health["daysLeft"].as_i64(), Some(9 | 10)), "{status}");
    assert!(status["leds"].is_object(), "the vendor's members stay: {status}");
    let show = common::cli(&config, &["cert", "show"]);
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.contains("Test Room CA") && show.contains("expiring soon"),
        "{show}"
    );

    let (_, log) = proc.terminate();
    assert!(!log.join("\n").contains("expires at"), "no warning before: {log:?}");
    let proc = Proc::spawn(&config, &[], &[]);
    let found = eventually(Duration::from_secs(5), async || proc.log_text().contains("days left")).await;
    let log = proc.log_text();
    assert!(found.is_some(), "{log}");
    assert!(
        log.contains("WARN") && log.contains("the device certificate expires at"),
        "{log}"
    );
    assert!(!log.contains("PRIVATE KEY"), "{log}");
    let _ = proc.terminate();
}
