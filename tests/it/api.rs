//! The API through the real TLS listener: refusals (status + JSON error code),
//! roles, login, sessions, the reference device and the capabilities document.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use roomgate::testing::ROUTES;
use roomgate::testing::Role;
use serde_json::{Value, json};

use crate::common::{self, Device, error_of, with_client_headers};

/// Tokens for every account (monitor and integrator enabled with passwords).
async fn tokens(d: &Device) -> HashMap<Role, String> {
    d.set_password(Role::Monitor, "monitor-pass-1").await;
    d.set_password(Role::Integrator, "integrator-pass-1").await;
    HashMap::from([
        (Role::Monitor, d.login("monitor", "monitor-pass-1").await),
        (Role::General, d.login("general", "").await),
        (Role::Integrator, d.login("integrator", "integrator-pass-1").await),
        (Role::Admin, d.admin_token().await),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_documented_status_and_code() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let revoked = d.login("general", "").await;
    let r = d
        .req(Method::POST, "/api/v1/auth/logout")
        .header("Authorization", format!("Nureva {revoked}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let c = d.client();
    let url = d.url("/api/v1/audio");
    let long = "x".repeat(501);
    let auth = format!("Nureva {admin}");
    type Case = (&'static str, reqwest::RequestBuilder, StatusCode, Vec<&'static str>);
    let cases: Vec<Case> = vec![
        (
            "missing client id",
            c.get(&url)
                .header("Nureva-Client-Version", "1")
                .header("Authorization", &auth),
            StatusCode::BAD_REQUEST,
            vec!["missing_client_id"],
        ),
        (
            "missing client version",
            c.get(&url)
                .header("Nureva-Client-Id", "x")
                .header("Authorization", &auth),
            StatusCode::BAD_REQUEST,
            vec!["missing_client_version"],
        ),
        (
            "empty client id",
            c.get(&url)
                .header("Nureva-Client-Id", "")
                .header("Nureva-Client-Version", "1"),
            StatusCode::BAD_REQUEST,
            vec!["empty_client_id"],
        ),
        (
            "empty client version",
            c.get(&url)
                .header("Nureva-Client-Id", "x")
                .header("Nureva-Client-Version", ""),
            StatusCode::BAD_REQUEST,
            vec!["empty_client_version"],
        ),
        (
            "501-char client id",
            c.get(&url)
                .header("Nureva-Client-Id", &long)
                .header("Nureva-Client-Version", "1"),
            StatusCode::BAD_REQUEST,
            vec!["client_id_too_long"],
        ),
        (
            "501-char client version",
            c.get(&url)
                .header("Nureva-Client-Id", "x")
                .header("Nureva-Client-Version", &long),
            StatusCode::BAD_REQUEST,
            vec!["client_version_too_long"],
        ),
        (
            "both client headers missing",
            c.get(&url),
            StatusCode::BAD_REQUEST,
            vec!["missing_client_id", "missing_client_version"],
        ),
        (
            "both headers missing on login too",
            c.post(d.url("/api/v1/auth/login")).json(&json!({})),
            StatusCode::BAD_REQUEST,
            vec!["missing_client_id", "missing_client_version"],
        ),
        (
            "both headers missing on capabilities too",
            c.get(d.url("/api/v1")),
            StatusCode::BAD_REQUEST,
            vec!["missing_client_id", "missing_client_version"],
        ),
        (
            "no credential",
            with_client_headers(c.get(&url)),
            StatusCode::UNAUTHORIZED,
            vec!["missing_authorization"],
        ),
        (
            "garbage credential",
            with_client_headers(c.get(&url)).header("Authorization", "Nureva garbage"),
            StatusCode::UNAUTHORIZED,
            vec!["invalid_auth_parameters"],
        ),
        (
            "wrong scheme",
            with_client_headers(c.get(&url)).header("Authorization", format!("Basic {admin}")),
            StatusCode::UNAUTHORIZED,
            vec!["unsupported_auth_scheme"],
        ),
        (
            "scheme only",
            with_client_headers(c.get(&url)).header("Authorization", "Nureva"),
            StatusCode::UNAUTHORIZED,
            vec!["invalid_authorization"],
        ),
        (
            "revoked credential",
            with_client_headers(c.get(&url)).header("Authorization", format!("Nureva {revoked}")),
            StatusCode::UNAUTHORIZED,
            vec!["invalid_auth_parameters"],
        ),
        (
            "non-lowercase account",
            d.req(Method::POST, "/api/v1/auth/login")
                .json(&json!({"account": "Admin", "password": "x"})),
            StatusCode::BAD_REQUEST,
            vec!["invalid_account"],
        ),
        (
            "unknown account",
            d.req(Method::POST, "/api/v1/auth/login")
                .json(&json!({"account": "root", "password": "x"})),
            StatusCode::BAD_REQUEST,
            vec!["invalid_account"],
        ),
        (
            "missing password",
            d.req(Method::POST, "/api/v1/auth/login")
                .json(&json!({"account": "admin"})),
            StatusCode::BAD_REQUEST,
            vec!["missing_field"],
        ),
        (
            "password not a string",
            d.req(Method::POST, "/api/v1/auth/login")
                .json(&json!({"account": "admin", "password": 5})),
            StatusCode::BAD_REQUEST,
            vec!["invalid_type"],
        ),
        (
            "extra login field",
            d.req(Method::POST, "/api/v1/auth/login")
                .json(&json!({"account": "admin", "password": "x", "x": 1})),
            StatusCode::BAD_REQUEST,
            vec!["unknown_field"],
        ),
        (
            "login body not an object",
            d.req(Method::POST, "/api/v1/auth/login").json(&json!(["admin"])),
            StatusCode::BAD_REQUEST,
            vec!["invalid_body"],
        ),
        (
            "malformed JSON",
            d.req(Method::POST, "/api/v1/auth/login")
                .header("Content-Type", "application/json")
                .body("{\"account\": "),
            StatusCode::BAD_REQUEST,
            vec!["invalid_json"],
        ),
        (
            "empty body",
            d.req(Method::POST, "/api/v1/auth/login")
                .header("Content-Type", "application/json"),
            StatusCode::BAD_REQUEST,
            vec!["missing_body"],
        ),
        (
            "wrong content type",
            d.req(Method::POST, "/api/v1/auth/login")
                .header("Content-Type", "text/plain")
                .body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec!["unsupported_media_type"],
        ),
        (
            "no content type",
            d.req(Method::POST, "/api/v1/auth/login").body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec!["unsupported_media_type"],
        ),
        (
            "form body",
            d.req(Method::PATCH, "/api/v1/audio")
                .header("Authorization", &auth)
                .form(&[("microphoneMute", "true")]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec!["unsupported_media_type"],
        ),
        (
            "oversized body",
            d.req(Method::POST, "/api/v1/auth/login")
                .header("Content-Type", "application/json")
                .body(format!(
                    "{{\"account\":\"admin\",\"password\":\"{}\"}}",
                    "x".repeat(70 * 1024)
                )),
            StatusCode::PAYLOAD_TOO_LARGE,
            vec!["payload_too_large"],
        ),
        (
            "unknown path",
            d.req(Method::GET, "/api/v1/nope").header("Authorization", &auth),
            StatusCode::NOT_FOUND,
            vec!["not_found"],
        ),
        (
            "path outside the API",
            c.get(d.url("/index.html")),
            StatusCode::NOT_FOUND,
            vec!["not_found"],
        ),
        (
            "wrong method",
            d.req(Method::DELETE, "/api/v1/audio").header("Authorization", &auth),
            StatusCode::METHOD_NOT_ALLOWED,
            vec!["method_not_allowed"],
        ),
    ];
    for (name, req, status, codes) in cases {
        let resp = req.send().await.unwrap();
        let www = resp.headers().get("www-authenticate").cloned();
        let allow = resp.headers().get("allow").cloned();
        let (got_status, got_codes) = error_of(resp).await;
        assert_eq!(
            (got_status, got_codes.iter().map(String::as_str).collect::<Vec<_>>()),
            (status, codes),
            "case: {name}"
        );
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(www.unwrap(), "Nureva realm=\"HDL310 Conference Room\"", "case: {name}");
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(allow.unwrap(), "GET, HEAD, PATCH");
        }
    }
    // Nothing above changed the settings.
    let audio: Value = d.get_json("/api/v1/audio", &admin).await;
    assert_eq!(
        audio,
        serde_json::to_value(roomgate::testing::AudioSettings::default()).unwrap()
    );
}

/// Every route above role none, called with a credential one level too low, is
/// refused: 403 for a real role, 401 for no credential at the monitor boundary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_boundary_is_enforced_from_the_route_table() {
    let d = Device::start().await;
    let tokens = tokens(&d).await;
    let below = |role: Role| Role::ALL.into_iter().rev().find(|r| *r < role);
    let mut checked = 0;
    for route in ROUTES {
        let Some(min) = route.min_role else { continue };
        let path = route
            .path
            .replace("{account}", "general")
            .replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA");
        let mut req = d.req(route.method.clone(), &path);
        if route.op.takes_body() {
            req = req.json(&json!({}));
        }
        match below(min) {
            Some(low) => {
                let resp = req
                    .header("Authorization", format!("Nureva {}", tokens[&low]))
                    .send()
                    .await
                    .unwrap();
                let (status, codes) = error_of(resp).await;
                assert_eq!(
                    (status, codes),
                    (StatusCode::FORBIDDEN, vec!["insufficient_role".to_string()]),
                    "{} {path} as {low}",
                    route.method
                );
            }
            None => {
                let (status, codes) = error_of(req.send().await.unwrap()).await;
                assert_eq!(
                    (status, codes),
                    (StatusCode::UNAUTHORIZED, vec!["missing_authorization".to_string()]),
                    "{} {path}",
                    route.method
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 7, "{checked}");
    // And the role itself is enough (a read-only route of each level).
    for (role, path) in [
        (Role::Monitor, "/api/v1/auth/validate"),
        (Role::General, "/api/v1/audio"),
    ] {
        let resp = d.get(path, &tokens[&role]).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{role} {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_indistinguishable() {
    let d = Device::start().await;
    let mut bodies = Vec::new();
    for (account, password) in [
        ("admin", "WRONG-CODE-X"),  // wrong password
        ("integrator", "anything"), // disabled, no password
        ("monitor", ""),            // disabled, no password
        ("general", "not-empty"),   // wrong password
    ] {
        let resp = d.try_login(account, password).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{account}");
        assert!(resp.headers().contains_key("www-authenticate"));
        bodies.push(resp.text().await.unwrap());
    }
    // A disabled account that does have a password.
    d.set_password(Role::Integrator, "integrator-pass-1").await;
    d.with_state(|s| {
        s.set_enabled(Role::Integrator, false, 0);
    })
    .await;
    let resp = d.try_login("integrator", "integrator-pass-1").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    bodies.push(resp.text().await.unwrap());
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert!(bodies[0].contains("invalid_credentials"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_gives_an_opaque_random_session() {
    let d = Device::start().await;
    let code = d.code();
    let resp = d.try_login("admin", &code).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["account"], "admin");
    assert_eq!(body["expiresAt"], Value::Null);
    let token = body["authParameters"].as_str().unwrap();
    // 16-byte id + 32-byte secret, base64url: at least 128 bits of randomness.
    assert_eq!(token.len(), 64);
    use base64::Engine as _;
    let legacy = base64::engine::general_purpose::STANDARD.encode(format!("admin:{code}"));
    assert_ne!(token, legacy);
    assert!(!token.contains(&code) && !token.contains(&code.replace('-', "")));
    // Two logins, two different credentials.
    assert_ne!(d.admin_token().await, token);

    // The code is accepted in any case, with or without dashes.
    for typed in [
        code.to_lowercase(),
        code.replace('-', ""),
        code.to_lowercase().replace('-', ""),
    ] {
        assert_eq!(d.try_login("admin", &typed).await.status(), StatusCode::OK, "{typed}");
    }

    // validate describes it; Bearer and lower-case scheme work too.
    for scheme in ["Nureva", "Bearer", "nureva", "BEARER"] {
        let v = common::send_json(
            d.req(Method::GET, "/api/v1/auth/validate")
                .header("Authorization", format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(v["account"], "admin", "{scheme}");
        assert_eq!(v["kind"], "session");
        assert_eq!(v["sessionId"].as_str().unwrap().len(), 22);
        assert_eq!(v["expiresAt"], Value::Null);
        assert!(
            !token.contains(v["sessionId"].as_str().unwrap()) || token.starts_with(v["sessionId"].as_str().unwrap())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_password_change_revoke_sessions() {
    let d = Device::start().await;
    let general_a = d.login("general", "").await;
    let general_b = d.login("general", "").await;
    let admin = d.admin_token().await;

    // Logout revokes exactly the credential presented.
    let r = d
        .req(Method::POST, "/api/v1/auth/logout")
        .header("Authorization", format!("Nureva {general_a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        d.get_status("/api/v1/audio", &general_a).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(d.get_status("/api/v1/audio", &general_b).await, StatusCode::OK);

    // A password change revokes every session of that account, and only those.
    d.set_password(Role::General, "new-general-pass").await;
    let (status, codes) = error_of(d.get("/api/v1/audio", &general_b).send().await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::UNAUTHORIZED, vec!["invalid_auth_parameters".to_string()])
    );
    assert_eq!(d.get_status("/api/v1/audio", &admin).await, StatusCode::OK);
    assert_eq!(d.try_login("general", "").await.status(), StatusCode::UNAUTHORIZED);
    d.login("general", "new-general-pass").await;

    // Disabling an account revokes its sessions.
    let g = d.login("general", "new-general-pass").await;
    d.with_state(|s| {
        s.set_enabled(Role::General, false, 0);
    })
    .await;
    assert_eq!(d.get_status("/api/v1/audio", &g).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cap_and_lifetime_follow_the_policy() {
    let d = Device::start().await;
    d.with_state(|s| s.policy.max_sessions_per_account = 3).await;
    let t: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(d.login("general", "").await);
            tokio::time::sleep(Duration::from_millis(1100)).await; // distinct creation seconds
        }
        v
    };
    assert_eq!(
        d.get_status("/api/v1/audio", &t[0]).await,
        StatusCode::UNAUTHORIZED,
        "oldest goes"
    );
    for tok in &t[1..] {
        assert_eq!(d.get_status("/api/v1/audio", tok).await, StatusCode::OK);
    }

    d.with_state(|s| s.policy.session_lifetime_secs = Some(2)).await;
    let short = d.login("general", "").await;
    let v: Value = d.get_json("/api/v1/auth/validate", &short).await;
    assert!(v["expiresAt"].as_str().unwrap().ends_with('Z'));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, codes) = error_of(d.get("/api/v1/audio", &short).send().await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::UNAUTHORIZED, vec!["credential_expired".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_hashing_is_bounded_and_says_busy() {
    // Real OWASP cost, one hash at a time, nobody waiting: a burst must get 503s,
    // and a request that needs no hash is still served meanwhile.
    let d = Device::start_with(
        "[passwords]\nmemory_kib = 19456\niterations = 2\n[limits]\nhash_concurrency = 1\nhash_queue = 0\n",
    )
    .await;
    let admin = d.admin_token().await;
    let mut burst = Vec::new();
    for _ in 0..12 {
        let req = d
            .req(Method::POST, "/api/v1/auth/login")
            .json(&json!({"account": "admin", "password": "WRONG-PASSWORD"}));
        burst.push(tokio::spawn(req.send()));
    }
    let audio = d.get("/api/v1/audio", &admin).send().await.unwrap();
    assert_eq!(audio.status(), StatusCode::OK);
    let (mut busy, mut denied) = (0, 0);
    for r in burst {
        let resp = r.await.unwrap().unwrap();
        match resp.status() {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(resp.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
                let (_, codes) = error_of(resp).await;
                assert_eq!(codes, ["server_busy"]);
                busy += 1;
            }
            StatusCode::UNAUTHORIZED => denied += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(busy >= 1 && denied >= 1, "busy={busy} denied={denied}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_settings_are_typed_range_checked_and_all_or_nothing() {
    let d = Device::start().await;
    let g = d.login("general", "").await;
    let patch = |body: Value| {
        d.req(Method::PATCH, "/api/v1/audio")
            .header("Authorization", format!("Nureva {g}"))
            .json(&body)
            .send()
    };
    let r = patch(json!({"microphoneMute": true, "echoReductionLevel": "High", "voiceAmplificationLevel": 40}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (
            v["microphoneMute"].clone(),
            v["echoReductionLevel"].clone(),
            v["voiceAmplificationLevel"].clone()
        ),
        (json!(true), json!("High"), json!(40))
    );

    let before: Value = d.get_json("/api/v1/audio", &g).await;
    for (body, code) in [
        (json!({"speakerVolume": 10}), "read_only_field"),
        (json!({"speakerTrebleLevel": 101}), "out_of_range"),
        (json!({"speakerBassLevel": -1}), "out_of_range"),
        (json!({"voiceAmplificationLevel": 41}), "out_of_range"),
        (json!({"noiseReductionLevel": "Extreme"}), "invalid_value"),
        (json!({"noiseReductionLevel": "low"}), "invalid_value"),
        (json!({"audienceMute": "true"}), "invalid_type"),
        (json!({"speakerBassLevel": 10.5}), "invalid_type"),
        (json!({"colour": "blue"}), "unknown_field"),
        (
            json!({"microphoneMute": false, "speakerTrebleLevel": 500}),
            "out_of_range",
        ),
    ] {
        let (status, codes) = error_of(patch(body.clone()).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(codes, [code], "{body}");
    }
    let after: Value = d.get_json("/api/v1/audio", &g).await;
    assert_eq!(before, after, "refused patches change nothing");

    // Volume steps, clamped.
    let step = |op: &'static str| {
        d.req(Method::PUT, "/api/v1/audio/volume/change")
            .header("Authorization", format!("Nureva {g}"))
            .json(&json!({"operation": op}))
            .send()
    };
    let mut last = 50;
    for _ in 0..12 {
        let v: Value = step("increment").await.unwrap().json().await.unwrap();
        let now = v["speakerVolume"].as_u64().unwrap();
        assert!(now >= last && now <= 100);
        last = now;
    }
    assert_eq!(last, 100);
    for _ in 0..25 {
        step("decrement").await.unwrap();
    }
    let v: Value = d.get_json("/api/v1/audio", &g).await;
    assert_eq!(v["speakerVolume"], 0);
    let (status, codes) = error_of(step("Increment").await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["invalid_value".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_information_shows_the_code_to_admin_only() {
    let d = Device::start_with("[device]\nmodel = \"hdl410\"\nip_address = \"10.0.0.1\"\n").await;
    let general = d.login("general", "").await;
    let admin = d.admin_token().await;
    let as_general: Value = d.get_json("/api/v1/audio/hardware", &general).await;
    let as_admin: Value = d.get_json("/api/v1/audio/hardware", &admin).await;
    assert_eq!(as_general["enrollmentCode"], "");
    assert_eq!(as_admin["enrollmentCode"], d.code());
    assert_eq!(as_admin["model"], "hdl410");
    assert_eq!(as_admin["ipAddress"], "10.0.0.1");
    for field in [
        "hardwareId",
        "model",
        "firmwareVersion",
        "deviceVersion",
        "deviceStatus",
        "hardwareComponents",
        "ipAddress",
        "mac_address",
        "enrollmentStatus",
        "enrollmentCode",
    ] {
        assert!(as_general.get(field).is_some(), "{field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_describe_every_route_with_the_enforced_role() {
    let d = Device::start().await;
    let resp = d.req(Method::GET, "/api/v1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ops = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            if method == "x-nureva" {
                continue; // the path's own extension object (the vendor's placement)
            }
            let route = ROUTES
                .iter()
                .find(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method))
                .unwrap_or_else(|| panic!("{method} {path} is documented but not routed"));
            let role = &op["x-nureva"]["minimumRoleRequired"];
            match route.min_role {
                None => assert!(role.is_null(), "{method} {path}: public is null"),
                Some(r) => assert_eq!(role, r.as_str(), "{method} {path}"),
            }
            ops += 1;
        }
    }
    assert_eq!(ops, ROUTES.len(), "every route is documented");
    // Public operations really are public; the document says which.
    let hb = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    assert_eq!(hb.status(), StatusCode::OK);
    assert_eq!(
        doc["paths"]["/api/v1/heartbeat"]["get"]["x-nureva"]["minimumRoleRequired"],
        Value::Null
    );
    assert_eq!(doc["info"]["title"], "Nureva Developer Toolkit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_layout_is_checked_persisted_and_announced() {
    let d = Device::start().await;
    d.set_password(Role::Integrator, "integrator-pass-1").await;
    let integrator = d.login("integrator", "integrator-pass-1").await;
    let general = d.login("general", "").await;
    let layout: Value = d.get_json("/api/v1/room/layout", &general).await;
    assert_eq!(layout["uiMeasurementSystem"], "METRIC");
    assert_eq!(layout["roomDimensions"]["xMax"], 3000);

    let mut events = d.get("/api/v1/events", &general).send().await.unwrap();
    let patch = |body: Value| {
        d.req(Method::PATCH, "/api/v1/room/layout")
            .header("Authorization", format!("Nureva {integrator}"))
            .json(&body)
            .send()
    };
    let zones = json!([{"id": "front", "label": "Presenter", "type": "Switching", "geometry": {"point1": {"x": -1500, "y": 0}, "point2": {"x": 1500, "y": 2000}}}]);
    let r = patch(json!({"uiMeasurementSystem": "IMPERIAL", "roomDimensionsVerified": true, "zones": zones}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["uiMeasurementSystem"].clone(), v["zones"][0]["label"].clone()),
        (json!("IMPERIAL"), json!("Presenter"))
    );
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: /api/v1/room/layout\n") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    let before: Value = d.get_json("/api/v1/room/layout", &general).await;
    for (body, code) in [
        (
            json!({"roomDimensions": {"xMin": 10, "xMax": -10, "yMin": 0, "yMax": 1}}),
            "invalid_value",
        ),
        (
            json!({"roomDimensions": {"xMin": -99999999, "xMax": 10, "yMin": 0, "yMax": 1}}),
            "out_of_range",
        ),
        (
            json!({"zones": [{"id": "z", "label": "x", "type": "Switching", "xMin": 0, "xMax": 9000, "yMin": 0, "yMax": 1}]}),
            "unknown_field",
        ),
        (json!({"zones": "none"}), "invalid_type"),
        (json!({"computedRoomDimensions": {}}), "read_only_field"),
        (
            json!({"audioComponentPositions": [{"id": "AUDIO_BAR_0", "x": 0, "y": 0, "z": 0, "zAngle": 720}]}),
            "unsupported_device_type",
        ),
    ] {
        let (status, codes) = error_of(patch(body.clone()).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(codes[0], code, "{body}");
    }
    let after: Value = d.get_json("/api/v1/room/layout", &general).await;
    assert_eq!(before, after, "refused patches change nothing");

    let dir = d.stop().await;
    let d = Device::start_in(dir, "").await;
    assert_eq!(
        d.app.snapshot().device.room_layout.zones[0].id,
        "front",
        "persisted across a restart"
    );
}

/// A connection remembers the credential it last verified (`auth::credentials`,
/// `Remembered`). On one HTTP/1.1 keep-alive connection, driven by the real curl:
/// the session works, is logged out, and the very next request on that connection
/// is refused; and a key disabled with its account between two transfers is too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_revoked_mid_connection_is_refused_on_that_connection() {
    let d = Device::start().await;
    let session = d.login("general", "").await;
    let answers = curl_transfers(
        &d,
        &session,
        &[
            ("GET", "/api/v1/audio"),
            ("POST", "/api/v1/auth/logout"),
            ("GET", "/api/v1/audio"),
        ],
    )
    .await;
    assert_eq!(
        answers,
        [(200, 1), (204, 0), (401, 0)],
        "(status, new connections) per transfer"
    );

    // Changed from outside the connection (the console or another client).
    let admin = d.admin_token().await;
    let key = d
        .req(Method::POST, "/api/v1/auth/keys")
        .header("Authorization", format!("Nureva {admin}"))
        .json(&json!({"name": "room 7", "account": "general"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let disable = {
        let d_app = d.app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            d_app
                .update(|s| {
                    s.set_enabled(Role::General, false, 0);
                    Ok(())
                })
                .await
                .unwrap();
        })
    };
    // Two transfers 1 s apart on one connection (curl's --rate); the account is
    // disabled in between.
    let answers = curl_transfers(&d, &key, &[("GET", "/api/v1/audio"), ("GET", "/api/v1/audio")]).await;
    disable.await.unwrap();
    assert_eq!(answers, [(200, 1), (401, 0)]);
}

/// `(status, connections opened)` for each of `transfers`, made by one curl over
/// one HTTP/1.1 connection with `Authorization: Nureva <token>`, one a second.
async fn curl_transfers(d: &Device, token: &str, transfers: &[(&str, &str)]) -> Vec<(u16, u32)> {
    let cert = d.cert_path().display().to_string();
    let mut args: Vec<String> = vec!["--silent".into(), "--rate".into(), "1/s".into()];
    for (i, (method, path)) in transfers.iter().enumerate() {
        if i > 0 {
            args.push("--next".into());
        }
        args.extend(
            [
                "--http1.1",
                "--cacert",
                &cert,
                "-X",
                method,
                "-H",
                &format!("Authorization: Nureva {token}"),
                "-H",
                &format!("Nureva-Client-Id: {}", common::CLIENT_ID),
                "-H",
                &format!("Nureva-Client-Version: {}", common::CLIENT_VERSION),
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{num_connects}\\n",
                &d.url(path),
            ]
            .map(String::from),
        );
    }
    let out = tokio::process::Command::new("curl").args(&args).output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (status, connects) = l.split_once(' ').unwrap();
            (status.parse().unwrap(), connects.parse().unwrap())
        })
        .collect()
}
