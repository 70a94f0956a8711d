//! The room endpoints of an HDL410 reference device as the vendor documents them:
//! room layout, zone input maps, room profiles, the camera switcher integration
//! and the network configuration, each change announced on `/api/v1/events`; and
//! an HDL310 refusing what only an HDL410 has.
//!
//! The vendor's pages show one curl for this area (`GET /api/v1/room/layout`, with
//! the factory general credential and, on the newest page, an admin one); those
//! are run verbatim with the real `curl`, only the host replaced and the device
//! certificate trusted. The other pages give request bodies without a curl: they
//! are sent verbatim in the same curl house style.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use roomgate::testing::Role;
use serde_json::{Value, json};

use crate::common::{Device, error_of};

/// An HDL410 as shipped (it takes the factory `Nureva Z2VuZXJhbDo=` by default).
const HDL410: &str = "[device]\nmodel = \"hdl410\"\n";
const HDL310: &str = "[device]\nmodel = \"hdl310\"\n";

/// The vendor's "Set measurement system" step 1 (older page versions), verbatim.
const GET_LAYOUT: &str = r"curl --request GET \
     --url https://10.0.0.1/api/v1/room/layout \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";

/// The same step on the newest page, verbatim (admin placeholder).
const GET_LAYOUT_ADMIN: &str = r"curl --request GET \
--url https://10.0.0.1/api/v1/room/layout \
--header 'Authorization: Nureva <YOUR_ADMIN_AUTHPARAMETERS>' \
--header 'Nureva-Client-Id: integration_app_name' \
--header 'Nureva-Client-Version: 0.0.1'";

/// The "Set room layout" reference page's example request body, verbatim.
const SET_LAYOUT_BODY: &str = r#"{
"uiMeasurementSystem": "IMPERIAL",
"roomDimensionsVerified": false,
"roomDimensions": {"xMin": -1000, "xMax": 4000, "yMin": 0, "yMax": 10800},
"audioComponentPositionsVerified": false,
"audioComponentPositions": [
 {"id": "AUDIO_BAR_0", "x": 0, "y": 0, "z": 0, "zAngle": 0},
 {"id": "AUDIO_BAR_1", "x": -3000, "y": 9000, "z": 0, "zAngle": 90}
],
"zones": [
 {"types": "Switching", "on": true, "geometry": {"point1": {"x": 1000, "y": 1000}, "point2": {"x": 2000, "y": 2000}},
  "zoneId": "2345313e-deb8-4cd4-a58a-2df031296958", "ZoneLabel": "Zone 1"},
 {"types": "Switching", "on": true, "geometry": {"point1": {"x": 3000, "y": 3000}, "point2": {"x": 4000, "y": 4000}},
  "zoneId": "9599a6a6-1603-4ceb-97f8-0008163ad88c", "ZoneLabel": "Zone 2"}
],
"cameraSwitcherZoneInputMaps": [
 {"zoneId": "2345313e-deb8-4cd4-a58a-2df031296958", "inputPort": "HDMI"},
 {"zoneId": "9599a6a6-1603-4ceb-97f8-0008163ad88c", "inputPort": "USB1"}
],
"cameraSwitcherDefaults": {"defaultCameraInputPort": "HDMI", "zonesTriggerWaitTime": 1000, "switchToDefaultWaitTime": 5000},
"soundLocationAlgorithm": "BP"
}"#;

/// The "Set room zone input maps" reference page's example request body, verbatim.
const ZONE_INPUT_MAPS_BODY: &str = r#"{
"cameraSwitcherZoneInputMap": [
{
"zoneId": "40dc92d0-1b49-44c8-ada8-3a0f97b7b185",
"inputPort": "USB1"
},
{
"zoneId": "11666dd5-3213-440f-afbf-3d1691547ef4",
"inputPort": "USB2"
}
],
"cameraSwitcherDefaults": {
"defaultCameraInputPort": "USB1",
"zonesTriggerWaitTime": 1000,
"switchToDefaultWaitTime": 5000
}
}"#;

/// A request in the vendor's curl style with a body.
fn curl_with_body(method: &str, path: &str, token: &str, body: &str) -> String {
    format!(
        "curl --request {method} \\\n     --url https://10.0.0.1{path} \\\n     --header 'Authorization: Nureva {token}' \\\n     --header 'Nureva-Client-Id: integration_app_name' \\\n     --header 'Nureva-Client-Version: 0.0.1' \\\n     --header 'Content-Type: application/json' \\\n     --data '{body}'"
    )
}

/// Run a vendor curl against `d` (see [`Device::vendor_curl`]); curl must succeed.
/// The status and the body (JSON, or Null when empty).
async fn curl(d: &Device, script: &str) -> (u16, Value) {
    let a = d.vendor_curl(script, 20).await;
    assert!(a.ok, "{}", script.lines().next().unwrap_or(""));
    let body = if a.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("not JSON: {}", a.body))
    };
    (a.status, body)
}

/// Integrator and admin tokens.
async fn integrator_and_admin(d: &Device) -> (String, String) {
    d.set_password(Role::Integrator, "integrator-pass-1").await;
    (d.login("integrator", "integrator-pass-1").await, d.admin_token().await)
}

/// The data of the next `event: name` on `stream`.
async fn next_event(stream: &mut Response, seen: &mut String, name: &str) -> Value {
    let head = format!("event: {name}\n");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(at) = seen.find(&head)
            && let Some(end) = seen[at..].find("\n\n")
        {
            let frame = seen[at..at + end].to_string();
            seen.replace_range(..at + end + 2, "");
            let data = frame.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            return serde_json::from_str(data).unwrap();
        }
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("no {name} event ({other:?}); saw {seen:?}"),
        }
    }
}

async fn send(d: &Device, method: Method, path: &str, token: &str, body: Option<Value>) -> Response {
    let mut r = d.req(method, path).header("Authorization", format!("Nureva {token}"));
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_s_get_room_layout_curls_answer_as_documented() {
    let d = Device::start_with(HDL410).await;
    let (_, admin) = integrator_and_admin(&d).await;
    let (status, layout) = curl(&d, GET_LAYOUT).await;
    assert_eq!(status, 200, "{layout}");
    assert!(["IMPERIAL", "METRIC"].contains(&layout["uiMeasurementSystem"].as_str().unwrap()));
    for field in [
        "roomDimensionsVerified",
        "roomDimensions",
        "computedRoomDimensions",
        "audioComponentPositionsVerified",
        "audioComponentPositions",
        "computedAudioComponentPositions",
        "resolvedAudioComponentPositions",
        "zones",
        "cameraSwitcherZoneInputMaps",
        "cameraSwitcherDefaults",
        "soundLocationAlgorithm",
    ] {
        assert!(layout.get(field).is_some(), "{field}");
    }
    assert_eq!(layout["soundLocationAlgorithm"], "BP");
    // hardwareId is the bars' own, as GET /api/v1/audio/hardware reports them.
    let general = d.login("general", "").await;
    let hw = d.get_json("/api/v1/audio/hardware", &general).await;
    let bars: Vec<&Value> = hw["hardwareComponents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["model"] == "Bar")
        .map(|c| &c["hardwareId"])
        .collect();
    let computed = layout["computedAudioComponentPositions"].as_array().unwrap();
    assert_eq!(computed.iter().map(|p| &p["hardwareId"]).collect::<Vec<_>>(), bars);
    assert_eq!(computed[0]["id"], "AUDIO_BAR_0");
    assert_eq!(computed[1]["id"], "AUDIO_BAR_1");
    let resolved = &layout["resolvedAudioComponentPositions"];
    assert_eq!(resolved[0]["source"], "USER_DEFINED");
    assert_eq!(resolved[0]["position"], layout["audioComponentPositions"][0]);

    let (status, as_admin) = curl(&d, &GET_LAYOUT_ADMIN.replace("<YOUR_ADMIN_AUTHPARAMETERS>", &admin)).await;
    assert_eq!((status, &as_admin), (200, &layout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_s_set_room_layout_body_is_judged_by_the_vendor_s_rules() {
    let d = Device::start_with(HDL410).await;
    let (integrator, admin) = integrator_and_admin(&d).await;
    let general = d.login("general", "").await;
    let mut events = d.get("/api/v1/events", &general).send().await.unwrap();
    let mut seen = String::new();
    let before = curl(&d, GET_LAYOUT).await.1;

    // The example places AUDIO_BAR_1 at x = -3000 in a room whose wall is at
    // xMin = -1000: the vendor's own rule ("cannot be ... outside of the room")
    // refuses it, and nothing changes.
    let (status, refused) = curl(
        &d,
        &curl_with_body("PATCH", "/api/v1/room/layout", &admin, SET_LAYOUT_BODY),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let codes: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["outside_room"]);
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("audioComponentPositions[1]")
    );
    assert_eq!(curl(&d, GET_LAYOUT).await.1, before);

    // With the room wide enough for the bar, the example body is taken as written.
    let widened = SET_LAYOUT_BODY.replace("\"xMin\": -1000", "\"xMin\": -4000");
    let (status, layout) = curl(
        &d,
        &curl_with_body("PATCH", "/api/v1/room/layout", &integrator, &widened),
    )
    .await;
    assert_eq!(status, 200, "{layout}");
    assert_eq!(layout["uiMeasurementSystem"], "IMPERIAL");
    assert_eq!(
        layout["zones"][0],
        json!({"type": "Switching", "on": true,
               "geometry": {"point1": {"x": 1000, "y": 1000}, "point2": {"x": 2000, "y": 2000}},
               "label": "Zone 1", "id": "2345313e-deb8-4cd4-a58a-2df031296958"})
    );
    assert_eq!(layout["cameraSwitcherZoneInputMaps"][0]["inputPort"], "HDMI");
    assert_eq!(layout["cameraSwitcherDefaults"]["defaultCameraInputPort"], "HDMI");
    assert_eq!(layout["audioComponentPositions"][1]["zAngle"], 90);
    assert_eq!(layout["resolvedAudioComponentPositions"][1]["source"], "USER_DEFINED");
    assert_eq!(curl(&d, GET_LAYOUT).await.1, layout, "GET answers what PATCH did");
    let announced = next_event(&mut events, &mut seen, "/api/v1/room/layout").await;
    assert_eq!(announced, layout, "the event carries the new layout");

    // general may read the layout but not change it.
    let r = send(
        &d,
        Method::PATCH,
        "/api/v1/room/layout",
        &general,
        Some(serde_json::from_str("{\"uiMeasurementSystem\": \"METRIC\"}").unwrap()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_s_zone_input_maps_body_maps_cameras_to_zones() {
    let d = Device::start_with(HDL410).await;
    let (integrator, _) = integrator_and_admin(&d).await;
    let general = d.login("general", "").await;
    // The maps name two zones: make them first.
    let zone = |id: &str, x: i32| json!({"type": "Switching", "geometry": {"point1": {"x": x, "y": 1000}, "point2": {"x": x + 1000, "y": 2000}}, "label": id, "id": id});
    let zones = json!({"zones": [zone("40dc92d0-1b49-44c8-ada8-3a0f97b7b185", -2000), zone("11666dd5-3213-440f-afbf-3d1691547ef4", 0)]});
    assert_eq!(
        send(&d, Method::PATCH, "/api/v1/room/layout", &integrator, Some(zones))
            .await
            .status(),
        StatusCode::OK
    );
    let mut events = d.get("/api/v1/events", &general).send().await.unwrap();
    let mut seen = String::new();

    let r = send(
        &d,
        Method::PATCH,
        "/api/v1/room/zone-input-maps",
        &general,
        Some(serde_json::from_str(ZONE_INPUT_MAPS_BODY).unwrap()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "integrator is the minimum role");
    let (status, answer) = curl(
        &d,
        &curl_with_body(
            "PATCH",
            "/api/v1/room/zone-input-maps",
            &integrator,
            ZONE_INPUT_MAPS_BODY,
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, serde_json::from_str::<Value>(ZONE_INPUT_MAPS_BODY).unwrap());
    let layout = curl(&d, GET_LAYOUT).await.1;
    assert_eq!(
        layout["cameraSwitcherZoneInputMaps"],
        answer["cameraSwitcherZoneInputMap"]
    );
    assert_eq!(layout["cameraSwitcherDefaults"], answer["cameraSwitcherDefaults"]);
    let announced = next_event(&mut events, &mut seen, "/api/v1/room/layout").await;
    assert_eq!(announced["cameraSwitcherZoneInputMaps"][1]["inputPort"], "USB2");

    // A map to a zone that does not exist is refused, with every other problem.
    let bad = json!({"cameraSwitcherZoneInputMap": [{"zoneId": "nope", "inputPort": "USB9"}, {"zoneId": "nope", "inputPort": "HDMI"}], "extra": 1});
    let (status, codes) = error_of(
        send(
            &d,
            Method::PATCH,
            "/api/v1/room/zone-input-maps",
            &integrator,
            Some(bad),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["unknown_field".to_string()])
    );
    let bad = json!({"cameraSwitcherZoneInputMap": [{"zoneId": "nope", "inputPort": "HDMI"}]});
    let (status, codes) = error_of(
        send(
            &d,
            Method::PATCH,
            "/api/v1/room/zone-input-maps",
            &integrator,
            Some(bad),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["no_such_zone".to_string()])
    );
    assert_eq!(curl(&d, GET_LAYOUT).await.1, layout, "refused changes change nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_profiles_hold_zones_and_activating_one_applies_it() {
    let d = Device::start_with(HDL410).await;
    let (integrator, _) = integrator_and_admin(&d).await;
    let general = d.login("general", "").await;
    let mut events = d.get("/api/v1/events", &general).send().await.unwrap();
    let mut seen = String::new();
    // The "Configure room profiles" tutorial's first step, in the vendor's curl style.
    let list = r"curl --request GET \
     --url https://10.0.0.1/api/v1/room/profiles \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";
    assert_eq!(curl(&d, list).await, (200, json!({"profiles": []})));

    let create = |name: &str| {
        send(
            &d,
            Method::POST,
            "/api/v1/room/profiles",
            &integrator,
            Some(json!({"name": name})),
        )
    };
    assert_eq!(
        send(
            &d,
            Method::POST,
            "/api/v1/room/profiles",
            &general,
            Some(json!({"name": "x"}))
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let r = create("Lecture").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let lecture: Value = r.json().await.unwrap();
    assert_eq!(
        (lecture["name"].clone(), lecture["active"].clone()),
        (json!("Lecture"), json!(true))
    );
    let lecture_id = lecture["profileId"].as_str().unwrap().to_string();
    assert_eq!(
        next_event(&mut events, &mut seen, "/api/v1/room/profiles").await["profiles"][0],
        lecture
    );

    let zone = |id: &str, x: i32| json!({"zones": [{"type": "Switching", "geometry": {"point1": {"x": x, "y": 0}, "point2": {"x": x + 900, "y": 900}}, "label": id, "id": id}]});
    send(
        &d,
        Method::PATCH,
        "/api/v1/room/layout",
        &integrator,
        Some(zone("front", 0)),
    )
    .await;
    let panel: Value = create("Panel").await.json().await.unwrap();
    let panel_id = panel["profileId"].as_str().unwrap().to_string();
    let (status, codes) = error_of(create("Panel").await).await;
    assert_eq!(
        (status, codes),
        (StatusCode::CONFLICT, vec!["profile_name_taken".to_string()])
    );
    create("Workshop").await;
    let (status, codes) = error_of(create("Fourth").await).await;
    assert_eq!(
        (status, codes),
        (StatusCode::CONFLICT, vec!["too_many_profiles".to_string()])
    );

    // Activate Panel (POST …/active, no body), change its zones, then go back.
    let active = send(
        &d,
        Method::POST,
        &format!("/api/v1/room/profiles/{panel_id}/active"),
        &integrator,
        None,
    )
    .await;
    assert_eq!(active.status(), StatusCode::OK);
    assert_eq!(active.json::<Value>().await.unwrap()["active"], true);
    send(
        &d,
        Method::PATCH,
        "/api/v1/room/layout",
        &integrator,
        Some(zone("table", 3000)),
    )
    .await;
    seen.clear();
    let back = send(
        &d,
        Method::POST,
        &format!("/api/v1/room/profiles/{lecture_id}/active"),
        &integrator,
        None,
    )
    .await;
    assert_eq!(back.status(), StatusCode::OK);
    let layout = next_event(&mut events, &mut seen, "/api/v1/room/layout").await;
    assert_eq!(
        layout["zones"][0]["id"], "front",
        "activating a profile applies its zones"
    );
    let profiles = d.get_json("/api/v1/room/profiles", &general).await;
    let actives: Vec<&Value> = profiles["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["active"] == true)
        .collect();
    assert_eq!(actives.len(), 1);
    assert_eq!(actives[0]["profileId"], lecture_id.as_str());

    // Rename and delete.
    let renamed = send(
        &d,
        Method::PATCH,
        &format!("/api/v1/room/profiles/{panel_id}"),
        &integrator,
        Some(json!({"name": "Debate"})),
    )
    .await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["name"], "Debate");
    let gone = send(
        &d,
        Method::DELETE,
        &format!("/api/v1/room/profiles/{panel_id}"),
        &integrator,
        None,
    )
    .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let (status, codes) = error_of(
        send(
            &d,
            Method::DELETE,
            &format!("/api/v1/room/profiles/{panel_id}"),
            &integrator,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (StatusCode::NOT_FOUND, vec!["no_such_profile".to_string()])
    );

    // Profiles persist.
    let dir = d.stop().await;
    let d = Device::start_in(dir, HDL410).await;
    let names: Vec<String> = d
        .app
        .snapshot()
        .device
        .room_layout
        .profiles
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["Lecture", "Workshop"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_switcher_integration_is_read_by_general_and_set_by_integrator() {
    let d = Device::start_with(HDL410).await;
    let (integrator, _) = integrator_and_admin(&d).await;
    let general = d.login("general", "").await;
    let mut events = d.get("/api/v1/events", &general).send().await.unwrap();
    let mut seen = String::new();
    let get = r"curl --request GET \
     --url https://10.0.0.1/api/v1/integrations/camera-switcher \
     --header 'Authorization: Nureva Z2VuZXJhbDo=' \
     --header 'Nureva-Client-Id: integration_app_name' \
     --header 'Nureva-Client-Version: 0.0.1'";
    let (status, doc) = curl(&d, get).await;
    assert_eq!(status, 200);
    assert_eq!(doc["enabled"], false);
    assert_eq!(doc["activeCameraInput"], Value::Null);
    let r = send(
        &d,
        Method::PATCH,
        "/api/v1/integrations/camera-switcher",
        &general,
        Some(serde_json::from_str("{\"enabled\": true}").unwrap()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, doc) = curl(
        &d,
        &curl_with_body(
            "PATCH",
            "/api/v1/integrations/camera-switcher",
            &integrator,
            "{\"enabled\": true, \"ipOrHostname\": \"10.0.0.20\"}",
        ),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        (doc["enabled"].clone(), doc["activeCameraInput"].clone()),
        (json!(true), json!("USB1"))
    );
    assert_eq!(
        next_event(&mut events, &mut seen, "/api/v1/integrations/camera-switcher").await,
        doc
    );
    let (status, codes) = error_of(
        send(
            &d,
            Method::PATCH,
            "/api/v1/integrations/camera-switcher",
            &integrator,
            Some(json!({"model": "X", "enabled": 1})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (
            StatusCode::BAD_REQUEST,
            vec!["read_only_field".to_string(), "invalid_type".to_string()]
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_configuration_reports_the_device_s_address() {
    let d = Device::start_with(
        "[device]\nmodel = \"hdl410\"\nip_address = \"127.0.0.1\"\nmac_address = \"cd:ba:ea:fb:a9:b8\"\n",
    )
    .await;
    let general = d.login("general", "").await;
    let net = d.get_json("/api/v1/network/configuration", &general).await;
    let port = &net["networkConfiguration"][0];
    assert_eq!(port["port"], "A");
    assert_eq!(port["ip"], "127.0.0.1");
    assert_eq!(port["mac"], "cd:ba:ea:fb:a9:b8");
    assert_eq!(port["isStatic"], true);
    assert!(port["dns"].is_array() && port["subnetMask"].is_string() && port["gateway"].is_string());
    let hw = d.get_json("/api/v1/audio/hardware", &general).await;
    assert_eq!((&hw["ipAddress"], &hw["mac_address"]), (&port["ip"], &port["mac"]));
    let r = d
        .req(Method::PATCH, "/api/v1/network/configuration")
        .header("Authorization", format!("Nureva {general}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "read-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hdl310_refuses_what_only_an_hdl410_has() {
    let d = Device::start_with(HDL310).await;
    let (integrator, _) = integrator_and_admin(&d).await;
    let some = "00000000-0000-4000-8000-000000000000";
    for (method, path, body) in [
        (
            Method::PATCH,
            "/api/v1/room/zone-input-maps".to_string(),
            Some(json!({"cameraSwitcherZoneInputMap": []})),
        ),
        (Method::GET, "/api/v1/room/profiles".to_string(), None),
        (
            Method::POST,
            "/api/v1/room/profiles".to_string(),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/room/profiles/{some}"),
            Some(json!({"name": "x"})),
        ),
        (Method::POST, format!("/api/v1/room/profiles/{some}/active"), None),
        (Method::DELETE, format!("/api/v1/room/profiles/{some}"), None),
        (Method::GET, "/api/v1/integrations/camera-switcher".to_string(), None),
        (
            Method::PATCH,
            "/api/v1/integrations/camera-switcher".to_string(),
            Some(json!({"enabled": true})),
        ),
    ] {
        let (status, codes) = error_of(send(&d, method.clone(), &path, &integrator, body).await).await;
        assert_eq!(
            (status, codes),
            (StatusCode::CONFLICT, vec!["unsupported_device_type".to_string()]),
            "{method} {path}"
        );
    }
    // Its layout has what an HDL310 has.
    let layout = d.get_json("/api/v1/room/layout", &integrator).await;
    assert_eq!(layout["computedAudioComponentPositions"].as_array().unwrap().len(), 1);
    assert!(layout.get("cameraSwitcherDefaults").is_none() && layout.get("soundLocationAlgorithm").is_none());
    let (status, codes) = error_of(
        send(
            &d,
            Method::PATCH,
            "/api/v1/room/layout",
            &integrator,
            Some(json!({"soundLocationAlgorithm": "TDOA", "uiMeasurementSystem": "IMPERIAL"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (StatusCode::BAD_REQUEST, vec!["unsupported_device_type".to_string()])
    );
    let r = send(
        &d,
        Method::PATCH,
        "/api/v1/room/layout",
        &integrator,
        Some(json!({"uiMeasurementSystem": "IMPERIAL"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let general = d.login("general", "").await;
    assert_eq!(
        d.get_status("/api/v1/network/configuration", &general).await,
        StatusCode::OK
    );
}
