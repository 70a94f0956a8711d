//! The vendor's example credential, `Authorization: Nureva Z2VuZXJhbDo=` (base64 of
//! `general:`): the vendor's curl example, word for word, answers 200 on a
//! factory-default device; it is refused once the general account has a password,
//! is disabled, or the policy says no; other `base64(account:password)` values stay
//! behind legacy mode; its first use is audited, without secrets. (Streams opened
//! with it: `streams.rs`.)

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{self, Device, Proc, curl, error_of};

/// The vendor's example credential.
const EXAMPLE: &str = "Z2VuZXJhbDo=";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The vendor's documented example, word for word, against `port`.
async fn vendor_curl(port: u16) -> common::CurlAnswer {
    let url = format!("https://127.0.0.1:{port}/api/v1/audio");
    curl(&[
        "--request",
        "GET",
        "--url",
        &url,
        "--header",
        "Authorization: Nureva Z2VuZXJhbDo=",
        "--header",
        "Nureva-Client-Id: integration_app_name",
        "--header",
        "Nureva-Client-Version: 0.0.1",
        "-k",
    ])
    .await
}

async fn patch_as(d: &Device, admin: &str, path: &str, body: Value) -> StatusCode {
    d.req(Method::PATCH, path)
        .header("Authorization", format!("Nureva {admin}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_curl_example_works_on_a_factory_default_device() {
    let d = Device::start().await;
    let answer = vendor_curl(d.port()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["speakerVolume"].is_number());

    let v = common::send_json(d.get("/api/v1/auth/validate", EXAMPLE)).await;
    assert_eq!(
        (&v["account"], &v["kind"]),
        (&json!("general"), &json!("vendorExample"))
    );
    let (s, c) = error_of(
        d.req(Method::POST, "/api/v1/auth/logout")
            .header("Authorization", format!("Nureva {EXAMPLE}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, c), (StatusCode::CONFLICT, vec!["not_revocable".to_string()]));
    assert_eq!(
        d.get_status("/api/v1/auth/keys", EXAMPLE).await,
        StatusCode::FORBIDDEN,
        "general only"
    );

    // Anything else of the form stays behind legacy mode (off by default).
    for other in [
        b64("general:wrong"),
        b64(&format!("admin:{}", d.code())),
        b64("General:"),
        b64("monitor:"),
    ] {
        let (s, c) = error_of(d.get("/api/v1/audio", &other).send().await.unwrap()).await;
        assert_eq!(
            (s, c),
            (StatusCode::UNAUTHORIZED, vec!["invalid_auth_parameters".to_string()]),
            "{other}"
        );
    }
    let admin = d.admin_token().await;
    let policy = common::send_json(d.get("/api/v1/security/policy", &admin)).await;
    assert_eq!(policy["acceptVendorExampleCredential"], true);
    assert_eq!(policy["legacyBasicCredentials"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_is_refused_when_the_general_account_or_the_policy_says_no() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let policy = "/api/v1/security/policy";
    let general = "/api/v1/auth/accounts/general";
    let example = || d.get_status("/api/v1/audio", EXAMPLE);
    for (off, on) in [
        (
            json!({"acceptVendorExampleCredential": false}),
            json!({"acceptVendorExampleCredential": true}),
        ),
        (
            json!({"allowEmptyGeneralPassword": false}),
            json!({"allowEmptyGeneralPassword": true}),
        ),
    ] {
        assert_eq!(patch_as(&d, &admin, policy, off.clone()).await, StatusCode::OK);
        assert_eq!(example().await, StatusCode::UNAUTHORIZED, "{off}");
        assert_eq!(patch_as(&d, &admin, policy, on).await, StatusCode::OK);
        assert_eq!(example().await, StatusCode::OK, "{off} undone");
    }
    assert_eq!(
        patch_as(&d, &admin, general, json!({"enabled": false})).await,
        StatusCode::OK
    );
    assert_eq!(example().await, StatusCode::UNAUTHORIZED, "disabled");
    assert_eq!(
        patch_as(&d, &admin, general, json!({"enabled": true})).await,
        StatusCode::OK
    );
    assert_eq!(example().await, StatusCode::OK);

    assert_eq!(
        patch_as(&d, &admin, general, json!({"password": "general-pass-9"})).await,
        StatusCode::OK
    );
    assert_eq!(vendor_curl(d.port()).await.status, 401, "a general password is set");
    assert_eq!(
        d.get_status("/api/v1/audio", &b64("general:general-pass-9")).await,
        StatusCode::UNAUTHORIZED,
        "a real password needs legacy mode"
    );

    let off = Device::start_with("[policy]\naccept_vendor_example_credential = false\n").await;
    assert_eq!(
        vendor_curl(off.port()).await.status,
        401,
        "the config's factory default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_first_use_is_audited_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), "");
    let p = Proc::spawn(&config, &[], &[]);
    for _ in 0..3 {
        assert_eq!(vendor_curl(p.addr.port()).await.status, 200);
    }
    let (status, log) = p.terminate();
    assert!(status.success());
    let audited: Vec<&String> = log.iter().filter(|l| l.contains("vendor_example_login")).collect();
    assert_eq!(audited.len(), 1, "once, not per request: {log:?}");
    assert!(
        audited[0].contains("roomgate::audit") && audited[0].contains("integration_app_name"),
        "{}",
        audited[0]
    );
    assert!(
        !log.iter().any(|l| l.contains(EXAMPLE)),
        "the header value is not logged"
    );
}
