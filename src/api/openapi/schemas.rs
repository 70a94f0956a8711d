//! Request and response schemas of the built-in operations, for the capabilities
//! document. The reference device's field tables describe their own documents
//! (`device::audio`, `device::room`); everything else is written here.

use serde_json::{Value, json};

use crate::device::audio::audio_schema;
use crate::device::info::hardware_schema;
use crate::device::room::schema as room_schema;

/// Schema of the capabilities response (an OpenAPI document).
pub(super) fn capabilities_schema() -> Value {
    json!({
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {
            "openapi": {"type": "string"},
            "info": {"type": "object"},
            "paths": {"type": "object"},
        },
    })
}

/// Schema of the login request.
pub(super) fn login_request_schema() -> Value {
    json!({
        "type": "object",
        "required": ["account", "password"],
        "additionalProperties": false,
        "properties": {
            "account": {"type": "string", "enum": ["monitor", "general", "integrator", "admin"]},
            "password": {"type": "string", "description": "The password; for admin at first, the enrollment code (XXX-XXX-XXX, any case, dashes optional)."},
        },
    })
}

/// Schema of the login response.
pub(super) fn login_response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["authParameters", "account", "expiresAt"],
        "properties": {
            "authParameters": {"type": "string", "description": "Send as `Authorization: Nureva <authParameters>`."},
            "account": {"type": "string", "enum": ["monitor", "general", "integrator", "admin"]},
            "expiresAt": {"type": ["string", "null"], "format": "date-time"},
        },
    })
}

/// Schema of the validate response.
pub(super) fn validate_response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["account", "kind", "sessionId", "createdAt", "expiresAt"],
        "properties": {
            "account": {"type": "string", "enum": ["monitor", "general", "integrator", "admin"]},
            "kind": {"type": "string", "enum": ["session", "apiKey"]},
            "sessionId": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"},
            "expiresAt": {"type": ["string", "null"], "format": "date-time"},
        },
    })
}

fn event_schema(names: serde_json::Value, data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": names,
            "data": data,
            "retry": {"type": "integer", "minimum": 0, "description": "Reconnection delay in milliseconds"},
            "id": {"type": "string"},
        },
    })
}

/// One heartbeat event.
pub(super) fn heartbeat_event_schema() -> serde_json::Value {
    event_schema(
        serde_json::json!({"const": "heartbeat"}),
        serde_json::json!({"const": "."}),
    )
}

/// One change event: the changed resource's path, and the resource as JSON.
pub(super) fn change_event_schema() -> serde_json::Value {
    event_schema(
        serde_json::json!({"type": "string", "enum": [
            "/api/v1/audio", "/api/v1/room/layout", "/api/v1/room/profiles", "/api/v1/integrations/camera-switcher"
        ]}),
        serde_json::json!({"type": "string", "description": "The changed resource, as JSON"}),
    )
}

/// One device data event (or the error event for an unknown name).
pub(super) fn data_event_schema() -> serde_json::Value {
    event_schema(
        serde_json::json!({"type": "string", "enum": ["deviceMetrics", "soundLocation", "error"]}),
        serde_json::json!({"type": "string", "description": "deviceMetrics: {\"backgroundNoise\": dB}; error: {\"errors\": [...]}"}),
    )
}

/// Schema of the room layout.
pub(super) fn room_layout_schema() -> Value {
    room_schema::layout(false)
}

/// Schema of a room layout PATCH.
pub(super) fn room_layout_patch_schema() -> Value {
    room_schema::layout(true)
}

/// Schema of a zone input maps PATCH (and its answer).
pub(super) fn zone_input_maps_schema() -> Value {
    room_schema::input_maps_patch()
}

/// Schema of the room profile list.
pub(super) fn profiles_schema() -> Value {
    room_schema::profiles()
}

/// Schema of one room profile.
pub(super) fn profile_schema() -> Value {
    room_schema::profile()
}

/// Schema of a profile create or rename request.
pub(super) fn profile_name_schema() -> Value {
    room_schema::profile_name()
}

/// Schema of the camera switcher integration.
pub(super) fn camera_switcher_schema() -> Value {
    crate::device::camera::schema(false)
}

/// Schema of a camera switcher PATCH.
pub(super) fn camera_switcher_patch_schema() -> Value {
    crate::device::camera::schema(true)
}

/// Schema of the network configuration.
pub(super) fn network_schema() -> Value {
    crate::device::network::schema()
}

/// Schema of the audio settings document.
pub(super) fn audio_response_schema() -> Value {
    audio_schema(false)
}

/// Schema of a PATCH body.
pub(super) fn audio_patch_schema() -> Value {
    audio_schema(true)
}

/// Schema of a volume step request.
pub(super) fn volume_request_schema() -> Value {
    json!({
        "type": "object",
        "required": ["operation"],
        "additionalProperties": false,
        "properties": {"operation": {"type": "string", "enum": ["increment", "decrement"]}},
    })
}

/// Schema of the device information document.
pub(super) fn hardware_response_schema() -> Value {
    hardware_schema()
}

const ROLE_ENUM: [&str; 4] = ["monitor", "general", "integrator", "admin"];

fn account_schema() -> Value {
    json!({
        "type": "object",
        "required": ["account", "enabled", "passwordSet", "passwordEmpty", "passwordIsEnrollmentCode", "changedAt"],
        "properties": {
            "account": {"type": "string", "enum": ROLE_ENUM},
            "enabled": {"type": "boolean"},
            "passwordSet": {"type": "boolean"},
            "passwordEmpty": {"type": "boolean"},
            "passwordIsEnrollmentCode": {"type": "boolean"},
            "changedAt": {"type": "string", "format": "date-time"},
            "sessionsRevoked": {"type": "integer", "minimum": 0},
        },
    })
}

/// Schema of the account list.
pub(super) fn accounts_schema() -> Value {
    json!({"type": "object", "required": ["accounts"], "properties": {"accounts": {"type": "array", "items": account_schema()}}})
}

/// Schema of one account (PATCH response).
pub(super) fn account_response_schema() -> Value {
    account_schema()
}

/// Schema of an account PATCH.
pub(super) fn account_patch_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
            "enabled": {"type": "boolean", "description": "admin cannot be disabled (409)"},
            "password": {"type": "string", "maxLength": 1024, "description": "Policy: passwordMinLength–passwordMaxLength characters, not the account name; general may be empty when the policy allows."},
            "currentPassword": {"type": "string", "description": "Required when changing the admin password."},
        },
    })
}

/// Schema of the session list.
pub(super) fn sessions_schema() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let opt_ts = json!({"type": ["string", "null"], "format": "date-time"});
    json!({"type": "object", "required": ["sessions"], "properties": {"sessions": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "account", "clientId", "clientVersion", "remoteAddress", "createdAt", "lastUsedAt", "expiresAt", "viaEnrollmentCode"],
        "properties": {
            "id": {"type": "string"},
            "account": {"type": "string", "enum": ROLE_ENUM},
            "clientId": {"type": "string"},
            "clientVersion": {"type": "string"},
            "remoteAddress": {"type": "string"},
            "createdAt": ts,
            "lastUsedAt": opt_ts,
            "expiresAt": opt_ts,
            "viaEnrollmentCode": {"type": "boolean"},
        },
    }}}})
}

/// Schema of a key creation request.
pub(super) fn key_request_schema() -> Value {
    json!({
        "type": "object",
        "required": ["name", "account"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": crate::auth::ops::KEY_NAME_MAX},
            "account": {"type": "string", "enum": ROLE_ENUM},
        },
    })
}

/// Schema of a created key (the only time the key is shown).
pub(super) fn key_created_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "key", "name", "account", "createdAt"],
        "properties": {
            "id": {"type": "string"},
            "key": {"type": "string", "pattern": "^rgk_", "description": "Shown once; send as `Authorization: Nureva <key>`."},
            "name": {"type": "string"},
            "account": {"type": "string", "enum": ROLE_ENUM},
            "createdAt": {"type": "string", "format": "date-time"},
        },
    })
}

/// Schema of the key list.
pub(super) fn keys_schema() -> Value {
    json!({"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "name", "account", "createdAt", "lastUsedAt", "lastClientId"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "account": {"type": "string", "enum": ROLE_ENUM},
            "createdAt": {"type": "string", "format": "date-time"},
            "lastUsedAt": {"type": ["string", "null"], "format": "date-time"},
            "lastClientId": {"type": ["string", "null"]},
        },
    }}}})
}

fn policy_properties() -> Value {
    let count = |max: u32| json!({"type": "integer", "minimum": 0, "maximum": max});
    json!({
        "sessionLifetimeSecs": {"type": ["integer", "null"], "minimum": 1, "description": "null: sessions do not expire"},
        "maxSessionsPerAccount": count(crate::auth::policy::MAX_SESSIONS_CAP),
        "passwordMinLength": count(crate::auth::policy::PASSWORD_LENGTH_CAP),
        "passwordMaxLength": count(crate::auth::policy::PASSWORD_LENGTH_CAP),
        "allowEmptyGeneralPassword": {"type": "boolean"},
        "requireAdminPasswordChange": {"type": "boolean"},
        "legacyBasicCredentials": {"type": "boolean"},
        "loginFailuresPerHour": count(crate::auth::policy::LOGIN_FAILURES_CAP),
        "loginFailuresBeforeDelay": count(crate::auth::policy::LOGIN_FAILURES_CAP),
        "requestsPerMinute": count(1_000_000),
    })
}

/// Schema of the policy document.
pub(super) fn policy_schema() -> Value {
    let props = policy_properties();
    let required: Vec<String> = props
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    json!({"type": "object", "required": required, "properties": props})
}

/// Schema of a policy PATCH.
pub(super) fn policy_patch_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": policy_properties()})
}
