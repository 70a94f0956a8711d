//! The vendor's documented API, used the way the vendor's pages show it: their curl
//! examples run verbatim with the real `curl` (only the device address replaced and
//! the device certificate trusted), the room status with its LED, USB and component
//! events, identify and calibrate with theirs, the firmware gates of the audio
//! settings, both models' device information, and `/api/v1/settings`, which an
//! HDL310/HDL410 does not have.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Device, error_of};
use crate::streams::{first_data, read_until};

const GET_AUDIO: &str = r"curl --request GET \
     --url https://10.0.0.1/api/v1/audio \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";

const GET_HARDWARE: &str = r"curl --request GET \
     --url https://10.0.0.1/api/v1/audio/hardware \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";

const GET_HEARTBEAT: &str = r"curl --request GET \
     --url https://10.0.0.1/api/v1/heartbeat \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";

const GET_ROOM_LAYOUT: &str = r"curl --request GET \
     --url https://10.0.0.1/api/v1/room/layout \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";

/// The change-speaker-volume page's request, as its steps describe it.
const CHANGE_VOLUME: &str = r#"curl --request PUT \
     --url https://10.0.0.1/api/v1/audio/volume/change \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1' \
     --header 'content-type: application/json' \
     --data '{"operation": "increment"}'"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_curl_examples_work_on_both_models() {
    for model in ["hdl310", "hdl410"] {
        let d = Device::start_with(&format!("[device]\nmodel = \"{model}\"\n")).await;
        let a = d.vendor_curl(GET_AUDIO, 3).await;
        let (status, body) = (a.status, a.body);
        assert_eq!(status, 200, "{model}: {body}");
        let audio: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (audio["speakerVolume"].as_u64(), audio["microphoneMute"].as_bool()),
            (Some(50), Some(false))
        );

        let a = d.vendor_curl(GET_HARDWARE, 3).await;
        let (status, body) = (a.status, a.body);
        assert_eq!(status, 200, "{model}: {body}");
        let hw: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(hw["model"], model);
        assert_eq!(hw["enrollmentCode"], "", "general does not see the code");
        let bars: Vec<_> = hw["hardwareComponents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["model"] == "Bar")
            .collect();
        assert_eq!(bars.len(), if model == "hdl410" { 2 } else { 1 }, "{hw}");
        assert_eq!(bars.last().unwrap()["portNumber"], bars.len());
        assert_eq!(hw["hardwareComponents"][0]["model"], "ConnectModule2");
        assert!(hw["hardwareComponents"][0].get("portNumber").is_none());
        assert_eq!(hw["hardwareComponents"][0]["hardwareId"], hw["hardwareId"]);

        let a = d.vendor_curl(CHANGE_VOLUME, 3).await;
        let (status, body) = (a.status, a.body);
        assert_eq!(status, 200, "{model}: {body}");
        let after: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(after["speakerVolume"], 55);

        let a = d.vendor_curl(GET_ROOM_LAYOUT, 3).await;
        let (status, body) = (a.status, a.body);
        assert_eq!(status, 200, "{model}: {body}");
        assert!(serde_json::from_str::<Value>(&body).unwrap()["roomDimensions"].is_object());

        // The heartbeat never ends by itself: curl's --max-time does; what it read counts.
        let body = d.vendor_curl(GET_HEARTBEAT, 3).await.body;
        assert!(
            body.starts_with("event: heartbeat\ndata: .\nretry: 5000\n\n"),
            "{body:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_status_identify_and_calibrate_are_announced_with_the_vendor_names() {
    let d = Device::start_with("[device]\nidentify_time = \"300ms\"\ncalibration_time = \"300ms\"\n").await;
    let g = d.login("general", "").await;
    let status = d.get_json("/api/v1/status", &g).await;
    assert_eq!(status["leds"]["networkA"], json!({"colour": "green", "state": "solid"}));
    assert_eq!(status["leds"]["console"], json!({"colour": "none", "state": "off"}));
    assert_eq!(
        (
            status["usb"]["status"].as_str(),
            status["deviceComponents"]["status"].as_str()
        ),
        (Some("connected"), Some("connected"))
    );

    let mut events = d.get("/api/v1/events", &g).send().await.unwrap();
    let admin = d.admin_token().await;
    let post = |path: &'static str, token: String| {
        d.req(Method::POST, path)
            .header("Authorization", format!("Nureva {token}"))
            .send()
    };
    assert_eq!(
        post("/api/v1/audio/identify", g.clone()).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "admin only"
    );
    let identified = post("/api/v1/audio/identify", admin.clone()).await.unwrap();
    assert_eq!(identified.status(), StatusCode::OK);
    assert!(identified.bytes().await.unwrap().is_empty());
    let mut seen = String::new();
    assert!(
        read_until(
            &mut events,
            &mut seen,
            "event: ledStateUpdated\ndata: ",
            Duration::from_secs(5)
        )
        .await
    );
    assert!(read_until(&mut events, &mut seen, "\n\n", Duration::from_secs(5)).await);
    assert_eq!(
        first_data(&seen, "ledStateUpdated")["leds"]["networkA"]["state"],
        "blinking"
    );
    seen.clear();
    assert!(
        read_until(
            &mut events,
            &mut seen,
            "event: ledStateUpdated\ndata: ",
            Duration::from_secs(5)
        )
        .await,
        "the end of identify"
    );
    assert!(read_until(&mut events, &mut seen, "solid", Duration::from_secs(5)).await);

    let started = post("/api/v1/audio/calibrate", admin.clone()).await.unwrap();
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let (status, codes) = error_of(post("/api/v1/audio/calibrate", admin.clone()).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::CONFLICT, vec!["calibration_in_progress".to_string()])
    );
    seen.clear();
    let calibrate = "event: /api/v1/audio/calibrate\ndata: ";
    assert!(
        read_until(
            &mut events,
            &mut seen,
            &format!("{calibrate}{{\"status\":\"started\"}}"),
            Duration::from_secs(5)
        )
        .await,
        "{seen}"
    );
    assert!(
        read_until(
            &mut events,
            &mut seen,
            &format!("{calibrate}{{\"status\":\"completed\"}}"),
            Duration::from_secs(5)
        )
        .await,
        "{seen}"
    );

    // The device's USB and components follow its configuration; a reload announces them.
    let mut next = d.app.config().clone();
    next.device.usb_connected = false;
    next.device.device_status = "CableUnplugged".into();
    d.app.reload_config(next);
    seen.clear();
    assert!(
        read_until(
            &mut events,
            &mut seen,
            "event: deviceComponentsConnection\ndata: {\"status\":\"disconnected\"}",
            Duration::from_secs(5)
        )
        .await,
        "{seen}"
    );
    assert!(
        seen.contains("event: usbConnection\ndata: {\"status\":\"disconnected\"}"),
        "{seen}"
    );
    assert!(seen.contains("event: /api/v1/audio/hardware\ndata: {"), "{seen}");
    let status = d.get_json("/api/v1/status", &g).await;
    assert_eq!(status["usb"]["status"], "disconnected");
    let (status, codes) = error_of(post("/api/v1/audio/calibrate", admin).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::CONFLICT, vec!["speaker_bar_disconnected".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_settings_follow_the_firmware_and_the_documented_rules() {
    let d = Device::start_with("[device]\nfirmware_version = \"1.2.205433-0\"\n").await;
    let g = d.login("general", "").await;
    let audio = d.get_json("/api/v1/audio", &g).await;
    assert!(audio.get("echoReductionLevel").is_some(), "1.2 has it");
    for newer in ["dynamicBoostEnabled", "audienceMute", "voiceAmplificationGateThreshold"] {
        assert!(audio.get(newer).is_none(), "{newer} is not reported on 1.2");
    }
    let patch = |body: Value| {
        d.req(Method::PATCH, "/api/v1/audio")
            .header("Authorization", format!("Nureva {g}"))
            .json(&body)
            .send()
    };
    let resp = patch(json!({"dynamicBoostEnabled": true})).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "firmware_too_old");
    assert!(e["errors"][0]["message"].as_str().unwrap().contains("1.9"), "{e}");
    let (status, codes) = error_of(patch(json!({})).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["empty_patch".to_string()])
    );
    let (_, codes) = error_of(patch(json!({"bogus": 1})).await.unwrap()).await;
    assert_eq!(codes, ["unknown_field"]);
    let ok =
        patch(json!({"microphonePickupState": "Stereo", "microphoneGain": -6, "auxiliaryOutputState": "MixedSignal"}))
            .await
            .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(d.get_json("/api/v1/audio", &g).await["microphoneGain"], -6);

    // A reload to newer firmware: the same settings, reported as that firmware does.
    let mut next = d.app.config().clone();
    next.device.firmware_version = roomgate::testing::Firmware::parse("1.9.278056-0").unwrap();
    d.app.reload_config(next);
    let audio = d.get_json("/api/v1/audio", &g).await;
    assert_eq!(audio["microphoneGain"], -6);
    assert_eq!(audio["dynamicBoostEnabled"], false, "1.9 reports it: {audio}");
    let mut back = d.app.config().clone();
    back.device.firmware_version = roomgate::testing::Firmware::parse("1.2.205433-0").unwrap();
    d.app.reload_config(back);
    let audio = d.get_json("/api/v1/audio", &g).await;
    assert!(audio.get("dynamicBoostEnabled").is_none(), "1.2 again: {audio}");

    let doc: Value = d
        .req(Method::GET, "/api/v1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let caps = &doc["paths"]["/api/v1/audio"]["patch"]["x-nureva"]["capabilities"];
    assert_eq!(
        caps["dynamicBoostEnabled"]["requirementsFailed"]["minimumFirmware"], "1.9",
        "{caps}"
    );

    // On the default (newest) firmware: audience mute needs voice amplification.
    let d = Device::start().await;
    let g = d.login("general", "").await;
    let patch = |body: Value| {
        d.req(Method::PATCH, "/api/v1/audio")
            .header("Authorization", format!("Nureva {g}"))
            .json(&body)
            .send()
    };
    let (status, codes) = error_of(patch(json!({"audienceMute": true})).await.unwrap()).await;
    assert_eq!(
        (status, codes),
        (
            StatusCode::BAD_REQUEST,
            vec!["requires_voice_amplification".to_string()]
        )
    );
    let both = patch(json!({"voiceAmplificationEnabled": true, "audienceMute": true}))
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_belong_to_other_vendor_devices() {
    for model in ["hdl310", "hdl410"] {
        let d = Device::start_with(&format!("[device]\nmodel = \"{model}\"\n")).await;
        let g = d.login("general", "").await;
        let (status, codes) = error_of(d.get("/api/v1/settings", &g).send().await.unwrap()).await;
        assert_eq!(
            (status, codes),
            (StatusCode::CONFLICT, vec!["unsupported_device_type".to_string()])
        );
        let doc: Value = d
            .req(Method::GET, "/api/v1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let failed = &doc["paths"]["/api/v1/settings"]["get"]["x-nureva"]["requirementsFailed"];
        assert!(
            failed["supportedDeviceTypes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t != model)
        );
        assert!(
            d.get("/api/v1/settings", "nonsense").send().await.unwrap().status() == StatusCode::UNAUTHORIZED,
            "authentication first"
        );
    }
}
