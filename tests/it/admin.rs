//! The admin API through the real listener: accounts, sessions, API keys, security
//! policy, the password-change requirement and legacy credentials.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, Device, error_of};

impl Device {
    fn admin_req(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.req(method, path)
            .header("Authorization", format!("Nureva {token}"))
    }
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_listed_without_secrets() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let resp = d
        .admin_req(Method::GET, "/api/v1/auth/accounts", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(!text.contains("argon2") && !text.contains(&d.code()));
    let v: Value = serde_json::from_str(&text).unwrap();
    let by_name = |n: &str| {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by_name("monitor")["enabled"].clone(),
            by_name("monitor")["passwordSet"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(
        (
            by_name("general")["enabled"].clone(),
            by_name("general")["passwordEmpty"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(by_name("integrator")["enabled"], false);
    assert_eq!(by_name("admin")["passwordIsEnrollmentCode"], true);
    assert!(by_name("admin")["changedAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_enabled_disabled_and_given_passwords() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let patch = |account: &str, body: Value| {
        d.admin_req(Method::PATCH, &format!("/api/v1/auth/accounts/{account}"), &admin)
            .json(&body)
            .send()
    };
    let r = patch("integrator", json!({"enabled": true, "password": "room-4-integrator"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(
        (v["enabled"].clone(), v["passwordSet"].clone()),
        (json!(true), json!(true))
    );
    let integrator = d.login("integrator", "room-4-integrator").await;

    // An open stream of the account closes when it is disabled.
    let mut stream = d.get("/api/v1/events", &integrator).send().await.unwrap();
    let r = patch("integrator", json!({"enabled": false})).await.unwrap();
    assert_eq!(json_of(r).await["sessionsRevoked"], 1);
    assert_eq!(
        d.get_status("/api/v1/audio", &integrator).await,
        StatusCode::UNAUTHORIZED
    );
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(closed.is_ok(), "the disabled account's stream closes within 1 s");
    assert_eq!(
        d.try_login("integrator", "room-4-integrator").await.status(),
        StatusCode::UNAUTHORIZED
    );

    for (account, body, status, code) in [
        (
            "admin",
            json!({"enabled": false}),
            StatusCode::CONFLICT,
            "admin_cannot_be_disabled",
        ),
        (
            "Admin",
            json!({"enabled": true}),
            StatusCode::BAD_REQUEST,
            "invalid_account",
        ),
        (
            "root",
            json!({"enabled": true}),
            StatusCode::BAD_REQUEST,
            "invalid_account",
        ),
        (
            "integrator",
            json!({"password": "short"}),
            StatusCode::BAD_REQUEST,
            "password_policy",
        ),
        (
            "integrator",
            json!({"password": "integrator"}),
            StatusCode::BAD_REQUEST,
            "password_policy",
        ),
        (
            "integrator",
            json!({"password": "x".repeat(129)}),
            StatusCode::BAD_REQUEST,
            "password_policy",
        ),
        (
            "monitor",
            json!({"password": ""}),
            StatusCode::BAD_REQUEST,
            "password_policy",
        ),
        (
            "monitor",
            json!({"enabled": "yes"}),
            StatusCode::BAD_REQUEST,
            "invalid_type",
        ),
        (
            "monitor",
            json!({"password": 12345678}),
            StatusCode::BAD_REQUEST,
            "invalid_type",
        ),
        (
            "monitor",
            json!({"colour": "red"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        ("monitor", json!({}), StatusCode::BAD_REQUEST, "missing_field"),
    ] {
        let (got, codes) = error_of(patch(account, body.clone()).await.unwrap()).await;
        assert_eq!((got, codes), (status, vec![code.to_string()]), "{account} {body}");
    }

    // general may be cleared to empty while the policy allows it, not after.
    let r = patch("general", json!({"password": "general-pass"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        patch("general", json!({"password": ""})).await.unwrap().status(),
        StatusCode::OK
    );
    d.login("general", "").await;
    let r = d
        .admin_req(Method::PATCH, "/api/v1/security/policy", &admin)
        .json(&json!({"allowEmptyGeneralPassword": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        d.try_login("general", "").await.status(),
        StatusCode::UNAUTHORIZED,
        "the policy applies at once"
    );
    let (status, codes) = error_of(patch("general", json!({"password": ""})).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["password_policy".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_password_change_needs_the_current_one() {
    let d = Device::start().await;
    let code = d.code();
    let admin = d.admin_token().await;
    let other_admin = d.admin_token().await;
    let general = d.login("general", "").await;
    let change = |body: Value| {
        d.admin_req(Method::PATCH, "/api/v1/auth/accounts/admin", &admin)
            .json(&body)
            .send()
    };
    let (s, c) = error_of(change(json!({"password": "new admin pass"})).await.unwrap()).await;
    assert_eq!(
        (s, c),
        (StatusCode::BAD_REQUEST, vec!["current_password_required".to_string()])
    );
    let (s, c) = error_of(
        change(json!({"password": "new admin pass", "currentPassword": "WRONG-WRONG"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c),
        (StatusCode::FORBIDDEN, vec!["current_password_incorrect".to_string()])
    );
    // The code as current password, typed loosely.
    let r = change(json!({"password": "new admin pass", "currentPassword": code.to_lowercase().replace('-', "")}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(v["passwordIsEnrollmentCode"], false);
    assert_eq!(v["sessionsRevoked"], 2);
    for t in [&admin, &other_admin] {
        assert_eq!(d.get_status("/api/v1/audio", t).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        d.get_status("/api/v1/audio", &general).await,
        StatusCode::OK,
        "other accounts keep their sessions"
    );
    assert_eq!(
        d.try_login("admin", &code).await.status(),
        StatusCode::UNAUTHORIZED,
        "the code is no longer the password"
    );
    d.login("admin", "new admin pass").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_revoked() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let general = d.login("general", "").await;
    d.get("/api/v1/audio", &general).send().await.unwrap();
    let v = json_of(
        d.admin_req(Method::GET, "/api/v1/auth/sessions", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let text = v.to_string();
    assert!(!text.contains(&general) && !text.contains(&admin));
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let g = sessions.iter().find(|s| s["account"] == "general").unwrap();
    assert_eq!(g["clientId"], common::CLIENT_ID);
    assert_eq!(g["clientVersion"], common::CLIENT_VERSION);
    assert_eq!(g["remoteAddress"], "127.0.0.1");
    assert!(g["lastUsedAt"].is_string() && g["createdAt"].is_string());
    let id = g["id"].as_str().unwrap();

    let mut stream = d.get("/api/v1/events", &general).send().await.unwrap();
    let r = d
        .admin_req(Method::DELETE, &format!("/api/v1/auth/sessions/{id}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(d.get_status("/api/v1/audio", &general).await, StatusCode::UNAUTHORIZED);
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(closed.is_ok(), "the revoked session's stream closes");
    let (s, c) = error_of(
        d.admin_req(Method::DELETE, &format!("/api/v1/auth/sessions/{id}"), &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c), (StatusCode::NOT_FOUND, vec!["session_not_found".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_work_like_credentials_and_are_never_shown_again() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let create = |name: &str, account: &str| {
        d.admin_req(Method::POST, "/api/v1/auth/keys", &admin)
            .json(&json!({"name": name, "account": account}))
            .send()
    };
    let r = create("Crestron room 4", "general").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = json_of(r).await;
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("rgk_") && key.len() == 68);

    // Used exactly like authParameters, under either scheme.
    assert_eq!(d.get_status("/api/v1/audio", &key).await, StatusCode::OK);
    let v = json_of(d.get("/api/v1/auth/validate", &key).send().await.unwrap()).await;
    assert_eq!(
        (v["kind"].clone(), v["account"].clone(), v["sessionId"].clone()),
        (json!("apiKey"), json!("general"), json!(id))
    );
    let (s, c) = error_of(d.get("/api/v1/auth/keys", &key).send().await.unwrap()).await;
    assert_eq!(
        (s, c),
        (StatusCode::FORBIDDEN, vec!["insufficient_role".to_string()]),
        "a general key cannot administer"
    );
    let r = d
        .client()
        .get(d.url("/api/v1/audio"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Nureva-Client-Id", "Crestron")
        .header("Nureva-Client-Version", "3.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let list = d
        .admin_req(Method::GET, "/api/v1/auth/keys", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !list.contains(&key) && !list.contains(&key[4..]),
        "a listed key never shows its secret"
    );
    let v: Value = serde_json::from_str(&list).unwrap();
    let k = &v["keys"][0];
    assert_eq!(
        (k["name"].clone(), k["lastClientId"].clone()),
        (json!("Crestron room 4"), json!("Crestron"))
    );
    assert!(k["lastUsedAt"].is_string());

    let (s, c) = error_of(create("crestron ROOM 4", "general").await.unwrap()).await;
    assert_eq!((s, c), (StatusCode::CONFLICT, vec!["key_name_taken".to_string()]));
    let (s, c) = error_of(create("x", "Admin").await.unwrap()).await;
    assert_eq!((s, c), (StatusCode::BAD_REQUEST, vec!["invalid_account".to_string()]));

    // A password change does not revoke keys; disabling the account suspends them.
    d.set_password(roomgate::testing::Role::General, "general-pass-2").await;
    assert_eq!(d.get_status("/api/v1/audio", &key).await, StatusCode::OK);
    d.with_state(|s| {
        s.set_enabled(roomgate::testing::Role::General, false, 0);
    })
    .await;
    assert_eq!(d.get_status("/api/v1/audio", &key).await, StatusCode::UNAUTHORIZED);
    d.with_state(|s| {
        s.set_enabled(roomgate::testing::Role::General, true, 0);
    })
    .await;
    assert_eq!(d.get_status("/api/v1/audio", &key).await, StatusCode::OK);

    let r = d
        .admin_req(Method::DELETE, &format!("/api/v1/auth/keys/{id}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(d.get_status("/api/v1/audio", &key).await, StatusCode::UNAUTHORIZED);
    let (s, c) = error_of(
        d.admin_req(Method::DELETE, &format!("/api/v1/auth/keys/{id}"), &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c), (StatusCode::NOT_FOUND, vec!["key_not_found".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_count_is_capped() {
    let d = Device::start_with("[limits]\nmax_api_keys = 2\n").await;
    let admin = d.admin_token().await;
    for (i, status) in [
        (0, StatusCode::CREATED),
        (1, StatusCode::CREATED),
        (2, StatusCode::CONFLICT),
    ] {
        let r = d
            .admin_req(Method::POST, "/api/v1/auth/keys", &admin)
            .json(&json!({"name": format!("k{i}"), "account": "monitor"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_is_validated_persisted_and_applied_at_once() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let policy = json_of(
        d.admin_req(Method::GET, "/api/v1/security/policy", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(policy["sessionLifetimeSecs"], Value::Null);
    assert_eq!(policy["loginFailuresPerHour"], 100);
    assert_eq!(policy["legacyBasicCredentials"], false);
    assert_eq!(policy["acceptVendorExampleCredential"], true);
    assert_eq!(policy["requireAdminPasswordChange"], false);

    let general: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(d.login("general", "").await);
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        v
    };
    let patch = |body: Value| {
        d.admin_req(Method::PATCH, "/api/v1/security/policy", &admin)
            .json(&body)
            .send()
    };
    let r = patch(json!({"maxSessionsPerAccount": 2, "sessionLifetimeSecs": 86400}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        d.get_status("/api/v1/audio", &general[0]).await,
        StatusCode::UNAUTHORIZED,
        "a lower cap ends the oldest session"
    );
    let v = json_of(d.get("/api/v1/auth/validate", &general[2]).send().await.unwrap()).await;
    assert!(v["expiresAt"].is_string(), "a lifetime applies to existing sessions");

    let (s, codes) = error_of(
        patch(json!({"maxSessionsPerAccount": 0, "bogus": true, "legacyBasicCredentials": "yes"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["unknown_field", "invalid_type"]);
    let (s, codes) = error_of(
        patch(json!({"loginFailuresPerHour": 101, "passwordMinLength": 0}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, codes.len()), (StatusCode::BAD_REQUEST, 2));

    // The request rate applies at once.
    assert_eq!(
        patch(json!({"requestsPerMinute": 5})).await.unwrap().status(),
        StatusCode::OK
    );
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(d.get_status("/api/v1/audio", &general[2]).await);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");

    // Persisted across a restart.
    let dir = d.stop().await;
    let d = Device::start_in(dir, "").await;
    let policy = d.app.snapshot().policy.clone();
    assert_eq!((policy.max_sessions_per_account, policy.requests_per_minute), (2, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrollment_code_admin_must_change_the_password_first_when_required() {
    let d = Device::start_with("[policy]\nrequire_admin_password_change = true\n").await;
    let code = d.code();
    let admin = d.admin_token().await;
    for (method, path) in [
        (Method::GET, "/api/v1/audio"),
        (Method::GET, "/api/v1/auth/keys"),
        (Method::GET, "/api/v1/security/policy"),
    ] {
        let (s, c) = error_of(d.admin_req(method, path, &admin).send().await.unwrap()).await;
        assert_eq!(
            (s, c),
            (StatusCode::FORBIDDEN, vec!["password_change_required".to_string()]),
            "{path}"
        );
    }
    assert_eq!(d.get_status("/api/v1/auth/validate", &admin).await, StatusCode::OK);
    let (s, c) = error_of(
        d.admin_req(Method::PATCH, "/api/v1/auth/accounts/integrator", &admin)
            .json(&json!({"enabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, c),
        (StatusCode::FORBIDDEN, vec!["password_change_required".to_string()])
    );
    let r = d
        .admin_req(Method::PATCH, "/api/v1/auth/accounts/admin", &admin)
        .json(&json!({"password": "a much better one", "currentPassword": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let admin = d.login("admin", "a much better one").await;
    assert_eq!(d.get_status("/api/v1/audio", &admin).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_basic_credentials_only_when_allowed_and_cached_safely() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    // The vendor's documented example, `Nureva Z2VuZXJhbDo=` (general with no
    // password), is accepted on its own unless the policy says no (see
    // `vendor_example.rs`); here it is one legacy credential among others.
    let d = Device::start_with("[policy]\naccept_vendor_example_credential = false\n").await;
    let admin = d.admin_token().await;
    assert_eq!(b64("general:"), "Z2VuZXJhbDo=");
    assert_eq!(
        d.get_status("/api/v1/audio", "Z2VuZXJhbDo=").await,
        StatusCode::UNAUTHORIZED,
        "off by default"
    );
    let r = d
        .admin_req(Method::PATCH, "/api/v1/security/policy", &admin)
        .json(&json!({"legacyBasicCredentials": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(d.get_status("/api/v1/audio", "Z2VuZXJhbDo=").await, StatusCode::OK);
    let v = json_of(d.get("/api/v1/auth/validate", "Z2VuZXJhbDo=").send().await.unwrap()).await;
    assert_eq!(
        (v["kind"].clone(), v["account"].clone()),
        (json!("legacy"), json!("general"))
    );
    // The enrollment code works as admin, loosely typed.
    let admin_legacy = b64(&format!("admin:{}", d.code().to_lowercase()));
    assert_eq!(d.get_status("/api/v1/auth/keys", &admin_legacy).await, StatusCode::OK);
    assert_eq!(
        d.get_status("/api/v1/audio", &b64("general:wrong")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.get_status("/api/v1/audio", &b64("General:")).await,
        StatusCode::UNAUTHORIZED
    );
    let (s, c) = error_of(
        d.req(Method::POST, "/api/v1/auth/logout")
            .header("Authorization", "Nureva Z2VuZXJhbDo=")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c), (StatusCode::CONFLICT, vec!["not_revocable".to_string()]));
    // Cached, but a password change invalidates the cached pair at once.
    assert_eq!(d.app.legacy_cache().len(), 2);
    d.set_password(roomgate::testing::Role::General, "general-pass-9").await;
    assert_eq!(
        d.get_status("/api/v1/audio", "Z2VuZXJhbDo=").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.get_status("/api/v1/audio", &b64("general:general-pass-9")).await,
        StatusCode::OK
    );
    // Turning the mode off applies at once.
    let r = d
        .admin_req(Method::PATCH, "/api/v1/security/policy", &admin)
        .json(&json!({"legacyBasicCredentials": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        d.get_status("/api/v1/audio", &b64("general:general-pass-9")).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_code_file_sets_the_first_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("factory-code"), "xyz-234-pqr\n").unwrap();
    let d = Device::start_in(dir, "[enrollment]\ncode_file = \"factory-code\"\n").await;
    assert_eq!(d.code(), "XYZ-234-PQR");
    d.login("admin", "xyz234pqr").await;
}
