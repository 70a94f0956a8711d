//! Server-sent event streams: heartbeat, change events, revocation closing a stream
//! (also one opened with the vendor's example credential, once it is refused), and
//! the cap on open streams.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::common::{self, Device, error_of};

/// Read from a stream until `needle` has arrived (or the stream ends / times out).
pub(crate) async fn read_until(resp: &mut Response, seen: &mut String, needle: &str, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !seen.contains(needle) {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return false,
        }
    }
    true
}

/// Whether the stream ends (cleanly or not) within `limit`.
async fn ends_within(resp: &mut Response, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) | Ok(Err(_)) => return true,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_is_public_and_regular() {
    let d = Device::start_with("[events]\nheartbeat_interval = \"100ms\"\n").await;
    let mut resp = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let started = std::time::Instant::now();
    let one = "event: heartbeat\ndata: .\nretry: 5000\n\n";
    assert!(
        read_until(&mut resp, &mut seen, &one.repeat(3), Duration::from_secs(5)).await,
        "{seen:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "ticks are spaced by the interval"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_announce_setting_changes() {
    let d = Device::start().await;
    let g = d.login("general", "").await;
    let mut stream = d.get("/api/v1/events", &g).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let r = d
        .req(Method::PATCH, "/api/v1/audio")
        .header("Authorization", format!("Nureva {g}"))
        .json(&json!({"audienceMute": true, "voiceAmplificationEnabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen = String::new();
    assert!(
        read_until(&mut stream, &mut seen, "\n\n", Duration::from_secs(5)).await,
        "{seen:?}"
    );
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("event: /api/v1/audio"));
    let data: serde_json::Value = serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(data["audienceMute"], true);

    // A volume step is announced too.
    d.req(Method::PUT, "/api/v1/audio/volume/change")
        .header("Authorization", format!("Nureva {g}"))
        .json(&json!({"operation": "decrement"}))
        .send()
        .await
        .unwrap();
    assert!(
        read_until(&mut stream, &mut seen, "\"speakerVolume\":45", Duration::from_secs(5)).await,
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_credential_closes_its_streams_only() {
    let d = Device::start().await;
    let doomed = d.login("general", "").await;
    let other = d.login("general", "").await;
    let mut doomed_stream = d.get("/api/v1/events", &doomed).send().await.unwrap();
    let mut other_stream = d.get("/api/v1/events", &other).send().await.unwrap();
    assert_eq!(doomed_stream.status(), StatusCode::OK);
    let r = d
        .req(Method::POST, "/api/v1/auth/logout")
        .header("Authorization", format!("Nureva {doomed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        ends_within(&mut doomed_stream, Duration::from_secs(1)).await,
        "revoked stream must close within 1 s"
    );
    assert!(
        !ends_within(&mut other_stream, Duration::from_millis(300)).await,
        "other streams stay open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped() {
    let d = Device::start_with("[limits]\nmax_public_streams = 2\n").await;
    let _a = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    let _b = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    let resp = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    assert!(resp.headers().contains_key("retry-after"));
    let (status, codes) = error_of(resp).await;
    assert_eq!(
        (status, codes),
        (StatusCode::SERVICE_UNAVAILABLE, vec!["too_many_streams".to_string()])
    );
    drop(_a);
    // The slot is released when the client goes away.
    let ok = common::eventually(Duration::from_secs(5), async || {
        d.req(Method::GET, "/api/v1/heartbeat")
            .send()
            .await
            .map(|r| r.status() == StatusCode::OK)
            .unwrap_or(false)
    })
    .await;
    assert!(ok.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_streams_send_keepalive_comments() {
    let d = Device::start_with("[events]\nkeepalive_interval = \"100ms\"\n").await;
    let g = d.login("general", "").await;
    let mut stream = d.get("/api/v1/events", &g).send().await.unwrap();
    let mut seen = String::new();
    assert!(
        read_until(
            &mut stream,
            &mut seen,
            ": keep-alive\n\n: keep-alive\n\n",
            Duration::from_secs(5)
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_stream_sends_filtered_device_metrics_to_monitor_and_up() {
    let d = Device::start_with("[events]\ndata_interval = \"100ms\"\nkeepalive_interval = \"100ms\"\n").await;
    d.set_password(roomgate::testing::Role::Monitor, "monitor-pass-1").await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    for query in [
        "",
        "?events=deviceMetrics",
        "?events=soundLocation,deviceMetrics",
        "?events=deviceMetrics&events=soundLocation",
    ] {
        let mut resp = d.get(&format!("/api/v1/data{query}"), &monitor).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        let mut seen = String::new();
        assert!(
            read_until(
                &mut resp,
                &mut seen,
                "event: deviceMetrics\ndata: {\"backgroundNoise\":",
                Duration::from_secs(5)
            )
            .await,
            "{query}: {seen:?}"
        );
        assert!(read_until(&mut resp, &mut seen, "}\n\n", Duration::from_secs(5)).await);
        let v = first_data(&seen, "deviceMetrics");
        let db = v["backgroundNoise"].as_i64().unwrap();
        assert!((25..=55).contains(&db), "{db}");
    }
    // Only the events asked for.
    let mut resp = d
        .get("/api/v1/data?events=soundLocation", &monitor)
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    assert!(
        read_until(
            &mut resp,
            &mut seen,
            "event: soundLocation\ndata: ",
            Duration::from_secs(5)
        )
        .await
    );
    assert!(read_until(&mut resp, &mut seen, "}\n\n", Duration::from_secs(5)).await);
    assert!(!seen.contains("deviceMetrics"), "{seen}");
    let hdl310 = first_data(&seen, "soundLocation");
    assert!(
        hdl310.get("coordinates").is_none(),
        "an HDL310 reports no coordinates: {hdl310}"
    );
    // An unknown name: the vendor's per-event error frame, and the rest keeps flowing.
    let mut resp = d
        .get("/api/v1/data?events=deviceMetrics,bogus", &monitor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut seen = String::new();
    assert!(read_until(&mut resp, &mut seen, "\n\n", Duration::from_secs(5)).await);
    assert!(seen.starts_with("event: error (bogus)\ndata: {"), "{seen}");
    let error = first_data(&seen, "error (bogus)");
    assert_eq!(
        (error["statusCode"].as_i64(), error["event"].as_str()),
        (Some(404), Some("bogus"))
    );
    for _ in 0..2 {
        seen.clear();
        assert!(read_until(&mut resp, &mut seen, "}\n\n", Duration::from_secs(5)).await);
        assert!(
            seen.contains("event: deviceMetrics\ndata: {\"backgroundNoise\""),
            "{seen}"
        );
    }
    // Monitor is the minimum; no credential is refused.
    let (status, codes) = error_of(d.req(Method::GET, "/api/v1/data").send().await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::UNAUTHORIZED, vec!["missing_authorization".to_string()])
    );
}

/// The data of the first `event: <name>` frame in `seen`.
pub(crate) fn first_data(seen: &str, name: &str) -> serde_json::Value {
    let frame = seen.split(&format!("event: {name}\n")).nth(1).expect("the event");
    let data = frame.strip_prefix("data: ").unwrap().split('\n').next().unwrap();
    serde_json::from_str(data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hdl410_reports_where_the_talker_is_and_which_zone_it_triggers() {
    let d = Device::start_with(
        "[device]\nmodel = \"hdl410\"\n[events]\nsound_location_interval = \"50ms\"\ndata_interval = \"1h\"\n",
    )
    .await;
    d.set_password(roomgate::testing::Role::Monitor, "monitor-pass-1").await;
    d.set_password(roomgate::testing::Role::Integrator, "integrator-pass-1")
        .await;
    let monitor = d.login("monitor", "monitor-pass-1").await;
    let integrator = d.login("integrator", "integrator-pass-1").await;
    // One zone over the whole (default) room: every voiced sample triggers it.
    let zone = json!({"zones": [{"type": "Switching", "on": true, "label": "Whole room", "id": "40dc92d0-1b49-44c8-ada8-3a0f97b7b185",
        "geometry": {"point1": {"x": -3000, "y": 0}, "point2": {"x": 3000, "y": 6000}}}]});
    let r = d
        .req(Method::PATCH, "/api/v1/room/layout")
        .header("Authorization", format!("Nureva {integrator}"))
        .json(&zone)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let mut resp = d.get("/api/v1/data", &monitor).send().await.unwrap();
    let mut seen = String::new();
    let mut samples = Vec::new();
    while samples.len() < 40 {
        assert!(read_until(&mut resp, &mut seen, "}\n\n", Duration::from_secs(5)).await);
        let (frame, rest) = seen.split_once("\n\n").unwrap();
        let frame = frame.to_string();
        seen = rest.to_string();
        if let Some(data) = frame.strip_prefix("event: soundLocation\ndata: ") {
            samples.push(serde_json::from_str::<serde_json::Value>(data).unwrap());
        }
    }
    for s in &samples {
        let (x, y) = (
            s["coordinates"]["x"].as_i64().unwrap(),
            s["coordinates"]["y"].as_i64().unwrap(),
        );
        assert!((-60_000..=60_000).contains(&x) && (0..=60_000).contains(&y), "{s}");
        assert!((-70..=70).contains(&s["azimuth"].as_i64().unwrap()));
        assert_eq!(s["version"], 3);
        let zones = s["triggeredZones"].as_array().unwrap();
        if s["flags"]["voiceDetected"] == true {
            assert_eq!(zones.len(), 1, "{s}");
            assert_eq!(
                (zones[0]["type"].as_str(), zones[0]["label"].as_str()),
                (Some("Switching"), Some("Whole room"))
            );
        } else {
            assert!(zones.is_empty(), "{s}");
        }
        assert!(s["time"].as_str().unwrap().ends_with('Z'));
        assert!(s["flags"]["voiceDetected"].is_boolean());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_after_the_configured_maximum() {
    let d = Device::start_with("[events]\nmax_stream_duration = \"400ms\"\nheartbeat_interval = \"100ms\"\n").await;
    let mut resp = d.req(Method::GET, "/api/v1/heartbeat").send().await.unwrap();
    let started = std::time::Instant::now();
    assert!(ends_within(&mut resp, Duration::from_secs(3)).await);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_opened_with_the_vendor_example_credential_ends_when_it_is_refused() {
    let d = Device::start().await;
    let admin = d.admin_token().await;
    let example = "Z2VuZXJhbDo=";
    let patch = |path: &'static str, body: serde_json::Value| {
        d.req(Method::PATCH, path)
            .header("Authorization", format!("Nureva {admin}"))
            .json(&body)
            .send()
    };
    let general = "/api/v1/auth/accounts/general";
    let policy = "/api/v1/security/policy";
    let refusals = [
        (
            general,
            json!({"password": "general-pass-9"}),
            general,
            json!({"password": ""}),
        ),
        (
            policy,
            json!({"acceptVendorExampleCredential": false}),
            policy,
            json!({"acceptVendorExampleCredential": true}),
        ),
        (general, json!({"enabled": false}), general, json!({"enabled": true})),
    ];
    for (path, refuse, undo_path, undo) in refusals {
        let mut stream = d.get("/api/v1/events", example).send().await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        // Other changes do not end it.
        let r = d.get("/api/v1/audio", example).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            patch(policy, json!({"maxSessionsPerAccount": 31}))
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        assert!(
            !ends_within(&mut stream, Duration::from_millis(300)).await,
            "still open"
        );
        assert_eq!(patch(path, refuse.clone()).await.unwrap().status(), StatusCode::OK);
        assert!(
            ends_within(&mut stream, Duration::from_secs(5)).await,
            "{refuse} ends it"
        );
        assert_eq!(patch(undo_path, undo).await.unwrap().status(), StatusCode::OK);
    }
}
