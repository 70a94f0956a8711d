//! The change announcements the reference device makes: an `/api/v1/events` event
//! for each of its resources that changed (named after the resource's path, with
//! the whole new resource as data, as the vendor's stream does) — audio settings,
//! room layout, room profiles, camera switcher — and the audio settings rendered
//! once per change, since they are the most polled answer.

use std::sync::atomic::{AtomicU32, Ordering};

use arc_swap::ArcSwap;
use bytes::Bytes;

use super::DeviceSettings;
use super::audio::{AudioSettings, render};
use super::model::Release;
use super::room::RoomDevice;
use crate::config::DeviceInfo;
use crate::events::EventBus;
use crate::http_util::to_json_bytes;

/// Every event name the change stream carries (its schema in the capabilities
/// document lists them).
pub(crate) const CHANGE_EVENTS: &[&str] = &[
    "/api/v1/audio",
    "/api/v1/audio/hardware",
    super::status::CALIBRATE_EVENT,
    "/api/v1/room/layout",
    "/api/v1/room/profiles",
    "/api/v1/integrations/camera-switcher",
    super::status::LED_EVENT,
    super::status::USB_EVENT,
    super::status::COMPONENTS_EVENT,
];

/// What the device publishes about its settings.
#[derive(Debug)]
pub(crate) struct Announcer {
    /// The audio settings as reported by firmware of this release.
    audio_json: ArcSwap<(Release, Bytes)>,
    /// The release of the configured firmware (`Release::packed`), set at start and
    /// at every reload: the request path reads it here rather than loading the
    /// configuration.
    configured: AtomicU32,
    /// What the room documents are rendered for.
    room_device: RoomDevice,
}

impl Announcer {
    /// Start from the settings in force on the device `info` describes.
    pub(crate) fn new(initial: &DeviceSettings, info: &DeviceInfo) -> Announcer {
        let release = info.firmware_version.release();
        Announcer {
            audio_json: ArcSwap::from_pointee((release, render(&initial.audio, release))),
            configured: AtomicU32::new(release.packed()),
            room_device: RoomDevice::from_info(info),
        }
    }

    /// The configuration in force now describes `info` (a reload).
    pub(crate) fn reconfigured(&self, info: &DeviceInfo) {
        self.configured
            .store(info.firmware_version.release().packed(), Ordering::Relaxed);
    }

    /// The audio settings as JSON, as of their last change; `current` (the settings
    /// in force) is rendered again only when the configured firmware changed.
    pub(crate) fn audio_json(&self, current: &AudioSettings) -> Bytes {
        let release = Release::unpacked(self.configured.load(Ordering::Relaxed));
        let cached = self.audio_json.load();
        if cached.0 == release {
            return Bytes::clone(&cached.1);
        }
        let json = render(current, release);
        self.audio_json
            .store(std::sync::Arc::new((release, Bytes::clone(&json))));
        json
    }

    /// The settings went from `before` to `after` (whoever changed them): refresh
    /// what is rendered and announce each changed resource on `bus`.
    pub(crate) fn changed(&self, bus: &EventBus, before: &DeviceSettings, after: &DeviceSettings) {
        if before.audio != after.audio {
            // Rendered once: the same bytes answer GET and go out as the event.
            let release = self.audio_json.load().0;
            let audio = render(&after.audio, release);
            self.audio_json
                .store(std::sync::Arc::new((release, Bytes::clone(&audio))));
            bus.publish("/api/v1/audio", audio);
        }
        let (was, room) = (&before.room_layout, &after.room_layout);
        if was.layout_differs(room) {
            bus.publish("/api/v1/room/layout", to_json_bytes(&room.document(&self.room_device)));
        }
        if was.profiles_document() != room.profiles_document() {
            bus.publish("/api/v1/room/profiles", to_json_bytes(&room.profiles_document()));
        }
        let switcher = room.camera_switcher_document();
        if was.camera_switcher_document() != switcher {
            bus.publish("/api/v1/integrations/camera-switcher", to_json_bytes(&switcher));
        }
    }
}
