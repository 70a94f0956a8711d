//! Crash safety: the real binary, concurrent writes, SIGKILL at random moments, over
//! and over. Every restart must load the state, and every change acknowledged with
//! a 2xx before the kill must be there afterwards.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, Proc, cli, client_for, login_at, try_login_at, with_client_headers, write_config};

const ROUNDS: usize = 32;

/// What the writers got acknowledged, and what was in flight when the kill came.
#[derive(Default)]
struct Ledger {
    keys: HashSet<String>,
    password: (Option<String>, Option<String>),
    treble: (Option<u64>, Option<u64>),
}

/// A small xorshift generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Check a restarted device against the ledger; returns the password and treble it
/// really has, the baseline for the next round.
async fn check_round(client: &reqwest::Client, p: &Proc, code: &str, ledger: &Ledger) -> (Option<String>, u64) {
    let admin = login_at(client, &p.url("/api/v1/auth/login"), "admin", code).await;
    let get = |path: &str| {
        with_client_headers(client.get(p.url(path)))
            .header("Authorization", format!("Nureva {admin}"))
            .send()
    };
    let keys: Value = get("/api/v1/auth/keys").await.unwrap().json().await.unwrap();
    let names: HashSet<String> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = ledger.keys.difference(&names).collect();
    assert!(missing.is_empty(), "acknowledged keys lost: {missing:?}");

    let audio: Value = get("/api/v1/audio").await.unwrap().json().await.unwrap();
    let treble = audio["speakerTrebleLevel"].as_u64().unwrap();
    if let (Some(acked), in_flight) = ledger.treble {
        assert!(
            treble == acked || Some(treble) == in_flight,
            "treble {treble}, acknowledged {acked}, in flight {in_flight:?}"
        );
    }

    let mut password = None;
    if let (Some(acked), in_flight) = &ledger.password {
        let url = p.url("/api/v1/auth/login");
        if try_login_at(client, &url, "integrator", acked).await.status() == StatusCode::OK {
            password = Some(acked.clone());
        } else if let Some(pw) = in_flight
            && try_login_at(client, &url, "integrator", pw).await.status() == StatusCode::OK
        {
            password = Some(pw.clone());
        }
        assert!(
            password.is_some(),
            "the acknowledged (or in-flight) integrator password must work"
        );
    }
    (password, treble)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_loses_an_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[limits]\nrequests_per_minute = 0\nmax_api_keys = 10000\n[policy]\nlogin_failures_before_delay = 100\n",
    );
    let code = common::enrollment_code(&config);
    assert!(cli(&config, &["account", "enable", "integrator"]).status.success());
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut kills = 0;

    for round in 0..ROUNDS {
        // The state must load after every kill.
        let mut p = Proc::spawn(&config, &[], &[]);
        let client = client_for(&dir.path().join("certs/cert.pem"), false);
        let snapshot = std::mem::take(&mut *ledger.lock().unwrap());
        let (password, treble) = check_round(&client, &p, &code, &snapshot).await;
        *ledger.lock().unwrap() = Ledger {
            keys: snapshot.keys,
            password: (password, None),
            treble: (Some(treble), None),
        };
        let admin = login_at(&client, &p.url("/api/v1/auth/login"), "admin", &code).await;
        let auth = format!("Nureva {admin}");

        let mut writers = Vec::new();
        // Keys: every 201 must survive.
        {
            let (client, url, auth, ledger) = (
                client.clone(),
                p.url("/api/v1/auth/keys"),
                auth.clone(),
                Arc::clone(&ledger),
            );
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("k{round}-{i}");
                    let r = with_client_headers(client.post(&url))
                        .header("Authorization", &auth)
                        .json(&json!({"name": name, "account": "monitor"}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            ledger.lock().unwrap().keys.insert(name);
                        }
                        _ => break,
                    }
                }
            }));
        }
        // Password changes: the last 200 (or the one in flight) must work.
        {
            let (client, url, auth, ledger) = (
                client.clone(),
                p.url("/api/v1/auth/accounts/integrator"),
                auth.clone(),
                Arc::clone(&ledger),
            );
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let pw = format!("integrator-{round}-{i}");
                    ledger.lock().unwrap().password.1 = Some(pw.clone());
                    let r = with_client_headers(client.patch(&url))
                        .header("Authorization", &auth)
                        .json(&json!({"password": pw}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == StatusCode::OK => {
                            let mut l = ledger.lock().unwrap();
                            l.password = (Some(pw), None);
                        }
                        _ => break,
                    }
                }
            }));
        }
        // Settings: the last 200 (or the one in flight) must be the value.
        {
            let (client, url, auth, ledger) = (
                client.clone(),
                p.url("/api/v1/audio"),
                auth.clone(),
                Arc::clone(&ledger),
            );
            writers.push(tokio::spawn(async move {
                for i in 0u64.. {
                    let v = (u64::try_from(round).unwrap() * 7 + i) % 101;
                    ledger.lock().unwrap().treble.1 = Some(v);
                    let r = with_client_headers(client.patch(&url))
                        .header("Authorization", &auth)
                        .json(&json!({"speakerTrebleLevel": v}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == StatusCode::OK => {
                            let mut l = ledger.lock().unwrap();
                            l.treble = (Some(v), None);
                        }
                        _ => break,
                    }
                }
            }));
        }

        tokio::time::sleep(Duration::from_millis(30 + rng.next() % 370)).await;
        p.child.kill().unwrap(); // SIGKILL
        p.child.wait().unwrap();
        kills += 1;
        for w in writers {
            let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
        }
    }
    assert!(!ledger.lock().unwrap().keys.is_empty(), "the writers made progress");
    assert!(kills >= 30);
    let p = Proc::spawn(&config, &[], &[]);
    let client = client_for(&dir.path().join("certs/cert.pem"), false);
    let snapshot = std::mem::take(&mut *ledger.lock().unwrap());
    check_round(&client, &p, &code, &snapshot).await;
    println!("{kills} kills, {} acknowledged keys kept", snapshot.keys.len());
}
