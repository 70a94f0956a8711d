//! The reference device's room layout: room dimensions, audio component positions and
//! zones, in millimetres, with the vendor's field names.
//!
//! A PATCH replaces the top-level fields it names; the result must have the right
//! shape (unknown fields refused, types checked with the field's path in the message)
//! and sane sizes (coordinates within ±50 m, rectangles with min < max, angles
//! 0–359, at most 8 components and 16 zones with unique ids, zones inside the room).
//! Nothing changes unless all of it is valid.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorEntry};

/// Largest coordinate magnitude, in millimetres.
pub(crate) const MAX_COORD: i32 = 50_000;
/// Most audio component positions.
pub(crate) const MAX_COMPONENTS: usize = 8;
/// Most zones.
pub(crate) const MAX_ZONES: usize = 16;
/// Longest id, label or hardware id, in characters.
pub(crate) const MAX_TEXT: usize = 64;

/// How the vendor's app shows dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MeasurementSystem {
    /// Feet and inches.
    Imperial,
    /// Metres.
    Metric,
}

/// An axis-aligned rectangle in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rect {
    /// Left.
    pub x_min: i32,
    /// Right.
    pub x_max: i32,
    /// Front.
    pub y_min: i32,
    /// Back.
    pub y_max: i32,
}

/// Where an audio component is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentPosition {
    /// e.g. `AUDIO_BAR_0`.
    pub id: String,
    /// The component's hardware id.
    #[serde(default)]
    pub hardware_id: String,
    /// Millimetres.
    pub x: i32,
    /// Millimetres.
    pub y: i32,
    /// Millimetres.
    pub z: i32,
    /// Degrees, 0–359.
    pub z_angle: i32,
}

/// What a zone does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZoneType {
    /// Triggers camera switching.
    Switching,
    /// Excluded from pickup.
    Exclusion,
}

/// A zone of the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Zone {
    /// Unique id.
    pub id: String,
    /// Name shown to people.
    pub label: String,
    /// What it does.
    #[serde(rename = "type")]
    pub kind: ZoneType,
    /// Left.
    pub x_min: i32,
    /// Right.
    pub x_max: i32,
    /// Front.
    pub y_min: i32,
    /// Back.
    pub y_max: i32,
}

/// The room layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomLayout {
    /// How dimensions are shown.
    pub ui_measurement_system: MeasurementSystem,
    /// Whether the room dimensions were verified on site.
    pub room_dimensions_verified: bool,
    /// The room.
    pub room_dimensions: Rect,
    /// Whether the component positions were verified on site.
    pub audio_component_positions_verified: bool,
    /// Where the audio components are.
    pub audio_component_positions: Vec<ComponentPosition>,
    pub zones: Vec<Zone>,
}

impl Default for RoomLayout {
    fn default() -> Self {
        RoomLayout {
            ui_measurement_system: MeasurementSystem::Metric,
            room_dimensions_verified: false,
            room_dimensions: Rect {
                x_min: -3000,
                x_max: 3000,
                y_min: 0,
                y_max: 6000,
            },
            audio_component_positions_verified: false,
            audio_component_positions: vec![ComponentPosition {
                id: "AUDIO_BAR_0".into(),
                hardware_id: String::new(),
                x: 0,
                y: 0,
                z: 0,
                z_angle: 0,
            }],
            zones: Vec::new(),
        }
    }
}

fn entry(code: &'static str, message: String) -> ErrorEntry {
    ErrorEntry { code, message }
}

fn check_text(field: &str, value: &str, min: usize, errors: &mut Vec<ErrorEntry>) {
    let n = value.chars().count();
    if n < min || n > MAX_TEXT || value.chars().any(char::is_control) {
        errors.push(entry(
            "out_of_range",
            format!("`{field}` must be {min} to {MAX_TEXT} characters without control characters"),
        ));
    }
}

fn check_coord(field: &str, value: i32, errors: &mut Vec<ErrorEntry>) {
    if !(-MAX_COORD..=MAX_COORD).contains(&value) {
        errors.push(entry(
            "out_of_range",
            format!("`{field}` must be between -{MAX_COORD} and {MAX_COORD} (millimetres)"),
        ));
    }
}

fn check_rect(field: &str, r: &Rect, errors: &mut Vec<ErrorEntry>) {
    for (name, v) in [
        ("xMin", r.x_min),
        ("xMax", r.x_max),
        ("yMin", r.y_min),
        ("yMax", r.y_max),
    ] {
        check_coord(&format!("{field}.{name}"), v, errors);
    }
    if r.x_min >= r.x_max || r.y_min >= r.y_max {
        errors.push(entry(
            "invalid_value",
            format!("`{field}` must have xMin < xMax and yMin < yMax"),
        ));
    }
}

impl RoomLayout {
    /// Check sizes and consistency; every problem is reported.
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        check_rect("roomDimensions", &self.room_dimensions, &mut errors);
        if self.audio_component_positions.len() > MAX_COMPONENTS {
            errors.push(entry(
                "out_of_range",
                format!("at most {MAX_COMPONENTS} audioComponentPositions"),
            ));
        }
        if self.zones.len() > MAX_ZONES {
            errors.push(entry("out_of_range", format!("at most {MAX_ZONES} zones")));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, c) in self.audio_component_positions.iter().enumerate() {
            let f = format!("audioComponentPositions[{i}]");
            check_text(&format!("{f}.id"), &c.id, 1, &mut errors);
            check_text(&format!("{f}.hardwareId"), &c.hardware_id, 0, &mut errors);
            for (name, v) in [("x", c.x), ("y", c.y), ("z", c.z)] {
                check_coord(&format!("{f}.{name}"), v, &mut errors);
            }
            if !(0..360).contains(&c.z_angle) {
                errors.push(entry(
                    "out_of_range",
                    format!("`{f}.zAngle` must be 0 to 359 (degrees)"),
                ));
            }
            if !ids.insert(c.id.as_str()) {
                errors.push(entry("invalid_value", format!("`{f}.id` is used twice")));
            }
        }
        let mut zone_ids = std::collections::HashSet::new();
        let room = &self.room_dimensions;
        for (i, z) in self.zones.iter().enumerate() {
            let f = format!("zones[{i}]");
            check_text(&format!("{f}.id"), &z.id, 1, &mut errors);
            check_text(&format!("{f}.label"), &z.label, 1, &mut errors);
            let rect = Rect {
                x_min: z.x_min,
                x_max: z.x_max,
                y_min: z.y_min,
                y_max: z.y_max,
            };
            check_rect(&f, &rect, &mut errors);
            if rect.x_min < room.x_min || rect.x_max > room.x_max || rect.y_min < room.y_min || rect.y_max > room.y_max
            {
                errors.push(entry("invalid_value", format!("`{f}` must lie inside roomDimensions")));
            }
            if !zone_ids.insert(z.id.as_str()) {
                errors.push(entry("invalid_value", format!("`{f}.id` is used twice")));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::many(http::StatusCode::BAD_REQUEST, errors))
        }
    }

    /// Apply a PATCH: the named top-level fields are replaced; the result is checked.
    pub fn patched(&self, body: &Value) -> Result<RoomLayout, ApiError> {
        let (merged, unknown) = crate::error::merge_top_level(self, body, "room layout")?;
        if !unknown.is_empty() {
            return Err(ApiError::many(http::StatusCode::BAD_REQUEST, unknown));
        }
        let next: RoomLayout = serde_path_to_error::deserialize(Value::Object(merged)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.inner().to_string();
            // serde's message names the expected type; the value is not echoed.
            let what = inner.split(", expected").nth(1).map_or(inner.as_str(), str::trim);
            let code = if inner.starts_with("unknown field") {
                "unknown_field"
            } else {
                "invalid_type"
            };
            ApiError::bad_request(code, format!("`{path}`: expected {what}"))
        })?;
        next.validate()?;
        Ok(next)
    }
}

fn coord() -> Value {
    json!({"type": "integer", "minimum": -MAX_COORD, "maximum": MAX_COORD})
}

fn rect_properties() -> Map<String, Value> {
    ["xMin", "xMax", "yMin", "yMax"]
        .iter()
        .map(|k| ((*k).to_string(), coord()))
        .collect()
}

/// The schema of the room layout document (and, without `required`, of a PATCH).
pub(crate) fn schema(for_patch: bool) -> Value {
    let text = |min: usize| json!({"type": "string", "minLength": min, "maxLength": MAX_TEXT});
    let component = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "x", "y", "z", "zAngle"],
        "properties": {
            "id": text(1), "hardwareId": text(0), "x": coord(), "y": coord(), "z": coord(),
            "zAngle": {"type": "integer", "minimum": 0, "maximum": 359},
        },
    });
    let mut zone_props = rect_properties();
    zone_props.insert("id".into(), text(1));
    zone_props.insert("label".into(), text(1));
    zone_props.insert(
        "type".into(),
        json!({"type": "string", "enum": ["Switching", "Exclusion"]}),
    );
    let zone = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "label", "type", "xMin", "xMax", "yMin", "yMax"],
        "properties": zone_props,
        "description": "Inside roomDimensions, xMin < xMax, yMin < yMax, unique id.",
    });
    let mut s = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "uiMeasurementSystem": {"type": "string", "enum": ["IMPERIAL", "METRIC"]},
            "roomDimensionsVerified": {"type": "boolean"},
            "roomDimensions": {
                "type": "object", "additionalProperties": false,
                "required": ["xMin", "xMax", "yMin", "yMax"], "properties": rect_properties(),
                "description": "Millimetres; xMin < xMax, yMin < yMax.",
            },
            "audioComponentPositionsVerified": {"type": "boolean"},
            "audioComponentPositions": {"type": "array", "maxItems": MAX_COMPONENTS, "items": component},
            "zones": {"type": "array", "maxItems": MAX_ZONES, "items": zone},
        },
    });
    if !for_patch && let Some(o) = s.as_object_mut() {
        o.insert(
            "required".into(),
            json!([
                "uiMeasurementSystem",
                "roomDimensionsVerified",
                "roomDimensions",
                "audioComponentPositionsVerified",
                "audioComponentPositions",
                "zones"
            ]),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_round_trips() {
        let d = RoomLayout::default();
        assert!(d.validate().is_ok());
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["uiMeasurementSystem"], "METRIC");
        assert_eq!(serde_json::from_value::<RoomLayout>(v).unwrap(), d);
    }

    #[test]
    fn patches_replace_named_fields_only() {
        let d = RoomLayout::default();
        let p = d
            .patched(&json!({
                "uiMeasurementSystem": "IMPERIAL",
                "zones": [{"id": "z1", "label": "Presenter", "type": "Switching", "xMin": -1000, "xMax": 1000, "yMin": 0, "yMax": 2000}],
            }))
            .unwrap();
        assert_eq!(p.ui_measurement_system, MeasurementSystem::Imperial);
        assert_eq!(p.zones.len(), 1);
        assert_eq!(p.room_dimensions, d.room_dimensions);
    }

    #[test]
    fn shape_and_size_problems_are_reported() {
        let d = RoomLayout::default();
        let code = |v: Value| {
            d.patched(&v)
                .unwrap_err()
                .entries()
                .iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(code(json!({"bogus": 1})), ["unknown_field"]);
        assert_eq!(
            code(json!({"roomDimensions": {"xMin": "a", "xMax": 1, "yMin": 0, "yMax": 1}})),
            ["invalid_type"]
        );
        assert_eq!(
            code(json!({"roomDimensions": {"xMin": 0, "xMax": 1, "yMin": 0}})),
            ["invalid_type"]
        );
        assert_eq!(
            code(json!({"roomDimensions": {"xMin": 0, "xMax": 1, "yMin": 0, "yMax": 1, "zMax": 3}})),
            ["unknown_field"]
        );
        assert_eq!(
            code(json!({"roomDimensions": {"xMin": 5, "xMax": 1, "yMin": 0, "yMax": 1}})),
            ["invalid_value"]
        );
        assert_eq!(
            code(json!({"roomDimensions": {"xMin": -60000, "xMax": 1, "yMin": 0, "yMax": 1}})),
            ["out_of_range"]
        );
        let many: Vec<Value> = (0..9)
            .map(|i| json!({"id": format!("c{i}"), "x": 0, "y": 0, "z": 0, "zAngle": 0}))
            .collect();
        assert_eq!(code(json!({"audioComponentPositions": many})), ["out_of_range"]);
        let twice = json!([{"id": "a", "x": 0, "y": 0, "z": 0, "zAngle": 400}, {"id": "a", "x": 0, "y": 0, "z": 0, "zAngle": 0}]);
        assert_eq!(
            code(json!({"audioComponentPositions": twice})),
            ["out_of_range", "invalid_value"]
        );
        let outside =
            json!([{"id": "z", "label": "x", "type": "Switching", "xMin": 0, "xMax": 9000, "yMin": 0, "yMax": 10}]);
        assert_eq!(code(json!({"zones": outside})), ["invalid_value"]);
        assert_eq!(
            code(
                json!({"zones": [{"id": "z", "label": "x", "type": "Teleport", "xMin": 0, "xMax": 1, "yMin": 0, "yMax": 1}]})
            ),
            ["invalid_type"]
        );
        assert!(d.patched(&json!([])).is_err());
    }
}
