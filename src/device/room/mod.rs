//! The reference device's room: its layout in the vendor's schema (room
//! dimensions, audio component positions, zones, camera switching, sound location
//! algorithm), its room profiles and its camera switcher integration, persisted
//! together under the state document's `roomLayout` key.
//!
//! Coordinates are millimetres with the origin at the centre back of the primary
//! bar (`AUDIO_BAR_0`, port 1). What the device computes — `hardwareId`, the
//! computed and resolved positions, the computed room — is never stored: it is
//! derived when the layout is rendered (`RoomLayout::document`). The rules are in
//! `rules`, PATCHes in `patch`, profiles in `profiles`, older stored layouts are
//! converted by `stored`, and the schema is in `schema`.

mod patch;
mod profiles;
mod rules;
pub(crate) mod schema;
mod stored;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::camera::{CameraSwitcher, InputPort};
use super::model::Model;
use crate::config::DeviceInfo;

pub(crate) use profiles::MAX_PROFILES;

/// Largest coordinate magnitude, in millimetres.
pub(crate) const MAX_COORD: i32 = 50_000;
/// Most zones (the vendor: eight camera zones per room).
pub(crate) const MAX_ZONES: usize = 8;
/// Longest zone id, label or profile name, in characters.
pub(crate) const MAX_TEXT: usize = 64;
/// Smallest HDL410 room side: 12 ft (the vendor's "3.7 m"), in millimetres.
pub(crate) const MIN_HDL410_SIDE: i32 = 3658;
/// Longest camera switching wait, in milliseconds.
pub(crate) const MAX_WAIT_MS: u32 = 600_000;
/// The default coverage of the bars (the vendor's example `computedRoomDimensions`).
const COVERAGE: Rect = Rect {
    x_min: -8382,
    x_max: 8382,
    y_min: 0,
    y_max: 10660,
};

/// How the vendor's app shows lengths (the API always uses millimetres).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MeasurementSystem {
    /// Feet and inches.
    Imperial,
    /// Metres.
    Metric,
}

/// An axis-aligned rectangle in millimetres (the room).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rect {
    /// The wall on the negative x side (≤ 0).
    pub x_min: i32,
    /// The wall on the positive x side (≥ 0).
    pub x_max: i32,
    /// The wall on the negative y side (≤ 0).
    pub y_min: i32,
    /// The wall on the positive y side (≥ 0).
    pub y_max: i32,
}

impl Rect {
    fn contains(&self, x: i32, y: i32) -> bool {
        (self.x_min..=self.x_max).contains(&x) && (self.y_min..=self.y_max).contains(&y)
    }
}

/// An audio component (bar) of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum BarId {
    /// The primary bar, on port 1: the origin.
    AUDIO_BAR_0,
    /// The second bar of an HDL410, on port 2.
    AUDIO_BAR_1,
}

impl BarId {
    /// Every bar id, in port order.
    pub(crate) const ALL: [BarId; 2] = [BarId::AUDIO_BAR_0, BarId::AUDIO_BAR_1];

    fn index(self) -> usize {
        self as usize
    }
}

/// Where a bar is: its centre back, and its angle in the x-y plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Position {
    /// Which bar.
    pub id: BarId,
    /// Millimetres.
    pub x: i32,
    /// Millimetres.
    pub y: i32,
    /// Millimetres.
    pub z: i32,
    /// Degrees: 0, 90, 180 or 270.
    pub z_angle: i32,
}

impl Position {
    /// The primary bar, which is always at the origin.
    pub(crate) const PRIMARY: Position = Position {
        id: BarId::AUDIO_BAR_0,
        x: 0,
        y: 0,
        z: 0,
        z_angle: 0,
    };
}

/// What a zone is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZoneType {
    /// A camera zone: sound in it switches the camera.
    Switching,
    /// An active zone (audio pickup only there; the vendor's HDL300 devices).
    Active,
}

/// A point in the x-y plane, millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Millimetres.
    pub x: i32,
    /// Millimetres.
    pub y: i32,
}

/// A zone's rectangle: two opposite corners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geometry {
    /// One corner.
    pub point1: Point,
    /// The opposite corner.
    pub point2: Point,
}

impl Geometry {
    /// `(x_min, x_max, y_min, y_max)`.
    fn bounds(&self) -> (i32, i32, i32, i32) {
        let (a, b) = (self.point1, self.point2);
        (a.x.min(b.x), a.x.max(b.x), a.y.min(b.y), a.y.max(b.y))
    }

    fn contains(&self, x: i32, y: i32) -> bool {
        let (x0, x1, y0, y1) = self.bounds();
        (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
    }

    /// Whether the two rectangles share area (touching edges do not).
    fn overlaps(&self, other: &Geometry) -> bool {
        let (ax0, ax1, ay0, ay1) = self.bounds();
        let (bx0, bx1, by0, by1) = other.bounds();
        ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1
    }
}

/// A zone of the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    /// What it is for.
    #[serde(rename = "type")]
    pub kind: ZoneType,
    /// Whether it is on (camera zones always are).
    pub on: bool,
    /// The bar an active zone is attached to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_zone_control: Option<BarId>,
    /// Where it is.
    pub geometry: Geometry,
    /// Name shown to people.
    pub label: String,
    /// Unique id (the device makes a UUID when a new zone has none).
    pub id: String,
}

/// A camera zone's camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputMap {
    /// The zone's id.
    pub zone_id: String,
    /// The camera to switch to.
    pub input_port: InputPort,
}

/// How camera switching behaves (set only as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CameraDefaults {
    /// The camera while no zone has sound.
    pub default_camera_input_port: InputPort,
    /// Sound needed in a zone before switching, in milliseconds.
    pub zones_trigger_wait_time: u32,
    /// Silence before switching back to the default camera, in milliseconds.
    pub switch_to_default_wait_time: u32,
}

impl Default for CameraDefaults {
    fn default() -> Self {
        CameraDefaults {
            default_camera_input_port: InputPort::USB1,
            zones_trigger_wait_time: 1000,
            switch_to_default_wait_time: 5000,
        }
    }
}

/// How sound is located.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// The vendor's default.
    #[default]
    BP,
    /// Time difference of arrival (needs accurate dimensions and positions).
    TDOA,
}

/// A room profile: a named set of camera zones and their cameras.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// A UUID.
    pub profile_id: String,
    /// Unique among the device's profiles.
    pub name: String,
    /// At most one profile is active; the layout's zones are the active one's.
    pub active: bool,
    /// Its zones.
    pub zones: Vec<Zone>,
    /// Its zones' cameras.
    pub camera_switcher_zone_input_maps: Vec<InputMap>,
}

/// The room as the device stores it. Fields a stored state lacks take their
/// defaults; a layout stored by an older version is converted when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "stored::StoredLayout")]
pub struct RoomLayout {
    /// How lengths are shown.
    pub ui_measurement_system: MeasurementSystem,
    /// Whether the room dimensions were verified on site.
    pub room_dimensions_verified: bool,
    /// The room.
    pub room_dimensions: Rect,
    /// Whether the bar positions were verified on site.
    pub audio_component_positions_verified: bool,
    /// The positions a person set, at most one per bar.
    pub audio_component_positions: Vec<Position>,
    /// The zones.
    pub zones: Vec<Zone>,
    /// Each camera zone's camera.
    pub camera_switcher_zone_input_maps: Vec<InputMap>,
    /// Camera switching behaviour.
    pub camera_switcher_defaults: CameraDefaults,
    /// Sound location algorithm.
    pub sound_location_algorithm: Algorithm,
    /// The room profiles (at most three).
    pub profiles: Vec<Profile>,
    /// The camera switcher integration.
    pub camera_switcher: CameraSwitcher,
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
            audio_component_positions: vec![Position::PRIMARY],
            zones: Vec::new(),
            camera_switcher_zone_input_maps: Vec::new(),
            camera_switcher_defaults: CameraDefaults::default(),
            sound_location_algorithm: Algorithm::BP,
            profiles: Vec::new(),
            camera_switcher: CameraSwitcher::default(),
        }
    }
}

/// What the layout rules and documents need to know about the device: its model
/// and its bars' hardware ids, in port order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomDevice {
    /// The model.
    pub model: Model,
    /// Hardware id of each bar, port 1 first.
    pub bars: Vec<String>,
}

impl RoomDevice {
    /// From the `[device]` section (its components, or the model's own).
    pub(crate) fn from_info(info: &DeviceInfo) -> RoomDevice {
        let mut bars: Vec<(u8, String)> = super::info::hardware_components(info)
            .into_iter()
            .filter(|c| c.model == "Bar")
            .map(|c| (c.port_number.unwrap_or(u8::MAX), c.hardware_id))
            .collect();
        bars.sort();
        let mut bars: Vec<String> = bars.into_iter().map(|(_, id)| id).collect();
        bars.resize(usize::from(info.model.bars()), String::new());
        RoomDevice {
            model: info.model,
            bars,
        }
    }

    /// The bars this device has.
    fn bar_ids(&self) -> impl Iterator<Item = BarId> + '_ {
        BarId::ALL.into_iter().take(self.bars.len())
    }

    fn hardware_id(&self, bar: BarId) -> &str {
        self.bars.get(bar.index()).map_or("", String::as_str)
    }
}

/// A zone the sound is in (the data stream's `triggeredZones` entry).
#[allow(dead_code, reason = "read by the data stream's soundLocation events")]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TriggeredZone {
    /// The zone's type.
    #[serde(rename = "type")]
    pub kind: ZoneType,
    /// The zone's label.
    pub label: String,
    /// The zone's id.
    pub id: String,
}

/// A new random (version 4) UUID, lowercase.
pub(crate) fn new_uuid() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No entropy source: ids still differ within this process.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b[8..].copy_from_slice(&n.to_be_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Whether `s` is a UUID in its usual text form.
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

impl RoomLayout {
    /// The zones that are on and whose rectangle holds the point `(x, y)` (edges
    /// included), for the data stream.
    pub(crate) fn triggered_zones(&self, x: i32, y: i32) -> Vec<TriggeredZone> {
        self.zones
            .iter()
            .filter(|z| z.on && z.geometry.contains(x, y))
            .map(|z| TriggeredZone {
                kind: z.kind,
                label: z.label.clone(),
                id: z.id.clone(),
            })
            .collect()
    }

    /// The room, millimetres from the primary bar's centre back.
    pub(crate) fn room_dimensions(&self) -> Rect {
        self.room_dimensions
    }

    /// Whether the parts `GET /api/v1/room/layout` reports differ.
    pub(crate) fn layout_differs(&self, other: &RoomLayout) -> bool {
        let key = |l: &RoomLayout| {
            (
                l.ui_measurement_system,
                l.room_dimensions_verified,
                l.room_dimensions,
                l.audio_component_positions_verified,
                l.audio_component_positions.clone(),
                l.zones.clone(),
                l.camera_switcher_zone_input_maps.clone(),
                l.camera_switcher_defaults,
                l.sound_location_algorithm,
            )
        };
        key(self) != key(other)
    }

    /// The bar's user-defined position, if a person set one.
    fn user_position(&self, bar: BarId) -> Option<&Position> {
        self.audio_component_positions.iter().find(|p| p.id == bar)
    }

    /// Where the device assumes a bar is: the primary at the origin, the second
    /// facing it from the far wall.
    fn computed_position(&self, bar: BarId) -> Position {
        match bar {
            BarId::AUDIO_BAR_0 => Position::PRIMARY,
            BarId::AUDIO_BAR_1 => Position {
                id: bar,
                x: 0,
                y: self.room_dimensions.y_max,
                z: 0,
                z_angle: 180,
            },
        }
    }

    /// The area the bars cover: the vendor's default coverage, grown to hold
    /// every bar.
    fn computed_room(&self, device: &RoomDevice) -> Rect {
        device.bar_ids().fold(COVERAGE, |r, bar| {
            let p = self.user_position(bar).copied().unwrap_or(self.computed_position(bar));
            Rect {
                x_min: r.x_min.min(p.x),
                x_max: r.x_max.max(p.x),
                y_min: r.y_min.min(p.y),
                y_max: r.y_max.max(p.y),
            }
        })
    }

    /// The layout as `GET /api/v1/room/layout` reports it on `device`: what the
    /// device computes is filled in, and an HDL310 shows only what it has.
    pub(crate) fn document(&self, device: &RoomDevice) -> Value {
        let with_hw = |p: &Position| json!({"id": p.id, "hardwareId": device.hardware_id(p.id), "x": p.x, "y": p.y, "z": p.z, "zAngle": p.z_angle});
        let user: Vec<Value> = device
            .bar_ids()
            .filter_map(|b| self.user_position(b))
            .map(with_hw)
            .collect();
        let computed: Vec<Value> = device.bar_ids().map(|b| with_hw(&self.computed_position(b))).collect();
        let resolved: Vec<Value> = device
            .bar_ids()
            .map(|b| match self.user_position(b) {
                Some(p) => json!({"source": "USER_DEFINED", "position": with_hw(p)}),
                None => json!({"source": "COMPUTED", "position": with_hw(&self.computed_position(b))}),
            })
            .collect();
        let mut doc = json!({
            "uiMeasurementSystem": self.ui_measurement_system,
            "roomDimensionsVerified": self.room_dimensions_verified,
            "roomDimensions": self.room_dimensions,
            "computedRoomDimensions": self.computed_room(device),
            "audioComponentPositionsVerified": self.audio_component_positions_verified,
            "audioComponentPositions": user,
            "computedAudioComponentPositions": computed,
            "resolvedAudioComponentPositions": resolved,
            "zones": self.zones,
        });
        if device.model.is_hdl410()
            && let Some(o) = doc.as_object_mut()
        {
            o.insert(
                "cameraSwitcherZoneInputMaps".into(),
                json!(self.camera_switcher_zone_input_maps),
            );
            o.insert("cameraSwitcherDefaults".into(), json!(self.camera_switcher_defaults));
            o.insert("soundLocationAlgorithm".into(), json!(self.sound_location_algorithm));
        }
        doc
    }

    /// The camera switcher integration as the device reports it.
    pub(crate) fn camera_switcher_document(&self) -> Value {
        self.camera_switcher
            .document(self.camera_switcher_defaults.default_camera_input_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn hdl410() -> RoomDevice {
        RoomDevice {
            model: Model::Hdl410,
            bars: vec!["AA4111AB0000".into(), "AA4111AB0001".into()],
        }
    }

    pub(super) fn hdl310() -> RoomDevice {
        RoomDevice {
            model: Model::Hdl310,
            bars: vec!["AA3111AB0000".into()],
        }
    }

    fn zone(id: &str, on: bool, p1: (i32, i32), p2: (i32, i32)) -> Zone {
        Zone {
            kind: ZoneType::Switching,
            on,
            active_zone_control: None,
            geometry: Geometry {
                point1: Point { x: p1.0, y: p1.1 },
                point2: Point { x: p2.0, y: p2.1 },
            },
            label: format!("Zone {id}"),
            id: id.into(),
        }
    }

    #[test]
    fn triggered_zones_are_the_on_zones_holding_the_point() {
        let layout = RoomLayout {
            zones: vec![
                zone("a", true, (2000, 2000), (1000, 1000)),
                zone("b", false, (0, 0), (5000, 5000)),
                zone("c", true, (3000, 3000), (4000, 4000)),
            ],
            ..RoomLayout::default()
        };
        let ids = |x, y| {
            layout
                .triggered_zones(x, y)
                .into_iter()
                .map(|z| z.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(1500, 1500), ["a"]);
        assert_eq!(ids(1000, 2000), ["a"], "edges count");
        assert_eq!(ids(2500, 2500), Vec::<String>::new());
        assert_eq!(ids(4000, 3000), ["c"]);
        let t = serde_json::to_value(&layout.triggered_zones(1500, 1500)[0]).unwrap();
        assert_eq!(t, json!({"type": "Switching", "label": "Zone a", "id": "a"}));
        assert_eq!(layout.room_dimensions().y_max, 6000);
    }

    #[test]
    fn the_document_fills_in_what_the_device_computes() {
        let layout = RoomLayout::default();
        let doc = layout.document(&hdl410());
        assert_eq!(doc["audioComponentPositions"][0]["hardwareId"], "AA4111AB0000");
        assert_eq!(doc["computedAudioComponentPositions"].as_array().unwrap().len(), 2);
        assert_eq!(doc["computedAudioComponentPositions"][1]["y"], 6000);
        assert_eq!(doc["resolvedAudioComponentPositions"][0]["source"], "USER_DEFINED");
        assert_eq!(doc["resolvedAudioComponentPositions"][1]["source"], "COMPUTED");
        assert_eq!(
            doc["resolvedAudioComponentPositions"][1]["position"]["id"],
            "AUDIO_BAR_1"
        );
        assert_eq!(
            doc["computedRoomDimensions"],
            json!({"xMin": -8382, "xMax": 8382, "yMin": 0, "yMax": 10660})
        );
        assert_eq!(doc["soundLocationAlgorithm"], "BP");
        assert_eq!(doc["cameraSwitcherDefaults"]["zonesTriggerWaitTime"], 1000);
        let small = layout.document(&hdl310());
        assert_eq!(small["computedAudioComponentPositions"].as_array().unwrap().len(), 1);
        for hdl410_only in [
            "cameraSwitcherZoneInputMaps",
            "cameraSwitcherDefaults",
            "soundLocationAlgorithm",
        ] {
            assert!(small.get(hdl410_only).is_none(), "{hdl410_only}");
        }
    }

    #[test]
    fn uuids_are_version_4() {
        let a = new_uuid();
        assert!(is_uuid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_uuid());
        assert!(!is_uuid("2345313e-deb8-4cd4-a58a-2df03129695"));
        assert!(!is_uuid("2345313e-deb8-4cd4-a58a_2df031296958"));
        assert!(is_uuid("2345313e-deb8-4cd4-a58a-2df031296958"));
    }

    #[test]
    fn the_stored_form_round_trips() {
        let layout = RoomLayout {
            zones: vec![zone("a", true, (0, 0), (10, 10))],
            ..RoomLayout::default()
        };
        let v = serde_json::to_value(&layout).unwrap();
        assert_eq!(v["zones"][0]["type"], "Switching");
        assert_eq!(serde_json::from_value::<RoomLayout>(v).unwrap(), layout);
    }
}
