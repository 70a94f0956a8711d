//! The JSON Schemas of the room's documents, for the capabilities document: the
//! layout as reported and as PATCHed, the zone input maps, room profiles.

use serde_json::{Map, Value, json};

use super::{MAX_COORD, MAX_PROFILES, MAX_TEXT, MAX_WAIT_MS, MAX_ZONES};
use crate::device::camera::InputPort;

fn coord() -> Value {
    json!({"type": "integer", "minimum": -MAX_COORD, "maximum": MAX_COORD})
}

fn text() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn room() -> Value {
    let mut s = object(
        &["xMin", "xMax", "yMin", "yMax"],
        json!({"xMin": coord(), "xMax": coord(), "yMin": coord(), "yMax": coord()}),
    );
    s["description"] = json!(
        "Millimetres from the centre back of the primary bar: xMin ≤ 0 ≤ xMax, yMin ≤ 0 ≤ yMax; an HDL410 room is at least 3658 × 3658 mm."
    );
    s
}

fn bar_id() -> Value {
    json!({"type": "string", "enum": ["AUDIO_BAR_0", "AUDIO_BAR_1"]})
}

fn position(for_patch: bool) -> Value {
    let props = json!({
        "id": bar_id(),
        "hardwareId": {"type": "string", "description": "Read-only: the bar's hardware id (may be sent back unchanged)."},
        "x": coord(), "y": coord(), "z": coord(),
        "zAngle": {"type": "integer", "enum": [0, 90, 180, 270]},
    });
    let required: &[&str] = if for_patch {
        &["id", "x", "y", "z", "zAngle"]
    } else {
        &["id", "hardwareId", "x", "y", "z", "zAngle"]
    };
    object(required, props)
}

fn port() -> Value {
    json!({"type": "string", "enum": InputPort::NAMES})
}

fn zone(for_patch: bool) -> Value {
    let point = object(&["x", "y"], json!({"x": coord(), "y": coord()}));
    let mut props = json!({
        "type": {"type": "string", "enum": ["Switching", "Active"], "description": "HDL310/HDL410: Switching (camera zones) only."},
        "on": {"type": "boolean", "description": "Camera zones are always on."},
        "activeZoneControl": {"type": "string", "enum": ["AUDIO_BAR_0", "AUDIO_BAR_1"], "description": "Active zones only."},
        "geometry": object(&["point1", "point2"], json!({"point1": point, "point2": point})),
        "label": text(),
        "id": text(),
    });
    let required: &[&str] = if for_patch {
        &["type", "geometry", "label"]
    } else {
        &["type", "on", "geometry", "label", "id"]
    };
    if for_patch && let Some(p) = props.as_object_mut() {
        // The older reference spellings, accepted on input.
        p.insert(
            "types".into(),
            json!({"type": "string", "enum": ["Switching", "Active"], "deprecated": true}),
        );
        p.insert("ZoneLabel".into(), json!({"type": "string", "deprecated": true}));
        p.insert("zoneId".into(), json!({"type": "string", "deprecated": true}));
    }
    let mut s = object(required, props);
    s["description"] = json!(format!(
        "At most {MAX_ZONES}; zones of one type never overlap; a zone sent without an id gets a UUID."
    ));
    s
}

fn input_maps() -> Value {
    json!({"type": "array", "items": object(&["zoneId", "inputPort"], json!({"zoneId": {"type": "string"}, "inputPort": port()}))})
}

fn defaults() -> Value {
    let wait = json!({"type": "integer", "minimum": 0, "maximum": MAX_WAIT_MS, "description": "Milliseconds."});
    object(
        &[
            "defaultCameraInputPort",
            "zonesTriggerWaitTime",
            "switchToDefaultWaitTime",
        ],
        json!({"defaultCameraInputPort": port(), "zonesTriggerWaitTime": wait, "switchToDefaultWaitTime": wait}),
    )
}

/// The room layout (`for_patch`: the fields a PATCH may name, all optional).
pub(crate) fn layout(for_patch: bool) -> Value {
    let mut props = Map::new();
    props.insert(
        "uiMeasurementSystem".into(),
        json!({"type": "string", "enum": ["IMPERIAL", "METRIC"]}),
    );
    props.insert("roomDimensionsVerified".into(), json!({"type": "boolean"}));
    props.insert("roomDimensions".into(), room());
    props.insert("audioComponentPositionsVerified".into(), json!({"type": "boolean"}));
    props.insert(
        "audioComponentPositions".into(),
        json!({"type": "array", "maxItems": 2, "items": position(for_patch), "description": "HDL410 only in a PATCH; the primary bar is at 0, 0, 0, 0; every bar inside the room."}),
    );
    props.insert(
        "zones".into(),
        json!({"type": "array", "maxItems": MAX_ZONES, "items": zone(for_patch)}),
    );
    props.insert("cameraSwitcherZoneInputMaps".into(), input_maps());
    props.insert("cameraSwitcherDefaults".into(), defaults());
    props.insert(
        "soundLocationAlgorithm".into(),
        json!({"type": "string", "enum": ["BP", "TDOA"]}),
    );
    if !for_patch {
        let resolved = object(
            &["source", "position"],
            json!({"source": {"type": "string", "enum": ["USER_DEFINED", "COMPUTED"]}, "position": position(false)}),
        );
        props.insert(
            "computedRoomDimensions".into(),
            json!({"type": "object", "readOnly": true}),
        );
        props.insert(
            "computedAudioComponentPositions".into(),
            json!({"type": "array", "readOnly": true, "items": position(false)}),
        );
        props.insert(
            "resolvedAudioComponentPositions".into(),
            json!({"type": "array", "readOnly": true, "items": resolved}),
        );
    }
    let mut s = json!({"type": "object", "additionalProperties": false, "properties": props});
    if for_patch {
        s["minProperties"] = json!(1);
        s["description"] = json!(
            "Each field named replaces the stored one; read-only fields are refused; cameraSwitcher*, soundLocationAlgorithm and audioComponentPositions are HDL410 only."
        );
    } else {
        s["required"] = json!([
            "uiMeasurementSystem",
            "roomDimensionsVerified",
            "roomDimensions",
            "computedRoomDimensions",
            "audioComponentPositionsVerified",
            "audioComponentPositions",
            "computedAudioComponentPositions",
            "resolvedAudioComponentPositions",
            "zones"
        ]);
        s["description"] = json!(
            "cameraSwitcherZoneInputMaps, cameraSwitcherDefaults and soundLocationAlgorithm are reported by an HDL410 only."
        );
    }
    s
}

/// `PATCH /api/v1/room/zone-input-maps` (request and response).
pub(crate) fn input_maps_patch() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
            "cameraSwitcherZoneInputMap": input_maps(),
            "cameraSwitcherZoneInputMaps": {"description": "Accepted for cameraSwitcherZoneInputMap."},
            "cameraSwitcherDefaults": defaults(),
        },
    })
}

/// One room profile.
pub(crate) fn profile() -> Value {
    object(
        &["profileId", "name", "active"],
        json!({"profileId": {"type": "string", "format": "uuid"}, "name": text(), "active": {"type": "boolean"}}),
    )
}

/// The room profile list.
pub(crate) fn profiles() -> Value {
    object(
        &["profiles"],
        json!({"profiles": {"type": "array", "maxItems": MAX_PROFILES, "items": profile()}}),
    )
}

/// A create or rename request.
pub(crate) fn profile_name() -> Value {
    object(&["name"], json!({"name": text()}))
}
