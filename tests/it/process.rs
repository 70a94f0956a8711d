//! The real binary: restart keeps everything, SIGTERM drains and exits 0, the CLI,
//! the default config location, and no secret in a trace-level log.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, Proc, cli, client_for, wait_timeout, with_client_headers, write_config};

async fn login(client: &reqwest::Client, p: &Proc, account: &str, password: &str) -> String {
    common::login_at(client, &p.url("/api/v1/auth/login"), account, password).await
}

async fn get(client: &reqwest::Client, p: &Proc, path: &str, token: &str) -> reqwest::Response {
    with_client_headers(client.get(p.url(path)))
        .header("Authorization", format!("Nureva {token}"))
        .send()
        .await
        .unwrap()
}

fn fingerprint_in(log: &str) -> String {
    log.lines()
        .find_map(|l| l.split("certificate sha256 fingerprint ").nth(1))
        .expect("fingerprint is logged")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_credentials_settings_code_and_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let first = Proc::spawn(&config, &[], &[]);
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let code = common::enrollment_code(&config);
    let admin = login(&client, &first, "admin", &code).await;
    let general = login(&client, &first, "general", "").await;
    let r = with_client_headers(client.patch(first.url("/api/v1/audio")))
        .header("Authorization", format!("Nureva {general}"))
        .json(&json!({"speakerBassLevel": 77, "noiseReductionLevel": "Low"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let fp1 = fingerprint_in(&first.log_text());
    let (status, _) = first.terminate();
    assert!(status.success());

    let second = Proc::spawn(&config, &[], &[]);
    assert_eq!(fingerprint_in(&second.log_text()), fp1, "same certificate");
    for token in [&admin, &general] {
        assert_eq!(
            get(&client, &second, "/api/v1/auth/validate", token).await.status(),
            StatusCode::OK
        );
    }
    let audio: Value = get(&client, &second, "/api/v1/audio", &general)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (audio["speakerBassLevel"].clone(), audio["noiseReductionLevel"].clone()),
        (json!(77), json!("Low"))
    );
    let hw: Value = get(&client, &second, "/api/v1/audio/hardware", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hw["enrollmentCode"], code);
    assert_eq!(common::enrollment_code(&config), code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_streams_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[limits]\ndrain_timeout = \"5s\"\n");
    let p = Proc::spawn(&config, &[], &[]);
    let client = client_for(&dir.path().join("certs/cert.pem"), true);
    let mut stream = with_client_headers(client.get(p.url("/api/v1/heartbeat")))
        .send()
        .await
        .unwrap();
    assert!(stream.chunk().await.unwrap().is_some());
    let started = std::time::Instant::now();
    let (status, log) = p.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "open streams must not hold up shutdown"
    );
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends at shutdown");
    assert!(log.iter().any(|l| l.contains("SIGTERM received")));
}

#[test]
fn sigint_also_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let mut p = Proc::spawn(&config, &[], &[]);
    p.signal("INT");
    let status = wait_timeout(&mut p.child, Duration::from_secs(15));
    assert!(status.success());
}

#[test]
fn listen_flag_and_port_zero_report_the_real_address() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[server]\nlisten = \"127.0.0.1:1\"\n");
    let p = Proc::spawn(&config, &["--listen", "127.0.0.1:0"], &[]);
    assert_ne!(p.addr.port(), 0);
    assert_ne!(p.addr.port(), 1);
    assert!(std::net::TcpStream::connect(p.addr).is_ok());
}

#[test]
fn state_and_cert_dir_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let state = dir.path().join("elsewhere/state");
    let certs = dir.path().join("elsewhere/certs");
    let _p = Proc::spawn(
        &config,
        &[
            "--state-dir",
            state.to_str().unwrap(),
            "--cert-dir",
            certs.to_str().unwrap(),
        ],
        &[],
    );
    assert!(state.join("state.json").exists());
    assert!(certs.join("cert.pem").exists());
    assert!(!dir.path().join("state").exists());
    let shown = cli(&config, &["enrollment", "show", "--state-dir", state.to_str().unwrap()]);
    assert!(shown.status.success());
}

#[test]
fn a_fresh_checkout_runs_from_the_default_config() {
    // The shipped config, in a folder laid out like the repository.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("device-config")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/device-config/roomgate.toml"),
        root.path().join("device-config/roomgate.toml"),
    )
    .unwrap();
    let out = std::process::Command::new(common::bin())
        .current_dir(root.path())
        .args(["enrollment", "show"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(
        roomgate::testing::canonical(code.trim()).as_deref() == Some(code.trim()),
        "{code}"
    );
    assert!(
        root.path().join("var/state.json").exists(),
        "state in var/ at the top level"
    );

    // No config file at all: the embedded default, resolved the same way.
    let bare = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::bin())
        .current_dir(bare.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "<embedded default>: ok");
}

#[test]
fn config_check_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(dir.path(), "");
    let out = cli(&good, &["config", "check"]);
    assert_eq!(out.status.code(), Some(0));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[limits]\nidle_timeout = \"soon\"\n").unwrap();
    let out = cli(&bad, &["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.toml: limits.idle_timeout: "), "{err}");
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[limits]\nidle_timeot = \"5s\"\n").unwrap();
    let err = String::from_utf8(cli(&typo, &["config", "check"]).stderr).unwrap();
    assert!(err.contains("typo.toml: limits.idle_timeot: unknown field"), "{err}");
    assert!(!err.contains(" | "), "no source excerpt in the one-line reason: {err}");
    // Usage errors exit with 2; --help with 0.
    let usage = std::process::Command::new(common::bin())
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["enrollment", "show", "--help"],
        &["config", "check", "--help"],
    ] {
        let help = std::process::Command::new(common::bin()).args(args).output().unwrap();
        assert_eq!(help.status.code(), Some(0), "{args:?}");
    }
    // A service refused at start-up (bad config) exits 1 with the reason.
    let out = std::process::Command::new(common::bin())
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let p = Proc::spawn(&config, &[], &[("RUST_LOG", "trace")]);
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let h1 = client_for(&dir.path().join("certs/cert.pem"), true);
    let code = common::enrollment_code(&config);
    let admin = login(&client, &p, "admin", &code.to_lowercase()).await;
    let general = login(&client, &p, "general", "").await;
    // Failed logins with secret-looking passwords.
    for pw in ["Sup3r-Secret-Guess", code.replace('-', "").as_str()] {
        with_client_headers(client.post(p.url("/api/v1/auth/login")))
            .json(&json!({"account": "integrator", "password": pw}))
            .send()
            .await
            .unwrap();
    }
    for c in [&client, &h1] {
        for path in ["/api/v1/audio", "/api/v1/audio/hardware", "/api/v1/auth/validate"] {
            assert_eq!(get(c, &p, path, &admin).await.status(), StatusCode::OK);
        }
        get(c, &p, "/api/v1/audio", "not-a-token-but-secret-looking").await;
    }
    let r = with_client_headers(client.post(p.url("/api/v1/auth/logout")))
        .header("Authorization", format!("Bearer {general}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let state: Value = serde_json::from_slice(&std::fs::read(dir.path().join("state/state.json")).unwrap()).unwrap();
    let signing_key = state["signingKey"].as_str().unwrap().to_string();
    let key_pem = std::fs::read_to_string(dir.path().join("certs/key.pem")).unwrap();
    let key_body: String = key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let (_, log) = p.terminate();
    let log = log.join("\n");
    assert!(log.len() > 10_000, "trace logging was on ({} bytes)", log.len());
    assert!(log.contains("roomgate::audit"), "audit events are logged");
    for secret in [
        code.as_str(),
        &code.to_lowercase(),
        &code.replace('-', ""),
        "Sup3r-Secret-Guess",
        &admin,
        &admin[..32],
        &general,
        "not-a-token-but-secret-looking",
        &signing_key,
        &key_body[..40],
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
