//! PATCHes of the layout (`/api/v1/room/layout`) and of its camera switching part
//! (`/api/v1/room/zone-input-maps`).
//!
//! Each top-level field named replaces the stored one. Read-only fields (what the
//! device computes) are refused, as are fields the device's model does not have;
//! a bar's `hardwareId` may be sent back as the device reported it. Zones may be
//! sent with the older reference spellings (`types`, `ZoneLabel`, `zoneId`); a new
//! zone without an id gets a UUID. Every problem is reported, and nothing changes
//! unless the whole result keeps every rule.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    Algorithm, BarId, CameraDefaults, Geometry, InputMap, MeasurementSystem, Position, Rect, RoomDevice, RoomLayout,
    Zone, ZoneType, new_uuid, rules,
};
use crate::device::fields::{all_or_nothing, entry, patch_object, read_only, typed, unknown};
use crate::error::{ApiError, ErrorEntry};

/// What the device computes: reported, never set.
const READ_ONLY: &[&str] = &[
    "computedRoomDimensions",
    "computedAudioComponentPositions",
    "resolvedAudioComponentPositions",
];

/// Fields only an HDL410 has (the vendor: positions are set only on an HDL410;
/// camera switching and the algorithm are HDL410 features).
const HDL410_ONLY: &[&str] = &[
    "audioComponentPositions",
    "cameraSwitcherZoneInputMaps",
    "cameraSwitcherDefaults",
    "soundLocationAlgorithm",
];

/// A bar position as a client sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PositionInput {
    id: BarId,
    #[serde(default)]
    hardware_id: Option<String>,
    x: i32,
    y: i32,
    z: i32,
    z_angle: i32,
}

/// A zone as a client sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ZoneInput {
    #[serde(rename = "type", alias = "types")]
    kind: ZoneType,
    #[serde(default = "yes")]
    on: bool,
    #[serde(default)]
    active_zone_control: Option<BarId>,
    geometry: Geometry,
    #[serde(alias = "ZoneLabel")]
    label: String,
    #[serde(default, alias = "zoneId")]
    id: Option<String>,
}

fn yes() -> bool {
    true
}

impl From<ZoneInput> for Zone {
    fn from(z: ZoneInput) -> Zone {
        Zone {
            kind: z.kind,
            on: z.on,
            active_zone_control: z.active_zone_control,
            geometry: z.geometry,
            label: z.label,
            id: z.id.unwrap_or_else(new_uuid),
        }
    }
}

fn positions(value: &Value, device: &RoomDevice) -> Result<Vec<Position>, ErrorEntry> {
    let given: Vec<PositionInput> = typed("audioComponentPositions", value)?;
    let mut out = Vec::with_capacity(given.len());
    for (i, p) in given.into_iter().enumerate() {
        if let Some(hw) = &p.hardware_id
            && hw != device.hardware_id(p.id)
        {
            return Err(read_only(&format!("audioComponentPositions[{i}].hardwareId")));
        }
        out.push(Position {
            id: p.id,
            x: p.x,
            y: p.y,
            z: p.z,
            z_angle: p.z_angle,
        });
    }
    Ok(out)
}

/// Set one named field of `next`.
fn set_field(next: &mut RoomLayout, name: &str, value: &Value, device: &RoomDevice) -> Result<(), ErrorEntry> {
    if READ_ONLY.contains(&name) {
        return Err(read_only(name));
    }
    if HDL410_ONLY.contains(&name) && !device.model.is_hdl410() {
        return Err(entry(
            "unsupported_device_type",
            format!(
                "`{name}` is not supported on device type {} (supported: hdl410)",
                device.model
            ),
        ));
    }
    match name {
        "uiMeasurementSystem" => next.ui_measurement_system = typed::<MeasurementSystem>(name, value)?,
        "roomDimensionsVerified" => next.room_dimensions_verified = typed(name, value)?,
        "roomDimensions" => next.room_dimensions = typed::<Rect>(name, value)?,
        "audioComponentPositionsVerified" => next.audio_component_positions_verified = typed(name, value)?,
        "audioComponentPositions" => next.audio_component_positions = positions(value, device)?,
        "zones" => {
            let zones: Vec<ZoneInput> = typed(name, value)?;
            next.zones = zones.into_iter().map(Zone::from).collect();
        }
        "cameraSwitcherZoneInputMaps" => next.camera_switcher_zone_input_maps = typed::<Vec<InputMap>>(name, value)?,
        "cameraSwitcherDefaults" => next.camera_switcher_defaults = typed::<CameraDefaults>(name, value)?,
        "soundLocationAlgorithm" => next.sound_location_algorithm = typed::<Algorithm>(name, value)?,
        other => return Err(unknown(other, "room layout")),
    }
    Ok(())
}

impl RoomLayout {
    /// Apply a PATCH of the layout on `device`; the result keeps every rule.
    pub(crate) fn patched(&self, body: &Value, device: &RoomDevice) -> Result<RoomLayout, ApiError> {
        let obj = patch_object(body, "room layout")?;
        self.patched_fields(obj, device)
    }

    fn patched_fields(&self, obj: &Map<String, Value>, device: &RoomDevice) -> Result<RoomLayout, ApiError> {
        let mut next = self.clone();
        let errors: Vec<ErrorEntry> = obj
            .iter()
            .filter_map(|(name, value)| set_field(&mut next, name, value, device).err())
            .collect();
        let mut next = all_or_nothing(next, errors)?;
        if !obj.contains_key("cameraSwitcherZoneInputMaps") {
            // Replaced zones take their cameras with them.
            let zones = &next.zones;
            next.camera_switcher_zone_input_maps
                .retain(|m| zones.iter().any(|z| z.id == m.zone_id));
        }
        next.sync_active_profile();
        let errors = rules::check(&next, device);
        all_or_nothing(next, errors)
    }

    /// Apply `PATCH /api/v1/room/zone-input-maps`: `cameraSwitcherZoneInputMap`
    /// (the reference page's spelling; the layout's plural is accepted too) and
    /// `cameraSwitcherDefaults`.
    pub(crate) fn patched_input_maps(&self, body: &Value, device: &RoomDevice) -> Result<RoomLayout, ApiError> {
        let obj = patch_object(body, "zone input map")?;
        let mut fields = Map::new();
        let mut errors = Vec::new();
        for (name, value) in obj {
            let key = match name.as_str() {
                "cameraSwitcherZoneInputMap" | "cameraSwitcherZoneInputMaps" => "cameraSwitcherZoneInputMaps",
                "cameraSwitcherDefaults" => "cameraSwitcherDefaults",
                other => {
                    errors.push(unknown(other, "zone input map"));
                    continue;
                }
            };
            if fields.insert(key.to_string(), value.clone()).is_some() {
                errors.push(entry(
                    "invalid_body",
                    "send cameraSwitcherZoneInputMap or cameraSwitcherZoneInputMaps, not both".into(),
                ));
            }
        }
        all_or_nothing((), errors)?;
        self.patched_fields(&fields, device)
    }

    /// The camera switching part, spelled as `PATCH /api/v1/room/zone-input-maps` takes it.
    pub(crate) fn input_maps_document(&self) -> Value {
        serde_json::json!({
            "cameraSwitcherZoneInputMap": self.camera_switcher_zone_input_maps,
            "cameraSwitcherDefaults": self.camera_switcher_defaults,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{hdl310, hdl410};
    use super::*;

    fn codes(r: Result<RoomLayout, ApiError>) -> Vec<&'static str> {
        r.unwrap_err().entries().iter().map(|e| e.code).collect()
    }

    fn room(x_min: i32, x_max: i32, y_min: i32, y_max: i32) -> Value {
        json!({"roomDimensions": {"xMin": x_min, "xMax": x_max, "yMin": y_min, "yMax": y_max}})
    }

    fn zone(id: &str, p1: (i32, i32), p2: (i32, i32)) -> Value {
        json!({"type": "Switching", "on": true, "geometry": {"point1": {"x": p1.0, "y": p1.1}, "point2": {"x": p2.0, "y": p2.1}}, "label": format!("Zone {id}"), "id": id})
    }

    #[test]
    fn room_dimensions_hold_the_origin_and_an_hdl410_room_is_12_ft_square() {
        let d = RoomLayout::default();
        let cases: &[(Value, &[&str])] = &[
            (room(-1000, 4000, 0, 10800), &[]),
            (room(-1000, 4000, -500, 10800), &[]),
            (room(-3658, 0, 0, 3658), &[]),
            (
                room(500, 4000, 0, 10800),
                &["invalid_value", "room_too_small", "outside_room"],
            ),
            (room(-1000, 4000, 100, 10800), &["invalid_value", "outside_room"]),
            (
                room(-1000, -10, 0, 10800),
                &["invalid_value", "room_too_small", "outside_room"],
            ),
            (room(-1000, 2000, 0, 10800), &["room_too_small"]),
            (room(-2000, 2000, 0, 3000), &["room_too_small"]),
            (room(-60000, 4000, 0, 10800), &["out_of_range"]),
            (
                json!({"roomDimensions": {"xMin": "a", "xMax": 1, "yMin": 0, "yMax": 1}}),
                &["invalid_type"],
            ),
            (
                json!({"roomDimensions": {"xMin": 0, "xMax": 1, "yMin": 0}}),
                &["missing_field"],
            ),
            (
                json!({"roomDimensions": {"xMin": 0, "xMax": 1, "yMin": 0, "yMax": 1, "zMax": 3}}),
                &["unknown_field"],
            ),
        ];
        for (body, expected) in cases {
            let got = d.patched(body, &hdl410());
            match expected {
                [] => assert!(got.is_ok(), "{body}: {got:?}"),
                _ => assert_eq!(codes(got), *expected, "{body}"),
            }
        }
        // An HDL310 has no minimum size, but the room still holds the origin.
        assert!(d.patched(&room(-1000, 1000, 0, 2000), &hdl310()).is_ok());
        assert_eq!(codes(d.patched(&room(-1000, 1000, 0, 0), &hdl310())), ["invalid_value"]);
    }

    #[test]
    fn bar_positions_are_right_angles_inside_the_room_with_the_primary_at_the_origin() {
        let d = RoomLayout::default();
        let with = |second: Value| json!({"audioComponentPositions": [{"id": "AUDIO_BAR_0", "x": 0, "y": 0, "z": 0, "zAngle": 0}, second]});
        let bar1 = |x: i32, y: i32, a: i32| json!({"id": "AUDIO_BAR_1", "x": x, "y": y, "z": 0, "zAngle": a});
        for a in [0, 90, 180, 270] {
            assert!(d.patched(&with(bar1(-2000, 5000, a)), &hdl410()).is_ok(), "{a}");
        }
        let cases: &[(Value, &[&str])] = &[
            (with(bar1(0, 5000, 45)), &["invalid_value"]),
            (with(bar1(0, 5000, 360)), &["invalid_value"]),
            (with(bar1(-3001, 5000, 90)), &["outside_room"]),
            (with(bar1(0, 6001, 90)), &["outside_room"]),
            (
                with(json!({"id": "AUDIO_BAR_0", "x": 0, "y": 0, "z": 0, "zAngle": 0})),
                &["invalid_value"],
            ),
            (
                with(json!({"id": "AUDIO_BAR_2", "x": 0, "y": 0, "z": 0, "zAngle": 0})),
                &["invalid_value"],
            ),
            (
                json!({"audioComponentPositions": [{"id": "AUDIO_BAR_0", "x": 10, "y": 0, "z": 0, "zAngle": 90}]}),
                &["invalid_value"],
            ),
            (
                with(json!({"id": "AUDIO_BAR_1", "hardwareId": "SOMETHING-ELSE", "x": 0, "y": 0, "z": 0, "zAngle": 0})),
                &["read_only_field"],
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(codes(d.patched(body, &hdl410())), *expected, "{body}");
        }
        // The hardwareId as reported may be sent back.
        let echoed =
            with(json!({"id": "AUDIO_BAR_1", "hardwareId": "AA4111AB0001", "x": 0, "y": 6000, "z": 0, "zAngle": 180}));
        assert!(d.patched(&echoed, &hdl410()).is_ok());
        // Shrinking the room past a bar is refused too.
        let placed = d.patched(&with(bar1(-2500, 5000, 90)), &hdl410()).unwrap();
        assert_eq!(
            codes(placed.patched(&room(-2000, 2000, 0, 6000), &hdl410())),
            ["outside_room"]
        );
    }

    #[test]
    fn zones_are_at_most_eight_camera_zones_always_on_that_never_overlap() {
        let d = RoomLayout::default();
        let zones = |z: Vec<Value>| json!({"zones": z});
        let eight: Vec<Value> = (0..8)
            .map(|i| zone(&format!("z{i}"), (i * 1000, 0), (i * 1000 + 1000, 1000)))
            .collect();
        assert!(
            d.patched(&zones(eight.clone()), &hdl410()).is_ok(),
            "touching edges do not overlap"
        );
        let mut nine = eight;
        nine.push(zone("z9", (0, 5000), (1000, 6000)));
        let mut off = zone("a", (0, 0), (10, 10));
        off["on"] = json!(false);
        let mut active = zone("a", (0, 0), (10, 10));
        active["type"] = json!("Active");
        active["activeZoneControl"] = json!("AUDIO_BAR_0");
        let mut control = zone("a", (0, 0), (10, 10));
        control["activeZoneControl"] = json!("AUDIO_BAR_1");
        let mut bad_control = zone("a", (0, 0), (10, 10));
        bad_control["activeZoneControl"] = json!("AUDIO_BAR_7");
        let mut bad_type = zone("a", (0, 0), (10, 10));
        bad_type["type"] = json!("Exclusion");
        let cases: Vec<(Value, &[&str])> = vec![
            (zones(nine), &["too_many_zones"]),
            (
                zones(vec![
                    zone("a", (0, 0), (2000, 2000)),
                    zone("b", (1000, 1000), (3000, 3000)),
                ]),
                &["zones_overlap"],
            ),
            (
                zones(vec![
                    zone("a", (0, 0), (2000, 2000)),
                    zone("a", (5000, 0), (6000, 1000)),
                ]),
                &["invalid_value"],
            ),
            (zones(vec![zone("a", (0, 0), (0, 2000))]), &["invalid_value"]),
            (zones(vec![zone("", (0, 0), (10, 10))]), &["out_of_range"]),
            (zones(vec![zone("a", (0, 0), (90000, 10))]), &["out_of_range"]),
            (zones(vec![off]), &["invalid_value"]),
            (zones(vec![active]), &["unsupported_zone_type"]),
            (zones(vec![control]), &["invalid_value"]),
            (zones(vec![bad_control]), &["invalid_value"]),
            (zones(vec![bad_type]), &["invalid_value"]),
            (json!({"zones": "none"}), &["invalid_type"]),
        ];
        for (body, expected) in cases {
            assert_eq!(codes(d.patched(&body, &hdl410())), expected, "{body}");
        }
        // Zones may lie outside the room.
        assert!(
            d.patched(&zones(vec![zone("far", (9000, 9000), (9500, 9500))]), &hdl410())
                .is_ok()
        );
    }

    #[test]
    fn older_zone_spellings_are_accepted_and_missing_ids_made() {
        let d = RoomLayout::default();
        let body = json!({"zones": [
            {"types": "Switching", "geometry": {"point1": {"x": 1000, "y": 1000}, "point2": {"x": 2000, "y": 2000}},
             "zoneId": "2345313e-deb8-4cd4-a58a-2df031296958", "ZoneLabel": "Zone 1"},
            {"type": "Switching", "geometry": {"point1": {"x": 3000, "y": 3000}, "point2": {"x": 4000, "y": 4000}}, "label": "Zone 2"},
        ]});
        let p = d.patched(&body, &hdl410()).unwrap();
        assert_eq!(p.zones[0].id, "2345313e-deb8-4cd4-a58a-2df031296958");
        assert_eq!(p.zones[0].label, "Zone 1");
        assert!(p.zones[0].on);
        assert!(super::super::is_uuid(&p.zones[1].id));
        let out = serde_json::to_value(&p.zones[0]).unwrap();
        assert_eq!(
            out.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["type", "on", "geometry", "label", "id"]
        );
    }

    #[test]
    fn input_maps_name_camera_zones_and_defaults_are_whole_and_enumerated() {
        let d = RoomLayout::default()
            .patched(
                &json!({"zones": [zone("a", (0, 0), (10, 10)), zone("b", (20, 20), (30, 30))]}),
                &hdl410(),
            )
            .unwrap();
        let maps = |m: Value| json!({"cameraSwitcherZoneInputMaps": m});
        assert!(
            d.patched(
                &maps(json!([{"zoneId": "a", "inputPort": "HDMI"}, {"zoneId": "b", "inputPort": "USB2"}])),
                &hdl410()
            )
            .is_ok()
        );
        let defaults = |v: Value| json!({"cameraSwitcherDefaults": v});
        let cases: Vec<(Value, &[&str])> = vec![
            (
                maps(json!([{"zoneId": "nope", "inputPort": "HDMI"}])),
                &["no_such_zone"],
            ),
            (
                maps(json!([{"zoneId": "a", "inputPort": "HDMI"}, {"zoneId": "a", "inputPort": "USB1"}])),
                &["invalid_value"],
            ),
            (maps(json!([{"zoneId": "a", "inputPort": "USB3"}])), &["invalid_value"]),
            (
                defaults(json!({"defaultCameraInputPort": "HDMI", "zonesTriggerWaitTime": 1000})),
                &["missing_field"],
            ),
            (
                defaults(
                    json!({"defaultCameraInputPort": "VGA", "zonesTriggerWaitTime": 1, "switchToDefaultWaitTime": 1}),
                ),
                &["invalid_value"],
            ),
            (
                defaults(
                    json!({"defaultCameraInputPort": "HDMI", "zonesTriggerWaitTime": -1, "switchToDefaultWaitTime": 1}),
                ),
                &["invalid_type"],
            ),
            (
                defaults(
                    json!({"defaultCameraInputPort": "HDMI", "zonesTriggerWaitTime": 1, "switchToDefaultWaitTime": 600_001}),
                ),
                &["out_of_range"],
            ),
            (json!({"soundLocationAlgorithm": "MAGIC"}), &["invalid_value"]),
        ];
        for (body, expected) in cases {
            assert_eq!(codes(d.patched(&body, &hdl410())), expected, "{body}");
        }
        let tdoa = d
            .patched(&json!({"soundLocationAlgorithm": "TDOA"}), &hdl410())
            .unwrap();
        assert_eq!(tdoa.sound_location_algorithm, Algorithm::TDOA);
        // Removing a zone takes its camera with it.
        let mapped = d
            .patched(&maps(json!([{"zoneId": "b", "inputPort": "USB2"}])), &hdl410())
            .unwrap();
        let fewer = mapped
            .patched(&json!({"zones": [zone("a", (0, 0), (10, 10))]}), &hdl410())
            .unwrap();
        assert!(fewer.camera_switcher_zone_input_maps.is_empty());
    }

    #[test]
    fn read_only_unknown_and_model_fields_are_refused_all_at_once_and_nothing_changes() {
        let d = RoomLayout::default();
        let body = json!({
            "uiMeasurementSystem": "IMPERIAL",
            "computedRoomDimensions": {},
            "resolvedAudioComponentPositions": [],
            "bogus": 1,
            "uiMeasurementSystem2": "METRIC",
        });
        assert_eq!(
            codes(d.patched(&body, &hdl410())),
            ["read_only_field", "read_only_field", "unknown_field", "unknown_field"]
        );
        for field in HDL410_ONLY {
            let body = json!({ *field: [] });
            assert_eq!(
                codes(d.patched(&body, &hdl310())),
                ["unsupported_device_type"],
                "{field}"
            );
        }
        assert!(
            d.patched(
                &json!({"uiMeasurementSystem": "IMPERIAL", "roomDimensionsVerified": true}),
                &hdl310()
            )
            .is_ok()
        );
        assert_eq!(codes(d.patched(&json!({}), &hdl410())), ["empty_patch"]);
        assert_eq!(codes(d.patched(&json!([]), &hdl410())), ["invalid_body"]);
    }

    #[test]
    fn the_zone_input_maps_endpoint_takes_its_singular_spelling() {
        let d = RoomLayout::default()
            .patched(
                &json!({"zones": [zone("40dc92d0-1b49-44c8-ada8-3a0f97b7b185", (0, 0), (10, 10))]}),
                &hdl410(),
            )
            .unwrap();
        let body = json!({
            "cameraSwitcherZoneInputMap": [{"zoneId": "40dc92d0-1b49-44c8-ada8-3a0f97b7b185", "inputPort": "USB1"}],
            "cameraSwitcherDefaults": {"defaultCameraInputPort": "USB1", "zonesTriggerWaitTime": 1000, "switchToDefaultWaitTime": 5000},
        });
        let p = d.patched_input_maps(&body, &hdl410()).unwrap();
        assert_eq!(p.input_maps_document(), body);
        assert_eq!(
            codes(d.patched_input_maps(&json!({"zones": []}), &hdl410())),
            ["unknown_field"]
        );
        assert_eq!(
            codes(d.patched_input_maps(
                &json!({"cameraSwitcherZoneInputMap": [], "cameraSwitcherZoneInputMaps": []}),
                &hdl410()
            )),
            ["invalid_body"]
        );
    }
}
