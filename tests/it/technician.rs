//! The technician's CLI, run as a separate process against the state of a running
//! service (and with no service): changes are enforced within a second, concurrent
//! CLI and API writes never lose each other, and no secret reaches a log.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    self, Proc, cli, client_for, eventually, login_at, try_login_at, with_client_headers, write_config,
};

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Run the CLI with `input` on standard input (not a terminal).
fn cli_with_input(config: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(common::bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

struct Live {
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    proc: Proc,
    client: reqwest::Client,
}

impl Live {
    fn start(extra: &str) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), extra);
        let proc = Proc::spawn(&config, &[], &[]);
        let client = client_for(&dir.path().join("certs/cert.pem"), false);
        Live {
            _dir: dir,
            config,
            proc,
            client,
        }
    }

    fn code(&self) -> String {
        common::enrollment_code(&self.config)
    }

    async fn login(&self, account: &str, password: &str) -> String {
        login_at(&self.client, &self.proc.url("/api/v1/auth/login"), account, password).await
    }

    async fn status(&self, method: reqwest::Method, path: &str, token: &str) -> StatusCode {
        with_client_headers(self.client.request(method, self.proc.url(path)))
            .header("Authorization", format!("Nureva {token}"))
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn get_json(&self, path: &str, token: &str) -> Value {
        common::send_json(
            with_client_headers(self.client.get(self.proc.url(path)))
                .header("Authorization", format!("Nureva {token}")),
        )
        .await
    }

    /// Create an API key through the API as `admin`; returns the key.
    async fn create_key(&self, admin: &str, name: &str, account: &str) -> String {
        let created = common::send_json(
            with_client_headers(self.client.post(self.proc.url("/api/v1/auth/keys")))
                .header("Authorization", format!("Nureva {admin}"))
                .json(&json!({"name": name, "account": account})),
        )
        .await;
        created["key"].as_str().unwrap().to_string()
    }

    /// Time until `token` gets 401 on `path` (None if not within 1 s).
    async fn refused_within_a_second(&self, path: &str, token: &str) -> Option<Duration> {
        eventually(Duration::from_secs(1), async || {
            self.status(reqwest::Method::GET, path, token).await == StatusCode::UNAUTHORIZED
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_reset_on_a_running_service() {
    let live = Live::start("");
    let old_code = live.code();
    let admin = live.login("admin", &old_code).await;
    let general = live.login("general", "").await;
    let key = live.create_key(&admin, "q-sys", "general").await;
    let admin_key = live.create_key(&admin, "fleet manager", "admin").await;

    let out = cli(&live.config, &["enrollment", "reset"]);
    let new_code = stdout(&out).trim().to_string();
    assert_ne!(new_code, old_code);
    assert_eq!(
        roomgate::testing::canonical(&new_code).as_deref(),
        Some(new_code.as_str())
    );

    let took = live.refused_within_a_second("/api/v1/audio", &admin).await;
    assert!(took.is_some(), "the old admin credential must be refused within 1 s");
    let login_url = live.proc.url("/api/v1/auth/login");
    let old = try_login_at(&live.client, &login_url, "admin", &old_code).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "old code refused");
    let new = try_login_at(&live.client, &login_url, "admin", &new_code.to_lowercase()).await;
    assert_eq!(new.status(), StatusCode::OK, "new code accepted");
    assert_eq!(
        live.status(reqwest::Method::GET, "/api/v1/audio", &general).await,
        StatusCode::OK,
        "general session survives"
    );
    assert_eq!(
        live.status(reqwest::Method::GET, "/api/v1/audio", &key).await,
        StatusCode::OK,
        "keys survive"
    );
    assert_eq!(
        live.status(reqwest::Method::GET, "/api/v1/auth/keys", &admin_key).await,
        StatusCode::OK,
        "keys survive"
    );
    assert_eq!(stdout(&cli(&live.config, &["enrollment", "show"])).trim(), new_code);
    // The service's log holds the audit event of the console's change.
    let found = eventually(Duration::from_secs(2), async || {
        live.proc.log_text().contains("action=\"enrollment_reset\"")
    })
    .await;
    assert!(found.is_some(), "{}", live.proc.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_reset_on_a_running_service() {
    let live = Live::start("");
    let old_code = live.code();
    let admin = live.login("admin", &old_code).await;
    let general = live.login("general", "").await;
    let key = live.create_key(&admin, "extron", "integrator").await;
    stdout(&cli(&live.config, &["account", "enable", "integrator"]));
    let r = with_client_headers(live.client.patch(live.proc.url("/api/v1/audio")))
        .header("Authorization", format!("Nureva {general}"))
        .json(&json!({"speakerBassLevel": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Without --yes it is a usage error and nothing happens.
    let refused = cli(&live.config, &["factory-reset"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        live.status(reqwest::Method::GET, "/api/v1/audio", &general).await,
        StatusCode::OK
    );

    let new_code = stdout(&cli(&live.config, &["factory-reset", "--yes"]))
        .trim()
        .to_string();
    assert_ne!(new_code, old_code);
    for token in [&admin, &general, &key] {
        assert!(
            live.refused_within_a_second("/api/v1/auth/validate", token)
                .await
                .is_some(),
            "every credential dies within 1 s"
        );
    }
    let admin = live.login("admin", &new_code).await;
    let accounts = live.get_json("/api/v1/auth/accounts", &admin).await;
    let states: Vec<(String, bool)> = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap().to_string(),
                a["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("monitor", false),
        ("general", true),
        ("integrator", false),
        ("admin", true),
    ];
    assert_eq!(states, expected.map(|(a, e)| (a.to_string(), e)));
    assert_eq!(live.get_json("/api/v1/auth/keys", &admin).await["keys"], json!([]));
    assert_eq!(
        live.get_json("/api/v1/audio", &admin).await["speakerBassLevel"],
        50,
        "settings back to defaults"
    );
    assert!(
        eventually(Duration::from_secs(2), async || live
            .proc
            .log_text()
            .contains("action=\"factory_reset\""))
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_keys_and_sessions_from_the_console() {
    let live = Live::start("");
    // Accounts.
    let list = stdout(&cli(&live.config, &["account", "list"]));
    assert!(list.starts_with("ACCOUNT"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("integrator") && l.contains("disabled") && l.contains("none")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("admin") && l.contains("enrollment code")),
        "{list}"
    );
    let json_list: Value = serde_json::from_str(&stdout(&cli(&live.config, &["account", "list", "--json"]))).unwrap();
    assert_eq!(json_list.as_array().unwrap().len(), 4);

    stdout(&cli(&live.config, &["account", "enable", "integrator"]));
    let out = cli_with_input(
        &live.config,
        &["account", "set-password", "integrator"],
        "integrator-secret-1\n",
    );
    assert!(stdout(&out).contains("password of integrator set"));
    let too_short = cli_with_input(&live.config, &["account", "set-password", "integrator"], "short\n");
    assert_eq!(too_short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&too_short.stderr).contains("password must be 8 to 128 characters"));
    // Wait for the service to pick the change up (without failed logins, which the
    // login throttle would count), then log in once.
    let admin = live.login("admin", &live.code()).await;
    let picked_up = eventually(Duration::from_secs(1), async || {
        let accounts = live.get_json("/api/v1/auth/accounts", &admin).await;
        accounts["accounts"][2]["enabled"] == true && accounts["accounts"][2]["passwordSet"] == true
    })
    .await;
    assert!(picked_up.is_some(), "the console's change is enforced within 1 s");
    let integrator = live.login("integrator", "integrator-secret-1").await;
    stdout(&cli(&live.config, &["account", "disable", "integrator"]));
    assert!(
        live.refused_within_a_second("/api/v1/audio", &integrator)
            .await
            .is_some()
    );
    let admin_off = cli(&live.config, &["account", "disable", "admin"]);
    assert_eq!(admin_off.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&admin_off.stderr).contains("admin account cannot be disabled"));

    // Keys.
    let created = stdout(&cli(
        &live.config,
        &["keys", "create", "Crestron", "--account", "general", "--json"],
    ));
    let created: Value = serde_json::from_str(&created).unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let works = eventually(Duration::from_secs(1), async || {
        live.status(reqwest::Method::GET, "/api/v1/audio", &key).await == StatusCode::OK
    })
    .await;
    assert!(works.is_some());
    let keys = stdout(&cli(&live.config, &["keys", "list"]));
    assert!(
        keys.contains(&id) && keys.contains("Crestron") && !keys.contains(&key) && !keys.contains(&key[4..]),
        "{keys}"
    );
    let text = stdout(&cli(&live.config, &["keys", "create", "Q-SYS", "--account", "monitor"]));
    assert!(text.contains("key:     rgk_"), "{text}");
    assert_eq!(
        cli(&live.config, &["keys", "create", "crestron", "--account", "general"])
            .status
            .code(),
        Some(1)
    );
    stdout(&cli(&live.config, &["keys", "revoke", &id]));
    assert!(live.refused_within_a_second("/api/v1/audio", &key).await.is_some());
    assert_eq!(cli(&live.config, &["keys", "revoke", &id]).status.code(), Some(1));

    // Sessions.
    let general = live.login("general", "").await;
    let sessions: Value = serde_json::from_str(&stdout(&cli(&live.config, &["sessions", "list", "--json"]))).unwrap();
    let sid = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["account"] == "general")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let table = stdout(&cli(&live.config, &["sessions", "list"]));
    assert!(table.contains(&sid) && table.contains("roomgate-tests 1.0.0") && !table.contains(&general));
    stdout(&cli(&live.config, &["sessions", "revoke", &sid]));
    assert!(live.refused_within_a_second("/api/v1/audio", &general).await.is_some());
}

#[test]
fn commands_work_without_a_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let code = stdout(&cli(&config, &["enrollment", "show"])).trim().to_string();
    stdout(&cli(&config, &["account", "enable", "monitor"]));
    stdout(&cli_with_input(
        &config,
        &["account", "set-password", "monitor"],
        "monitor-pass-1\n",
    ));
    let key = stdout(&cli(
        &config,
        &["keys", "create", "dashboard", "--account", "monitor", "--json"],
    ));
    let new_code = stdout(&cli(&config, &["enrollment", "reset"])).trim().to_string();
    assert_ne!(code, new_code);
    let state: Value = serde_json::from_slice(&std::fs::read(dir.path().join("state/state.json")).unwrap()).unwrap();
    assert_eq!(state["enrollmentCode"], new_code);
    assert_eq!(state["accounts"]["monitor"]["enabled"], true);
    assert_eq!(state["apiKeys"].as_object().unwrap().len(), 1);
    let key: Value = serde_json::from_str(&key).unwrap();
    assert!(
        !String::from_utf8(std::fs::read(dir.path().join("state/state.json")).unwrap())
            .unwrap()
            .contains(key["key"].as_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_show_and_regenerate_while_running() {
    let live = Live::start("");
    let show = stdout(&cli(&live.config, &["cert", "show"]));
    let logged = live.proc.log_text();
    let fp = show
        .lines()
        .find_map(|l| l.strip_prefix("sha256:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        logged.contains(&fp),
        "the CLI and the start-up log agree on the fingerprint"
    );
    assert!(
        show.contains("DNS:localhost") && show.contains("IP:127.0.0.1") && show.contains("valid until:"),
        "{show}"
    );
    assert!(show.contains("pin:         sha256//"), "{show}");

    let cert_path = live._dir.path().join("certs/cert.pem");
    let old_pem = std::fs::read(&cert_path).unwrap();
    let out = stdout(&cli(&live.config, &["cert", "regenerate"]));
    let new_fp = out.trim().strip_prefix("sha256: ").unwrap().to_string();
    assert_ne!(new_fp, fp);
    assert_ne!(std::fs::read(&cert_path).unwrap(), old_pem);
    // New handshakes present the new certificate within a second, no restart.
    let served = eventually(Duration::from_secs(1), async || {
        let fresh = client_for(&cert_path, false);
        with_client_headers(fresh.get(live.proc.url("/api/v1")))
            .send()
            .await
            .is_ok()
    })
    .await;
    assert!(served.is_some(), "the new certificate is served within 1 s");
    let info: Value = serde_json::from_str(&stdout(&cli(&live.config, &["cert", "show", "--json"]))).unwrap();
    assert_eq!(info["sha256Fingerprint"], new_fp);
    assert!(
        eventually(Duration::from_secs(2), async || live
            .proc
            .log_text()
            .contains(&format!("certificate reloaded; sha256 fingerprint {new_fp}")))
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cli_and_api_writes_are_all_kept() {
    let live = Live::start("[limits]\nmax_api_keys = 500\nrequests_per_minute = 0\n");
    let admin = live.login("admin", &live.code()).await;
    let config = live.config.clone();
    let cli_writers = std::thread::spawn(move || {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let config = config.clone();
                std::thread::spawn(move || {
                    cli(
                        &config,
                        &["keys", "create", &format!("cli-{i}"), "--account", "monitor"],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().status.success())
            .filter(|ok| *ok)
            .count()
    });
    let mut api = Vec::new();
    for i in 0..50 {
        let req = with_client_headers(live.client.post(live.proc.url("/api/v1/auth/keys")))
            .header("Authorization", format!("Nureva {admin}"))
            .json(&json!({"name": format!("api-{i}"), "account": "monitor"}));
        api.push(tokio::spawn(req.send()));
    }
    for r in api {
        assert_eq!(r.await.unwrap().unwrap().status(), StatusCode::CREATED);
    }
    assert_eq!(
        tokio::task::spawn_blocking(move || cli_writers.join().unwrap())
            .await
            .unwrap(),
        50
    );
    let check = async || {
        let keys = live.get_json("/api/v1/auth/keys", &admin).await;
        let names: std::collections::HashSet<String> = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_string())
            .collect();
        (0..50).all(|i| names.contains(&format!("cli-{i}")) && names.contains(&format!("api-{i}")))
            && names.len() == 100
    };
    assert!(
        eventually(Duration::from_secs(2), check).await.is_some(),
        "all 100 keys present in the service"
    );
    let listed: Value = serde_json::from_str(&stdout(&cli(&live.config, &["keys", "list", "--json"]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 100, "and on disk");
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    let paths: &[&[&str]] = &[
        &[],
        &["serve"],
        &["enrollment"],
        &["enrollment", "show"],
        &["enrollment", "reset"],
        &["factory-reset"],
        &["account"],
        &["account", "list"],
        &["account", "enable"],
        &["account", "disable"],
        &["account", "set-password"],
        &["keys"],
        &["keys", "list"],
        &["keys", "create"],
        &["keys", "revoke"],
        &["sessions"],
        &["sessions", "list"],
        &["sessions", "revoke"],
        &["cert"],
        &["cert", "show"],
        &["cert", "regenerate"],
        &["config"],
        &["config", "check"],
    ];
    for path in paths {
        let out = Command::new(common::bin()).args(*path).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{path:?} --help");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage: roomgate"), "{path:?}");
        assert!(text.contains("--config"), "{path:?}: every command accepts --config");
    }
    for bad in [
        &["account", "enable", "Admin"][..],
        &["keys", "create", "x"],
        &["sessions", "revoke"],
        &["bogus"],
    ] {
        let out = Command::new(common::bin()).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_log_in_a_full_run_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[policy]\nlegacy_basic_credentials = true\nlogin_failures_before_delay = 2\n",
    );
    // The most verbose level there is, for the service and every console command.
    let proc = Proc::spawn(&config, &[], &[("RUST_LOG", "trace")]);
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let mut cli_logs = String::new();
    let mut run = |args: &[&str], input: Option<&str>| -> String {
        let mut cmd = Command::new(common::bin());
        cmd.arg("--config").arg(&config).args(args).env("RUST_LOG", "trace");
        let out = match input {
            Some(text) => {
                let mut child = cmd
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
            None => cmd.output().unwrap(),
        };
        cli_logs.push_str(&String::from_utf8_lossy(&out.stderr));
        stdout(&out)
    };
    let url = |p: &str| proc.url(p);
    let code1 = run(&["enrollment", "show"], None).trim().to_string();
    let admin = login_at(&client, &url("/api/v1/auth/login"), "admin", &code1).await;
    let auth = format!("Nureva {admin}");
    // API: accounts, keys, sessions, policy, a failed and a legacy login.
    let call = |m: reqwest::Method, p: &str, body: Option<Value>| {
        let mut r = with_client_headers(client.request(m, url(p))).header("Authorization", auth.clone());
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    call(
        reqwest::Method::PATCH,
        "/api/v1/auth/accounts/integrator",
        Some(json!({"enabled": true, "password": "Integr4tor-Secret"})),
    )
    .await
    .unwrap();
    let api_key: Value = call(
        reqwest::Method::POST,
        "/api/v1/auth/keys",
        Some(json!({"name": "k1", "account": "general"})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let api_key = api_key["key"].as_str().unwrap().to_string();
    call(
        reqwest::Method::PATCH,
        "/api/v1/security/policy",
        Some(json!({"sessionLifetimeSecs": 86400})),
    )
    .await
    .unwrap();
    // Failed logins until the throttle answers 429, from another address.
    let attacker = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("certs/cert.pem")).unwrap()).unwrap(),
        )
        .local_address(std::net::IpAddr::from([127, 0, 0, 9]))
        .build()
        .unwrap();
    let mut last = StatusCode::OK;
    for _ in 0..3 {
        last = try_login_at(
            &attacker,
            &url("/api/v1/auth/login"),
            "integrator",
            "Wr0ng-Guess-Secret",
        )
        .await
        .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // An event stream opened with a key.
    let mut stream = with_client_headers(client.get(url("/api/v1/events")))
        .header("Authorization", format!("Nureva {api_key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    call(
        reqwest::Method::PATCH,
        "/api/v1/audio",
        Some(json!({"audienceMute": true})),
    )
    .await
    .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.chunk()).await;
    let legacy = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("integrator:Integr4tor-Secret")
    };
    with_client_headers(client.get(url("/api/v1/audio")))
        .header("Authorization", format!("Nureva {legacy}"))
        .send()
        .await
        .unwrap();
    with_client_headers(client.get(url("/api/v1/audio")))
        .header("Authorization", format!("Bearer {api_key}"))
        .send()
        .await
        .unwrap();
    // Console: password, keys, resets.
    run(
        &["account", "set-password", "general"],
        Some("Gener4l-Console-Secret\n"),
    );
    let cli_key: Value = serde_json::from_str(&run(
        &["keys", "create", "k2", "--account", "integrator", "--json"],
        None,
    ))
    .unwrap();
    let cli_key = cli_key["key"].as_str().unwrap().to_string();
    run(&["sessions", "list"], None);
    run(&["keys", "list"], None);
    let code2 = run(&["enrollment", "reset"], None).trim().to_string();
    // The reset ends the old admin session; once it is refused, the new code works.
    let old_session_refused = eventually(Duration::from_secs(1), async || {
        with_client_headers(client.get(url("/api/v1/auth/validate")))
            .header("Authorization", auth.clone())
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(old_session_refused.is_some());
    let admin2 = login_at(&client, &url("/api/v1/auth/login"), "admin", &code2).await;
    call(
        reqwest::Method::PATCH,
        "/api/v1/auth/accounts/admin",
        Some(json!({"password": "Adm1n-New-Secret", "currentPassword": "x"})),
    )
    .await
    .unwrap();
    run(&["cert", "regenerate"], None);
    let code3 = run(&["factory-reset", "--yes"], None).trim().to_string();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let state: Value = serde_json::from_slice(&std::fs::read(dir.path().join("state/state.json")).unwrap()).unwrap();
    let signing_key = state["signingKey"].as_str().unwrap().to_string();
    let (_, log) = proc.terminate();
    let all = format!("{}\n{}", log.join("\n"), cli_logs);
    assert!(all.contains("roomgate::audit"), "audit events are there");
    for action in [
        "login",
        "account_enable",
        "password_change",
        "key_create",
        "policy_change",
        "enrollment_reset",
        "factory_reset",
        "certificate_regenerate",
        "legacy_login",
    ] {
        assert!(
            all.contains(&format!("action=\"{action}\"")),
            "audit event {action} missing"
        );
    }
    for secret in [
        code1.as_str(),
        &code2,
        &code3,
        &code1.replace('-', ""),
        &admin,
        &admin2,
        &api_key,
        &api_key[4..],
        &cli_key,
        &legacy,
        &signing_key,
        "Integr4tor-Secret",
        "Wr0ng-Guess-Secret",
        "Gener4l-Console-Secret",
        "Adm1n-New-Secret",
    ] {
        assert!(!all.contains(secret), "a secret reached a log");
    }
}

#[test]
fn factory_reset_brings_back_the_factory_code_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("label-code"), "PQR-234-XYZ\n").unwrap();
    let config = write_config(dir.path(), "[enrollment]\ncode_file = \"label-code\"\n");
    assert_eq!(stdout(&cli(&config, &["enrollment", "show"])).trim(), "PQR-234-XYZ");
    let reset = stdout(&cli(&config, &["enrollment", "reset"])).trim().to_string();
    assert_ne!(reset, "PQR-234-XYZ", "an enrollment reset makes a new random code");
    assert_eq!(stdout(&cli(&config, &["factory-reset", "--yes"])).trim(), "PQR-234-XYZ");
    // A bad code file is reported without echoing its content.
    std::fs::write(dir.path().join("label-code"), "NOT-A-CODE-SECRET").unwrap();
    let out = cli(&config, &["factory-reset", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("label-code") && !err.contains("NOT-A-CODE-SECRET"),
        "{err}"
    );
}

/// A file of root's outside the state folder, mode 0644: what a link planted by the
/// service user points at. Nothing the console does may change it.
struct RootFile(std::path::PathBuf);

impl RootFile {
    fn new(home: &Path, name: &str) -> RootFile {
        let path = home.join(name);
        std::fs::write(&path, "root's own file\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        RootFile(path)
    }

    fn assert_untouched(&self) {
        let m = std::fs::symlink_metadata(&self.0).unwrap();
        let content = std::fs::read_to_string(&self.0).unwrap_or_default();
        assert!(content == "root's own file\n", "{} was written to", self.0.display());
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (0, 0, 0o644),
            "{}",
            self.0.display()
        );
    }
}

/// The finding this guards against: the state folder belongs to the service user (as
/// the package makes it), who plants `state.lock` and `.state.json.tmp` as links to
/// root's files; then the technician runs the console as root. A linked lock is
/// refused (replacing it would break the lock a running service holds); a linked
/// temp file is removed and made anew, so `enrollment reset` succeeds and leaves a
/// regular `state.json`. Root's files keep their content, owner and mode.
#[test]
fn console_as_root_does_not_follow_links_planted_in_the_state_folder() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("not root: the service user's folder cannot be made; test skipped");
        return;
    }
    let nobody = 65534;
    let dir = tempfile::tempdir().unwrap();
    let root_home = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::chown(&state, Some(nobody), Some(nobody)).unwrap();
    let code = stdout(&cli(&config, &["enrollment", "show"])).trim().to_string();

    // What a compromised service account can do in its own folder.
    let (lock_target, tmp_target) = (
        RootFile::new(root_home.path(), "lock"),
        RootFile::new(root_home.path(), "tmp"),
    );
    std::fs::remove_file(state.join("state.lock")).unwrap();
    std::os::unix::fs::symlink(&lock_target.0, state.join("state.lock")).unwrap();
    std::os::unix::fs::symlink(&tmp_target.0, state.join(".state.json.tmp")).unwrap();
    for args in [["enrollment", "show"], ["enrollment", "reset"]] {
        let out = cli(&config, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} must refuse: {err}");
        assert!(err.contains("state.lock") && err.contains("symbolic link"), "{err}");
        assert!(!err.contains(&code), "a secret in a message: {err}");
        lock_target.assert_untouched();
        tmp_target.assert_untouched();
    }

    // With a real lock file again, the linked temp file is replaced, not followed.
    std::fs::remove_file(state.join("state.lock")).unwrap();
    let new_code = stdout(&cli(&config, &["enrollment", "reset"])).trim().to_string();
    assert_ne!(new_code, code);
    tmp_target.assert_untouched();
    assert!(!std::fs::read_to_string(&tmp_target.0).unwrap().contains(&new_code));
    let m = std::fs::symlink_metadata(state.join("state.json")).unwrap();
    assert!(m.is_file(), "state.json must be a regular file, not a link");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (nobody, nobody, 0o600));
    assert!(std::fs::symlink_metadata(state.join(".state.json.tmp")).is_err());
    assert_eq!(stdout(&cli(&config, &["enrollment", "show"])).trim(), new_code);
}
