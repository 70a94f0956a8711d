//! The reference device: what a real HDL310/HDL410 would route to its own daemons
//! (SPEC §10). Audio settings, the room (layout, profiles, camera switching),
//! device information, network configuration, simulated measurements and the
//! change announcements the device makes; its HTTP handlers are `api::device` and
//! `api::room`. Replacing this folder with `[[route]]` entries to the
//! device's services is one move: the auth core does not depend on anything here
//! but [`DeviceSettings`], the part of the state document the device owns.

pub(crate) mod announce;
pub(crate) mod audio;
pub(crate) mod camera;
pub(crate) mod fields;
pub(crate) mod info;
pub(crate) mod measurements;
pub(crate) mod model;
pub(crate) mod network;
pub(crate) mod room;
pub(crate) mod status;

use serde::{Deserialize, Serialize};

/// The device's persisted settings. Flattened into the state document, whose
/// top level keeps `audio` and `roomLayout` as before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSettings {
    #[serde(default)]
    pub audio: audio::AudioSettings,
    /// The room: layout, profiles and camera switcher integration (the state
    /// file keeps them under `roomLayout`).
    #[serde(default)]
    pub room_layout: room::RoomLayout,
}
