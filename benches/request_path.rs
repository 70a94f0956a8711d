//! Criterion benchmarks of the authorization cost, without sockets:
//!
//! - `verify_credential`: a session and an API key checked against the in-memory
//!   index (target ≤ 2 µs);
//! - `request_path/get_audio`: `GET /api/v1/audio` through the whole pipeline (client
//!   headers, route, authentication, role, handler, JSON) for a body-less request;
//! - `login`: a login through the pipeline against the bare argon2 verification it
//!   contains (target: login = argon2 + ≤ 2 ms), with the shipped OWASP cost.
//!
//!   cargo bench --bench request_path
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::Full;
use roomgate::{App, Config};

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    session: String,
    key: String,
}

fn fixture(rt: &tokio::runtime::Runtime, argon_owasp: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let passwords = if argon_owasp {
        ""
    } else {
        "[passwords]\nmemory_kib = 64\niterations = 1\n"
    };
    let text = format!("[server]\nstate_dir = \"state\"\n[limits]\nrequests_per_minute = 0\n{passwords}");
    let config = Config::from_toml(&text, dir.path(), "bench.toml").unwrap();
    let app = rt.block_on(async {
        tokio::task::spawn_blocking(move || App::open(config).unwrap())
            .await
            .unwrap()
    });
    let key = rt.block_on(app.update(|s| {
        let (minted, _) = roomgate::testing::create_key(s, "bench", roomgate::testing::Role::General, 10, 1)?.value;
        Ok(minted.token.to_string())
    }));
    let key = key.unwrap();
    let resp = rt.block_on(roomgate::testing::handle(&app, remote(), login_request()));
    let body = rt
        .block_on(http_body_util::BodyExt::collect(resp.into_body()))
        .unwrap()
        .to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let session = v["authParameters"].as_str().unwrap().to_string();
    Fixture {
        _dir: dir,
        app,
        session,
        key,
    }
}

fn remote() -> SocketAddr {
    "10.0.0.7:40000".parse().unwrap()
}

fn login_request() -> Request<Full<Bytes>> {
    Request::post("/api/v1/auth/login")
        .header("Nureva-Client-Id", "bench")
        .header("Nureva-Client-Version", "1")
        .header("Content-Type", "application/json")
        .header("Content-Length", "35")
        .body(Full::new(Bytes::from_static(br#"{"account":"general","password":""}"#)))
        .unwrap()
}

fn get_audio(token: &str) -> Request<Full<Bytes>> {
    Request::get("/api/v1/audio")
        .header("Nureva-Client-Id", "bench")
        .header("Nureva-Client-Version", "1")
        .header("Authorization", format!("Nureva {token}"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt, false);

    let mut g = c.benchmark_group("verify_credential");
    let state = f.app.snapshot();
    let now = roomgate::testing::now();
    g.bench_function("session", |b| {
        b.iter(|| {
            f.app
                .credentials()
                .verify(std::hint::black_box(&f.session), &state, "bench", now)
                .unwrap()
        })
    });
    g.bench_function("api_key", |b| {
        b.iter(|| {
            f.app
                .credentials()
                .verify(std::hint::black_box(&f.key), &state, "bench", now)
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("request_path");
    g.bench_function("get_audio", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = roomgate::testing::handle(&f.app, remote(), get_audio(&f.session)).await;
            assert_eq!(resp.status(), 200);
            resp
        })
    });
    g.finish();

    // Login latency against the argon2 verification inside it (OWASP cost).
    let owasp = fixture(&rt, true);
    let phc = owasp
        .app
        .snapshot()
        .account(roomgate::testing::Role::General)
        .unwrap()
        .password_hash
        .clone();
    let mut g = c.benchmark_group("login");
    g.sample_size(20);
    g.bench_function("argon2_verify_only", |b| {
        b.iter(|| {
            assert!(
                owasp
                    .app
                    .hasher()
                    .verify_blocking(phc.as_deref(), &roomgate::testing::Password::new(""))
            )
        })
    });
    g.bench_function("login_through_the_pipeline", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = roomgate::testing::handle(&owasp.app, remote(), login_request()).await;
            assert_eq!(resp.status(), 200);
            resp
        })
    });
    // Everything a login costs besides the hash, with a 64 KiB one-pass argon2
    // (tens of microseconds): client checks, throttle, session minting and the
    // fsynced state write that makes the session survive a restart.
    g.bench_function("pipeline_with_a_cheap_hash", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = roomgate::testing::handle(&f.app, remote(), login_request()).await;
            assert_eq!(resp.status(), 200);
            resp
        })
    });
    g.finish();
}

criterion_group!(request_path, benches);
criterion_main!(request_path);
