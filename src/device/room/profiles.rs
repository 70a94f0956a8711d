//! Room profiles (HDL410): up to three named sets of camera zones and their
//! cameras, one of them active. The active profile's zones are the layout's: a
//! layout change updates it, and activating another profile puts its zones and
//! cameras in the layout.
//!
//! A new profile starts as a copy of the current zones and cameras; the first one
//! made is active at once (it already matches the layout). Deleting the active
//! profile leaves the layout as it is, with no profile active.

use serde_json::{Value, json};

use super::{Profile, RoomLayout, is_uuid, new_uuid};
use crate::device::fields::{all_or_nothing, shown, typed, unknown};
use crate::error::ApiError;

/// Most room profiles a device keeps.
pub(crate) const MAX_PROFILES: usize = 3;

impl Profile {
    /// The profile as the API reports it.
    pub(crate) fn summary(&self) -> Value {
        json!({"profileId": self.profile_id, "name": self.name, "active": self.active})
    }
}

/// The `name` of a create or rename body.
fn name_of(body: &Value) -> Result<String, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "request body must be a JSON object like {\"name\": \"Lecture\"}",
        ));
    };
    let mut errors: Vec<_> = obj
        .keys()
        .filter(|k| k.as_str() != "name")
        .map(|k| unknown(k, "room profile"))
        .collect();
    let name = match obj.get("name") {
        None => {
            errors.push(crate::device::fields::entry(
                "missing_field",
                "`name` is required".into(),
            ));
            String::new()
        }
        Some(v) => match typed::<String>("name", v) {
            Ok(n) => n,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        },
    };
    if errors.is_empty() {
        super::rules::check_text("name", name.trim(), &mut errors);
    }
    all_or_nothing(name.trim().to_string(), errors)
}

fn no_such_profile(id: &str) -> ApiError {
    let shown = if is_uuid(id) { id.to_string() } else { shown(id) };
    ApiError::no_such("no_such_profile", format!("no room profile {shown}"))
}

impl RoomLayout {
    /// `{"profiles": [...]}`
    pub(crate) fn profiles_document(&self) -> Value {
        json!({"profiles": self.profiles.iter().map(Profile::summary).collect::<Vec<_>>()})
    }

    /// The active profile takes the layout's zones and cameras.
    pub(super) fn sync_active_profile(&mut self) {
        let (zones, maps) = (&self.zones, &self.camera_switcher_zone_input_maps);
        if let Some(p) = self.profiles.iter_mut().find(|p| p.active) {
            p.zones.clone_from(zones);
            p.camera_switcher_zone_input_maps.clone_from(maps);
        }
    }

    fn profile_mut(&mut self, id: &str) -> Result<&mut Profile, ApiError> {
        self.profiles
            .iter_mut()
            .find(|p| p.profile_id == id)
            .ok_or_else(|| no_such_profile(id))
    }

    fn check_name_free(&self, name: &str, except: Option<&str>) -> Result<(), ApiError> {
        let taken = self
            .profiles
            .iter()
            .any(|p| p.name == name && Some(p.profile_id.as_str()) != except);
        if taken {
            return Err(ApiError::conflict(
                "profile_name_taken",
                format!("a room profile is already named {}", shown(name)),
            ));
        }
        Ok(())
    }

    /// Make a profile from `{"name": …}`: a copy of the current zones and cameras.
    pub(crate) fn create_profile(&mut self, body: &Value) -> Result<Profile, ApiError> {
        let name = name_of(body)?;
        if self.profiles.len() >= MAX_PROFILES {
            return Err(ApiError::conflict(
                "too_many_profiles",
                format!("a device has at most {MAX_PROFILES} room profiles; delete one first"),
            ));
        }
        self.check_name_free(&name, None)?;
        let profile = Profile {
            profile_id: new_uuid(),
            name,
            active: !self.profiles.iter().any(|p| p.active),
            zones: self.zones.clone(),
            camera_switcher_zone_input_maps: self.camera_switcher_zone_input_maps.clone(),
        };
        self.profiles.push(profile.clone());
        Ok(profile)
    }

    /// Rename profile `id` from `{"name": …}`.
    pub(crate) fn rename_profile(&mut self, id: &str, body: &Value) -> Result<Profile, ApiError> {
        let name = name_of(body)?;
        self.profile_mut(id)?;
        self.check_name_free(&name, Some(id))?;
        let p = self.profile_mut(id)?;
        p.name = name;
        Ok(p.clone())
    }

    /// Make profile `id` the active one: its zones and cameras become the layout's.
    pub(crate) fn activate_profile(&mut self, id: &str) -> Result<Profile, ApiError> {
        self.profile_mut(id)?;
        for p in &mut self.profiles {
            p.active = p.profile_id == id;
        }
        let p = self.profile_mut(id)?.clone();
        self.zones.clone_from(&p.zones);
        self.camera_switcher_zone_input_maps
            .clone_from(&p.camera_switcher_zone_input_maps);
        Ok(p)
    }

    /// Delete profile `id`.
    pub(crate) fn delete_profile(&mut self, id: &str) -> Result<(), ApiError> {
        let before = self.profiles.len();
        self.profiles.retain(|p| p.profile_id != id);
        if self.profiles.len() == before {
            return Err(no_such_profile(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::hdl410;
    use super::*;

    fn code(e: ApiError) -> (u16, &'static str) {
        (e.status().as_u16(), e.code())
    }

    fn zone_body(id: &str, x: i32) -> Value {
        json!({"zones": [{"type": "Switching", "geometry": {"point1": {"x": x, "y": 0}, "point2": {"x": x + 500, "y": 500}}, "label": id, "id": id}]})
    }

    #[test]
    fn at_most_three_uniquely_named_profiles_the_first_active() {
        let mut l = RoomLayout::default();
        let a = l.create_profile(&json!({"name": "Lecture"})).unwrap();
        assert!(a.active && is_uuid(&a.profile_id));
        let b = l.create_profile(&json!({"name": "Panel"})).unwrap();
        assert!(!b.active);
        assert_eq!(
            code(l.create_profile(&json!({"name": "Panel"})).unwrap_err()),
            (409, "profile_name_taken")
        );
        l.create_profile(&json!({"name": "Workshop"})).unwrap();
        assert_eq!(
            code(l.create_profile(&json!({"name": "Fourth"})).unwrap_err()),
            (409, "too_many_profiles")
        );
        for (body, want) in [
            (json!({}), "missing_field"),
            (json!({"name": ""}), "out_of_range"),
            (json!({"name": 3}), "invalid_type"),
            (json!({"name": "x", "active": true}), "unknown_field"),
            (json!("x"), "invalid_body"),
        ] {
            assert_eq!(
                code(l.rename_profile(&a.profile_id, &body).unwrap_err()),
                (400, want),
                "{body}"
            );
        }
        assert_eq!(
            code(l.rename_profile(&a.profile_id, &json!({"name": "Panel"})).unwrap_err()).1,
            "profile_name_taken"
        );
        assert_eq!(
            l.rename_profile(&a.profile_id, &json!({"name": "Lecture"}))
                .unwrap()
                .name,
            "Lecture",
            "its own name is free"
        );
        assert_eq!(
            code(l.rename_profile("nope", &json!({"name": "x"})).unwrap_err()),
            (404, "no_such_profile")
        );
        assert_eq!(l.profiles_document()["profiles"].as_array().unwrap().len(), 3);
        assert_eq!(
            l.profiles_document()["profiles"][0]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["profileId", "name", "active"]
        );
    }

    #[test]
    fn activating_a_profile_applies_its_zones_and_layout_changes_follow_the_active_one() {
        let mut l = RoomLayout::default();
        let lecture = l.create_profile(&json!({"name": "Lecture"})).unwrap();
        l = l.patched(&zone_body("front", 0), &hdl410()).unwrap();
        assert_eq!(
            l.profiles[0].zones[0].id, "front",
            "the active profile follows the layout"
        );
        let panel = l.create_profile(&json!({"name": "Panel"})).unwrap();
        l.activate_profile(&panel.profile_id).unwrap();
        l = l.patched(&zone_body("table", 2000), &hdl410()).unwrap();
        assert_eq!(
            l.profiles[0].zones[0].id, "front",
            "an inactive profile keeps its zones"
        );
        l.activate_profile(&lecture.profile_id).unwrap();
        assert_eq!(l.zones[0].id, "front");
        assert_eq!(l.profiles.iter().filter(|p| p.active).count(), 1);
        l.activate_profile(&panel.profile_id).unwrap();
        assert_eq!(l.zones[0].id, "table");
        assert_eq!(code(l.activate_profile("nope").unwrap_err()).1, "no_such_profile");
        l.delete_profile(&panel.profile_id).unwrap();
        assert_eq!(l.zones[0].id, "table", "deleting keeps the layout");
        assert!(l.profiles.iter().all(|p| !p.active));
        assert_eq!(
            code(l.delete_profile(&panel.profile_id).unwrap_err()),
            (404, "no_such_profile")
        );
    }
}
