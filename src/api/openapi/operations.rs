//! What the capabilities document says about each operation beyond the route
//! table: its id, summary, tag, request body and success response.

use serde_json::Value;

use super::schemas;
use crate::api::routes::Op;

/// The success response of an operation.
#[derive(Debug, Clone, Copy)]
pub(super) enum Success {
    /// A JSON document with this status and schema.
    Json(u16, fn() -> Value),
    /// A `text/event-stream`; the schema describes one event (`event`, `data`, …).
    EventStream(fn() -> Value),
    /// `204 No Content`.
    NoContent,
    /// This status with an empty body.
    Empty(u16),
    /// Metrics in the Prometheus text format (OpenMetrics when the `Accept` header
    /// asks for it).
    Exposition,
}

/// The documentation of one operation.
pub(super) struct Facts {
    pub(super) operation_id: &'static str,
    pub(super) summary: &'static str,
    pub(super) tag: &'static str,
    /// JSON request body schema, when the operation takes a body.
    pub(super) body: Option<fn() -> Value>,
    /// Documented query parameters: name and description.
    pub(super) query: &'static [(&'static str, &'static str)],
    pub(super) success: Success,
}

/// The documentation of `op`.
pub(super) fn facts(op: Op) -> Facts {
    match op {
        Op::Capabilities => Facts {
            operation_id: "getCapabilities",
            summary: "The OpenAPI 3.1 description of this API, with each operation's minimum role",
            tag: "meta",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::capabilities_schema),
        },
        Op::Login => Facts {
            operation_id: "login",
            summary: "Log in to an account; returns the authParameters for the Authorization header",
            tag: "auth",
            body: Some(schemas::login_request_schema),
            query: &[],
            success: Success::Json(200, schemas::login_response_schema),
        },
        Op::Validate => Facts {
            operation_id: "validateCredential",
            summary: "Describe the credential presented: account, session id, expiry",
            tag: "auth",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::validate_response_schema),
        },
        Op::Logout => Facts {
            operation_id: "logout",
            summary: "Revoke the credential presented",
            tag: "auth",
            body: None,
            query: &[],
            success: Success::NoContent,
        },
        Op::Heartbeat => Facts {
            operation_id: "heartbeat",
            summary: "Event stream with `event: heartbeat` / `data: .` every few seconds",
            tag: "streams",
            body: None,
            query: &[],
            success: Success::EventStream(schemas::heartbeat_event_schema),
        },
        Op::Events => Facts {
            operation_id: "events",
            summary: "Event stream of changes; the event name is the changed resource's path",
            tag: "streams",
            body: None,
            query: &[],
            success: Success::EventStream(schemas::change_event_schema),
        },
        Op::GetAudio => Facts {
            operation_id: "getAudioSettings",
            summary: "Audio settings",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::audio_response_schema),
        },
        Op::PatchAudio => Facts {
            operation_id: "setAudioSettings",
            summary: "Change audio settings; unknown, read-only, mistyped or out-of-range fields are refused",
            tag: "audio",
            body: Some(schemas::audio_patch_schema),
            query: &[],
            success: Success::Json(200, schemas::audio_response_schema),
        },
        Op::ChangeVolume => Facts {
            operation_id: "changeSpeakerVolume",
            summary: "Step the speaker volume up or down (0–100, clamped)",
            tag: "audio",
            body: Some(schemas::volume_request_schema),
            query: &[],
            success: Success::Json(200, schemas::audio_response_schema),
        },
        Op::Hardware => Facts {
            operation_id: "getDeviceInformation",
            summary: "Device information; enrollmentCode is empty unless the caller is admin",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::hardware_response_schema),
        },
        Op::Data => Facts {
            operation_id: "deviceDataStream",
            summary: "Device data stream (deviceMetrics: background noise; simulated on the reference device)",
            tag: "data",
            body: None,
            query: &[(
                "events",
                "Comma-separated event names to receive: deviceMetrics, soundLocation (default: all). An unknown name gets one `event: error` and the end of the stream.",
            )],
            success: Success::EventStream(schemas::data_event_schema),
        },
        Op::Status => Facts {
            operation_id: "getStatus",
            summary: "Room status: the network and Console LEDs, USB and device components (changes: ledStateUpdated, usbConnection, deviceComponentsConnection on /api/v1/events)",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(200, crate::device::status::status_schema),
        },
        Op::Identify => Facts {
            operation_id: "identifyAudioComponents",
            summary: "Light the bars' LEDs for a while so the device can be found in the room (ledStateUpdated announces start and end); the request has no body",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Empty(200),
        },
        Op::Calibrate => Facts {
            operation_id: "calibrateAudio",
            summary: "Start a room recalibration; /api/v1/audio/calibrate on /api/v1/events announces started and completed (409 while one runs)",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(202, schemas::calibration_schema),
        },
        Op::GetSettings => Facts {
            operation_id: "getSettings",
            summary: "Device settings of the vendor's HDL200/HDL300/HDX devices; an HDL310/HDL410 does not have them (409 unsupported_device_type)",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::any_object_schema),
        },
        Op::PatchSettings => Facts {
            operation_id: "setSettings",
            summary: "Change the settings of the vendor's HDL200/HDL300/HDX devices; an HDL310/HDL410 does not have them (409 unsupported_device_type)",
            tag: "audio",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::any_object_schema),
        },
        Op::GetRoomLayout => Facts {
            operation_id: "getRoomLayout",
            summary: "Room layout: dimensions, bar positions (set, computed, resolved), zones, camera switching (millimetres from the primary bar)",
            tag: "room",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::room_layout_schema),
        },
        Op::PatchRoomLayout => Facts {
            operation_id: "setRoomLayout",
            summary: "Change the room layout; the named top-level fields are replaced, read-only ones refused, all checked or nothing changes",
            tag: "room",
            body: Some(schemas::room_layout_patch_schema),
            query: &[],
            success: Success::Json(200, schemas::room_layout_schema),
        },
        Op::PatchZoneInputMaps => Facts {
            operation_id: "setRoomZoneInputMaps",
            summary: "Map camera zones to camera inputs and set the camera switching defaults (HDL410)",
            tag: "room",
            body: Some(schemas::zone_input_maps_schema),
            query: &[],
            success: Success::Json(200, schemas::zone_input_maps_schema),
        },
        Op::ListProfiles => Facts {
            operation_id: "getRoomProfiles",
            summary: "The room profiles (HDL410)",
            tag: "room",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::profiles_schema),
        },
        Op::CreateProfile => Facts {
            operation_id: "createRoomProfile",
            summary: "Create a room profile from the current zones and cameras (at most 3, unique names; HDL410)",
            tag: "room",
            body: Some(schemas::profile_name_schema),
            query: &[],
            success: Success::Json(201, schemas::profile_schema),
        },
        Op::RenameProfile => Facts {
            operation_id: "updateRoomProfile",
            summary: "Rename a room profile (HDL410)",
            tag: "room",
            body: Some(schemas::profile_name_schema),
            query: &[],
            success: Success::Json(200, schemas::profile_schema),
        },
        Op::ActivateProfile => Facts {
            operation_id: "activateRoomProfile",
            summary: "Make a room profile active: its zones and cameras become the layout's (HDL410)",
            tag: "room",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::profile_schema),
        },
        Op::DeleteProfile => Facts {
            operation_id: "deleteRoomProfile",
            summary: "Delete a room profile (HDL410)",
            tag: "room",
            body: None,
            query: &[],
            success: Success::NoContent,
        },
        Op::GetCameraSwitcher => Facts {
            operation_id: "getCameraSwitcher",
            summary: "The camera switcher integration (HDL410)",
            tag: "integrations",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::camera_switcher_schema),
        },
        Op::PatchCameraSwitcher => Facts {
            operation_id: "setCameraSwitcher",
            summary: "Enable the camera switcher integration or set its address (HDL410)",
            tag: "integrations",
            body: Some(schemas::camera_switcher_patch_schema),
            query: &[],
            success: Success::Json(200, schemas::camera_switcher_schema),
        },
        Op::NetworkConfiguration => Facts {
            operation_id: "getNetworkConfiguration",
            summary: "The network configuration (read-only)",
            tag: "network",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::network_schema),
        },
        Op::ListAccounts => Facts {
            operation_id: "listAccounts",
            summary: "The four accounts: enabled, password set, admin password still the enrollment code, last change",
            tag: "admin",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::accounts_schema),
        },
        Op::UpdateAccount => Facts {
            operation_id: "updateAccount",
            summary: "Enable/disable an account or set its password; revokes the account's sessions on a password change or disable",
            tag: "admin",
            body: Some(schemas::account_patch_schema),
            query: &[],
            success: Success::Json(200, schemas::account_response_schema),
        },
        Op::ListSessions => Facts {
            operation_id: "listSessions",
            summary: "Open sessions: account, client, address, created, last used",
            tag: "admin",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::sessions_schema),
        },
        Op::RevokeSession => Facts {
            operation_id: "revokeSession",
            summary: "Revoke a session (its open event streams close)",
            tag: "admin",
            body: None,
            query: &[],
            success: Success::NoContent,
        },
        Op::CreateKey => Facts {
            operation_id: "createApiKey",
            summary: "Create a per-integration API key; the key is shown once",
            tag: "admin",
            body: Some(schemas::key_request_schema),
            query: &[],
            success: Success::Json(201, schemas::key_created_schema),
        },
        Op::ListKeys => Facts {
            operation_id: "listApiKeys",
            summary: "API keys (never the secret): created, last used, last client id",
            tag: "admin",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::keys_schema),
        },
        Op::RevokeKey => Facts {
            operation_id: "revokeApiKey",
            summary: "Revoke an API key",
            tag: "admin",
            body: None,
            query: &[],
            success: Success::NoContent,
        },
        Op::GetPolicy => Facts {
            operation_id: "getSecurityPolicy",
            summary: "The security policy",
            tag: "security",
            body: None,
            query: &[],
            success: Success::Json(200, schemas::policy_schema),
        },
        Op::PatchPolicy => Facts {
            operation_id: "setSecurityPolicy",
            summary: "Change the security policy; applies at once",
            tag: "security",
            body: Some(schemas::policy_patch_schema),
            query: &[],
            success: Success::Json(200, schemas::policy_schema),
        },
        Op::Metrics => Facts {
            operation_id: "getMetrics",
            summary: "Health metrics in the Prometheus text format (OpenMetrics if the Accept header asks for \
                      application/openmetrics-text); the client headers may be left out",
            tag: "meta",
            body: None,
            query: &[],
            success: Success::Exposition,
        },
    }
}
