//! Reading a stored room: the current form, and layouts stored before the room
//! had the vendor's schema — zones as `xMin`/`xMax`/`yMin`/`yMax` rectangles of
//! type `Switching` or `Exclusion`, angles 0–359, a room whose front wall could be
//! in front of the origin (`yMin` > 0), bars with any id.
//!
//! An old layout is converted, never refused (the device must start): the room is
//! widened to hold the origin, angles are rounded to the nearest right angle, bars
//! other than `AUDIO_BAR_0`/`AUDIO_BAR_1` are dropped and the primary is put at the
//! origin, exclusion zones (which the vendor's devices do not have) are dropped,
//! as are zones past the eighth or overlapping an earlier one, and cameras of
//! zones that are gone. What was dropped is logged.

use serde::Deserialize;

use super::{
    Algorithm, BarId, CameraDefaults, Geometry, InputMap, MAX_ZONES, MeasurementSystem, Point, Position, Profile, Rect,
    RoomLayout, Zone, ZoneType, new_uuid,
};
use crate::device::camera::CameraSwitcher;

/// A stored layout, current or older.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct StoredLayout {
    ui_measurement_system: MeasurementSystem,
    room_dimensions_verified: bool,
    room_dimensions: Rect,
    audio_component_positions_verified: bool,
    audio_component_positions: Vec<StoredPosition>,
    zones: Vec<StoredZone>,
    camera_switcher_zone_input_maps: Vec<InputMap>,
    camera_switcher_defaults: CameraDefaults,
    sound_location_algorithm: Algorithm,
    profiles: Vec<StoredProfile>,
    camera_switcher: CameraSwitcher,
}

impl Default for StoredLayout {
    fn default() -> Self {
        let d = RoomLayout::default();
        StoredLayout {
            ui_measurement_system: d.ui_measurement_system,
            room_dimensions_verified: d.room_dimensions_verified,
            room_dimensions: d.room_dimensions,
            audio_component_positions_verified: d.audio_component_positions_verified,
            audio_component_positions: Vec::new(),
            zones: Vec::new(),
            camera_switcher_zone_input_maps: Vec::new(),
            camera_switcher_defaults: d.camera_switcher_defaults,
            sound_location_algorithm: d.sound_location_algorithm,
            profiles: Vec::new(),
            camera_switcher: d.camera_switcher,
        }
    }
}

/// A stored bar position (older ones: any id, any angle, a hardware id).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPosition {
    id: String,
    x: i32,
    y: i32,
    z: i32,
    z_angle: i32,
}

/// A stored zone type: the current ones and the older `Exclusion`.
#[derive(Deserialize, PartialEq, Eq)]
enum StoredZoneType {
    Switching,
    Active,
    Exclusion,
}

/// A stored zone: `geometry`, or (older) its rectangle as four fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredZone {
    #[serde(rename = "type", alias = "types")]
    kind: StoredZoneType,
    #[serde(default)]
    on: Option<bool>,
    #[serde(default)]
    active_zone_control: Option<BarId>,
    #[serde(default)]
    geometry: Option<Geometry>,
    #[serde(default, alias = "ZoneLabel")]
    label: String,
    #[serde(default, alias = "zoneId")]
    id: String,
    #[serde(default)]
    x_min: i32,
    #[serde(default)]
    x_max: i32,
    #[serde(default)]
    y_min: i32,
    #[serde(default)]
    y_max: i32,
}

/// A stored room profile.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredProfile {
    profile_id: String,
    name: String,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    zones: Vec<StoredZone>,
    #[serde(default)]
    camera_switcher_zone_input_maps: Vec<InputMap>,
}

/// The room widened to hold the origin.
fn holding_origin(r: Rect) -> Rect {
    Rect {
        x_min: r.x_min.min(0),
        x_max: r.x_max.max(0),
        y_min: r.y_min.min(0),
        y_max: r.y_max.max(0),
    }
}

/// The nearest of 0, 90, 180 and 270 degrees.
fn right_angle(degrees: i32) -> i32 {
    (degrees.rem_euclid(360) + 45) / 90 % 4 * 90
}

fn bar_id(id: &str) -> Option<BarId> {
    match id {
        "AUDIO_BAR_0" => Some(BarId::AUDIO_BAR_0),
        "AUDIO_BAR_1" => Some(BarId::AUDIO_BAR_1),
        _ => None,
    }
}

fn positions(stored: Vec<StoredPosition>) -> Vec<Position> {
    let mut out: Vec<Position> = Vec::new();
    for p in stored {
        let Some(id) = bar_id(&p.id) else {
            tracing::warn!(id = %super::super::fields::shown(&p.id), "stored room layout: dropped a component that is not a bar of this device");
            continue;
        };
        if out.iter().any(|q| q.id == id) {
            continue;
        }
        out.push(match id {
            BarId::AUDIO_BAR_0 => Position::PRIMARY,
            BarId::AUDIO_BAR_1 => Position {
                id,
                x: p.x,
                y: p.y,
                z: p.z,
                z_angle: right_angle(p.z_angle),
            },
        });
    }
    out
}

fn zone(z: StoredZone) -> Option<Zone> {
    let kind = match z.kind {
        StoredZoneType::Switching => ZoneType::Switching,
        StoredZoneType::Active => ZoneType::Active,
        StoredZoneType::Exclusion => return None,
    };
    let geometry = z.geometry.unwrap_or(Geometry {
        point1: Point { x: z.x_min, y: z.y_min },
        point2: Point { x: z.x_max, y: z.y_max },
    });
    Some(Zone {
        kind,
        on: z.on.unwrap_or(true),
        active_zone_control: z.active_zone_control,
        geometry,
        label: z.label,
        id: if z.id.is_empty() { new_uuid() } else { z.id },
    })
}

/// The zones the vendor's devices can have, in order: no exclusion zones, at most
/// eight, none overlapping an earlier one of its type.
fn zones(stored: Vec<StoredZone>) -> Vec<Zone> {
    let given = stored.len();
    let mut out: Vec<Zone> = Vec::new();
    for z in stored.into_iter().filter_map(zone) {
        let clash = out.iter().any(|k| k.kind == z.kind && k.geometry.overlaps(&z.geometry));
        if out.len() < MAX_ZONES && !clash {
            out.push(z);
        }
    }
    if out.len() != given {
        tracing::warn!(
            kept = out.len(),
            given,
            "stored room layout: dropped zones the device cannot have"
        );
    }
    out
}

/// Cameras of zones that exist.
fn maps_of(zones: &[Zone], maps: Vec<InputMap>) -> Vec<InputMap> {
    maps.into_iter()
        .filter(|m| zones.iter().any(|z| z.id == m.zone_id))
        .collect()
}

fn profile(p: StoredProfile) -> Profile {
    let zones = zones(p.zones);
    Profile {
        camera_switcher_zone_input_maps: maps_of(&zones, p.camera_switcher_zone_input_maps),
        zones,
        profile_id: p.profile_id,
        name: p.name,
        active: p.active,
    }
}

impl From<StoredLayout> for RoomLayout {
    fn from(s: StoredLayout) -> RoomLayout {
        let mut positions = positions(s.audio_component_positions);
        if positions.is_empty() {
            positions.push(Position::PRIMARY);
        }
        let zones = zones(s.zones);
        RoomLayout {
            ui_measurement_system: s.ui_measurement_system,
            room_dimensions_verified: s.room_dimensions_verified,
            room_dimensions: holding_origin(s.room_dimensions),
            audio_component_positions_verified: s.audio_component_positions_verified,
            audio_component_positions: positions,
            camera_switcher_zone_input_maps: maps_of(&zones, s.camera_switcher_zone_input_maps),
            zones,
            camera_switcher_defaults: s.camera_switcher_defaults,
            sound_location_algorithm: s.sound_location_algorithm,
            profiles: s.profiles.into_iter().map(profile).collect(),
            camera_switcher: s.camera_switcher,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::hdl410;
    use super::*;

    #[test]
    fn right_angles_round_to_the_nearest() {
        for (given, want) in [
            (0, 0),
            (44, 0),
            (45, 90),
            (91, 90),
            (180, 180),
            (300, 270),
            (316, 0),
            (359, 0),
            (-90, 270),
        ] {
            assert_eq!(right_angle(given), want, "{given}");
        }
    }

    #[test]
    fn a_layout_of_the_older_schema_loads_converted() {
        // As the previous version wrote it.
        let old = json!({
            "uiMeasurementSystem": "IMPERIAL",
            "roomDimensionsVerified": true,
            "roomDimensions": {"xMin": -3000, "xMax": 3000, "yMin": 500, "yMax": 6000},
            "audioComponentPositionsVerified": true,
            "audioComponentPositions": [
                {"id": "AUDIO_BAR_0", "hardwareId": "X-BAR1", "x": 0, "y": 0, "z": 0, "zAngle": 0},
                {"id": "AUDIO_BAR_1", "hardwareId": "X-BAR2", "x": 1000, "y": 5900, "z": 100, "zAngle": 170},
                {"id": "ceiling-mic", "hardwareId": "", "x": 5, "y": 5, "z": 2500, "zAngle": 12},
            ],
            "zones": [
                {"id": "front", "label": "Presenter", "type": "Switching", "xMin": -1500, "xMax": 1500, "yMin": 0, "yMax": 2000},
                {"id": "door", "label": "Door", "type": "Exclusion", "xMin": 2000, "xMax": 3000, "yMin": 5000, "yMax": 6000},
                {"id": "inside", "label": "Overlaps front", "type": "Switching", "xMin": 0, "xMax": 100, "yMin": 0, "yMax": 100},
                {"id": "back", "label": "Audience", "type": "Switching", "xMin": -1500, "xMax": 1500, "yMin": 3000, "yMax": 5000},
            ],
        });
        let state = json!({
            "version": 1, "generation": 3, "enrollmentCode": "ABC-DEF-GHJ", "signingKey": "k",
            "accounts": {}, "roomLayout": old,
        });
        let state: crate::auth::state::State = serde_json::from_value(state).unwrap();
        let l = &state.device.room_layout;
        assert_eq!(l.ui_measurement_system, MeasurementSystem::Imperial);
        assert_eq!(
            l.room_dimensions,
            Rect {
                x_min: -3000,
                x_max: 3000,
                y_min: 0,
                y_max: 6000
            }
        );
        assert_eq!(
            l.audio_component_positions,
            [
                Position::PRIMARY,
                Position {
                    id: BarId::AUDIO_BAR_1,
                    x: 1000,
                    y: 5900,
                    z: 100,
                    z_angle: 180
                }
            ]
        );
        let ids: Vec<&str> = l.zones.iter().map(|z| z.id.as_str()).collect();
        assert_eq!(ids, ["front", "back"]);
        assert_eq!(
            l.zones[0].geometry,
            Geometry {
                point1: Point { x: -1500, y: 0 },
                point2: Point { x: 1500, y: 2000 }
            }
        );
        assert!(l.zones.iter().all(|z| z.on && z.kind == ZoneType::Switching));
        assert_eq!(l.sound_location_algorithm, Algorithm::BP);
        assert_eq!(l.camera_switcher_defaults, CameraDefaults::default());
        assert!(l.profiles.is_empty() && !l.camera_switcher.enabled);
        // The converted layout keeps every rule, so the next PATCH is judged on its own.
        assert!(
            super::super::rules::check(l, &hdl410()).is_empty(),
            "{:?}",
            super::super::rules::check(l, &hdl410())
        );
        // It is written back in the current form and reads back the same.
        let written = serde_json::to_value(&state).unwrap();
        assert!(written["roomLayout"]["zones"][0].get("xMin").is_none());
        let again: crate::auth::state::State = serde_json::from_value(written).unwrap();
        assert_eq!(&again.device.room_layout, l);
    }

    #[test]
    fn older_limits_are_brought_within_the_vendor_s() {
        let many: Vec<_> = (0..16)
            .map(|i| json!({"id": format!("z{i}"), "label": "x", "type": "Switching", "xMin": i * 100, "xMax": i * 100 + 100, "yMin": 0, "yMax": 100}))
            .collect();
        let l: RoomLayout = serde_json::from_value(json!({
            "roomDimensions": {"xMin": 100, "xMax": 4000, "yMin": 200, "yMax": 4000},
            "zones": many,
            "cameraSwitcherZoneInputMaps": [{"zoneId": "z15", "inputPort": "HDMI"}, {"zoneId": "z1", "inputPort": "USB1"}],
        }))
        .unwrap();
        assert_eq!(l.zones.len(), MAX_ZONES);
        assert_eq!(
            l.room_dimensions,
            Rect {
                x_min: 0,
                x_max: 4000,
                y_min: 0,
                y_max: 4000
            }
        );
        assert_eq!(
            l.camera_switcher_zone_input_maps.len(),
            1,
            "the camera of a dropped zone goes too"
        );
        assert_eq!(l.audio_component_positions, [Position::PRIMARY]);
        assert!(super::super::rules::check(&l, &hdl410()).is_empty());
    }
}
