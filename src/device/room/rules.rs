//! The layout rules, from the vendor's tutorials: the room holds the origin (and,
//! on an HDL410, is at least 12 ft square); bars sit inside the room at right
//! angles, the primary at the origin; at most eight zones of a type that never
//! overlap; camera zones are always on; each camera zone has at most one camera.
//! Every rule broken is reported.

use std::collections::HashSet;

use super::{BarId, Geometry, MAX_COORD, MAX_TEXT, MAX_WAIT_MS, MIN_HDL410_SIDE, RoomDevice, RoomLayout, ZoneType};
use crate::device::fields::entry;
use crate::error::ErrorEntry;

/// Every rule `layout` breaks on `device`.
pub(super) fn check(layout: &RoomLayout, device: &RoomDevice) -> Vec<ErrorEntry> {
    let mut errors = Vec::new();
    check_dimensions(layout, device, &mut errors);
    check_positions(layout, device, &mut errors);
    check_zones(layout, &mut errors);
    check_input_maps(layout, &mut errors);
    check_defaults(layout, &mut errors);
    errors
}

fn check_coord(field: &str, value: i32, errors: &mut Vec<ErrorEntry>) {
    if !(-MAX_COORD..=MAX_COORD).contains(&value) {
        errors.push(entry(
            "out_of_range",
            format!("`{field}` must be between -{MAX_COORD} and {MAX_COORD} (millimetres)"),
        ));
    }
}

/// A zone id, label or profile name: 1 to `MAX_TEXT` characters, none a control.
pub(super) fn check_text(field: &str, value: &str, errors: &mut Vec<ErrorEntry>) {
    let n = value.chars().count();
    if n == 0 || n > MAX_TEXT || value.chars().any(char::is_control) {
        errors.push(entry(
            "out_of_range",
            format!("`{field}` must be 1 to {MAX_TEXT} characters without control characters"),
        ));
    }
}

fn check_dimensions(layout: &RoomLayout, device: &RoomDevice, errors: &mut Vec<ErrorEntry>) {
    let r = layout.room_dimensions;
    for (name, v) in [
        ("xMin", r.x_min),
        ("xMax", r.x_max),
        ("yMin", r.y_min),
        ("yMax", r.y_max),
    ] {
        check_coord(&format!("roomDimensions.{name}"), v, errors);
    }
    if r.x_min > 0 || r.y_min > 0 || r.x_max < 0 || r.y_max < 0 {
        errors.push(entry(
            "invalid_value",
            "`roomDimensions` must hold the origin (the centre back of the primary bar): xMin ≤ 0 ≤ xMax and yMin ≤ 0 ≤ yMax".into(),
        ));
    }
    let (width, depth) = (
        i64::from(r.x_max) - i64::from(r.x_min),
        i64::from(r.y_max) - i64::from(r.y_min),
    );
    if device.model.is_hdl410() {
        if width < i64::from(MIN_HDL410_SIDE) || depth < i64::from(MIN_HDL410_SIDE) {
            errors.push(entry(
                "room_too_small",
                format!("`roomDimensions`: an HDL410 room is at least 12' x 12' ({MIN_HDL410_SIDE} mm each way)"),
            ));
        }
    } else if width <= 0 || depth <= 0 {
        errors.push(entry(
            "invalid_value",
            "`roomDimensions` must have xMin < xMax and yMin < yMax".into(),
        ));
    }
}

fn check_positions(layout: &RoomLayout, device: &RoomDevice, errors: &mut Vec<ErrorEntry>) {
    let mut seen = HashSet::new();
    for (i, p) in layout.audio_component_positions.iter().enumerate() {
        let f = format!("audioComponentPositions[{i}]");
        if !device.bar_ids().any(|b| b == p.id) {
            errors.push(entry(
                "no_such_component",
                format!("`{f}.id`: this {} has no {:?}", device.model, p.id),
            ));
        }
        if !seen.insert(p.id) {
            errors.push(entry("invalid_value", format!("`{f}.id`: {:?} is given twice", p.id)));
        }
        for (name, v) in [("x", p.x), ("y", p.y), ("z", p.z)] {
            check_coord(&format!("{f}.{name}"), v, errors);
        }
        if ![0, 90, 180, 270].contains(&p.z_angle) {
            errors.push(entry(
                "invalid_value",
                format!("`{f}.zAngle` must be 0, 90, 180 or 270"),
            ));
        }
        if p.id == BarId::AUDIO_BAR_0 && (p.x, p.y, p.z, p.z_angle) != (0, 0, 0, 0) {
            errors.push(entry(
                "invalid_value",
                format!("`{f}`: the primary bar (AUDIO_BAR_0) is the origin: x, y, z and zAngle are 0"),
            ));
        }
        if !layout.room_dimensions.contains(p.x, p.y) {
            errors.push(entry(
                "outside_room",
                format!("`{f}`: {:?} would be outside the room (roomDimensions)", p.id),
            ));
        }
    }
}

fn check_geometry(f: &str, g: &Geometry, errors: &mut Vec<ErrorEntry>) {
    for (name, v) in [
        ("point1.x", g.point1.x),
        ("point1.y", g.point1.y),
        ("point2.x", g.point2.x),
        ("point2.y", g.point2.y),
    ] {
        check_coord(&format!("{f}.geometry.{name}"), v, errors);
    }
    if g.point1.x == g.point2.x || g.point1.y == g.point2.y {
        errors.push(entry(
            "invalid_value",
            format!("`{f}.geometry`: point1 and point2 are opposite corners of a rectangle with an area"),
        ));
    }
}

fn check_zones(layout: &RoomLayout, errors: &mut Vec<ErrorEntry>) {
    if layout.zones.len() > super::MAX_ZONES {
        errors.push(entry("too_many_zones", format!("at most {} zones", super::MAX_ZONES)));
    }
    let mut ids = HashSet::new();
    for (i, z) in layout.zones.iter().enumerate() {
        let f = format!("zones[{i}]");
        check_text(&format!("{f}.id"), &z.id, errors);
        check_text(&format!("{f}.label"), &z.label, errors);
        check_geometry(&f, &z.geometry, errors);
        if !ids.insert(z.id.as_str()) {
            errors.push(entry("invalid_value", format!("`{f}.id` is used twice")));
        }
        match z.kind {
            // The vendor: active zones are only supported by the HDL300 and Dual HDL300.
            ZoneType::Active => errors.push(entry(
                "unsupported_zone_type",
                format!("`{f}.type`: Active zones are not supported on HDL310 or HDL410 devices (only Switching)"),
            )),
            ZoneType::Switching => {
                if z.active_zone_control.is_some() {
                    errors.push(entry(
                        "invalid_value",
                        format!("`{f}.activeZoneControl` is only for Active zones"),
                    ));
                }
                if !z.on {
                    errors.push(entry("invalid_value", format!("`{f}.on`: camera zones are always on")));
                }
            }
        }
        for (j, earlier) in layout.zones[..i].iter().enumerate() {
            if earlier.kind == z.kind && earlier.geometry.overlaps(&z.geometry) {
                errors.push(entry(
                    "zones_overlap",
                    format!("`{f}` overlaps zones[{j}]: zones of one type cannot overlap"),
                ));
            }
        }
    }
}

fn check_input_maps(layout: &RoomLayout, errors: &mut Vec<ErrorEntry>) {
    let mut mapped = HashSet::new();
    for (i, m) in layout.camera_switcher_zone_input_maps.iter().enumerate() {
        let f = format!("cameraSwitcherZoneInputMaps[{i}].zoneId");
        let camera_zone = layout
            .zones
            .iter()
            .any(|z| z.id == m.zone_id && z.kind == ZoneType::Switching);
        if !camera_zone {
            errors.push(entry(
                "no_such_zone",
                format!("`{f}` names no camera zone of this room"),
            ));
        }
        if !mapped.insert(m.zone_id.as_str()) {
            errors.push(entry("invalid_value", format!("`{f}`: a zone has one camera")));
        }
    }
}

fn check_defaults(layout: &RoomLayout, errors: &mut Vec<ErrorEntry>) {
    let d = layout.camera_switcher_defaults;
    for (name, v) in [
        ("zonesTriggerWaitTime", d.zones_trigger_wait_time),
        ("switchToDefaultWaitTime", d.switch_to_default_wait_time),
    ] {
        if v > MAX_WAIT_MS {
            errors.push(entry(
                "out_of_range",
                format!("`cameraSwitcherDefaults.{name}` must be 0 to {MAX_WAIT_MS} (milliseconds)"),
            ));
        }
    }
}
