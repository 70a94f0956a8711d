//! Request and response schemas of the built-in operations, for the capabilities
//! document. The reference device's field tables describe their own documents
//! (`device::audio`, `device::room`); everything else is written here.

use serde_json::{Value, json};

use crate::device::audio::audio_schema;
use crate::device::info::hardware_schema;
use crate::device::room::schema as room_schema;

/// The static schemas, as JSON text: data costs far less binary than the code
/// `json!` makes of it (the document is built once, on first request).
const SCHEMAS: &str = include_str!("schemas.json");

fn named(name: &str) -> Value {
    crate::util::named_json(SCHEMAS, name)
}

/// The document's `components`: security schemes, the client header parameters, the
/// error schema and the error responses.
pub(super) fn components() -> Value {
    named("components")
}

/// Schema of the capabilities response (an OpenAPI document).
pub(super) fn capabilities_schema() -> Value {
    named("capabilities")
}

/// Schema of the login request.
pub(super) fn login_request_schema() -> Value {
    named("loginRequest")
}

/// Schema of the login response.
pub(super) fn login_response_schema() -> Value {
    named("loginResponse")
}

/// Schema of the validate response.
pub(super) fn validate_response_schema() -> Value {
    named("validateResponse")
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
        serde_json::json!({"type": "string", "enum": crate::device::announce::CHANGE_EVENTS}),
        serde_json::json!({"type": "string", "description": "The changed resource, as JSON"}),
    )
}

/// One device data event (or the error event for an unknown name).
pub(super) fn data_event_schema() -> serde_json::Value {
    event_schema(
        serde_json::json!({"type": "string", "pattern": "^(deviceMetrics|soundLocation|error \\(.*\\))$"}),
        serde_json::json!({"type": "string", "description": "soundLocation: {azimuth, powerLevel, time, version, flags; HDL410: coordinates, triggeredZones}; deviceMetrics: {\"backgroundNoise\": dB}; error (<name>): {statusCode, event, message}"}),
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
    named("volumeRequest")
}

/// Schema of the device information document.
pub(super) fn hardware_response_schema() -> Value {
    hardware_schema()
}

fn account_schema() -> Value {
    named("account")
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
    named("accountPatch")
}

/// Schema of the session list.
pub(super) fn sessions_schema() -> Value {
    named("sessions")
}

/// Schema of a key creation request.
pub(super) fn key_request_schema() -> Value {
    named("keyRequest")
}

/// Schema of a created key (the only time the key is shown).
pub(super) fn key_created_schema() -> Value {
    named("keyCreated")
}

/// Schema of the key list.
pub(super) fn keys_schema() -> Value {
    named("keys")
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
        "acceptVendorExampleCredential": {"type": "boolean", "description": "Accept the vendor's example credential, base64(\"general:\"), while the general password is empty"},
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

/// The certificate's expiry health.
fn certificate_expiry_schema() -> Value {
    json!({
        "type": "object",
        "required": ["notAfter", "daysLeft", "expiringSoon"],
        "properties": {
            "notAfter": {"type": "string", "format": "date-time"},
            "daysLeft": {"type": "integer", "description": "Whole days left; negative once expired"},
            "expiringSoon": {"type": "boolean", "description": "Within tls.expiry_warning (30 days by default) of notAfter, or past it"},
        },
    })
}

/// Schema of `GET /api/v1/status`: the vendor's, plus the optional `certificate`.
pub(super) fn status_with_certificate_schema() -> Value {
    let mut schema = crate::device::status::status_schema();
    if let Some(props) = schema["properties"].as_object_mut() {
        let mut expiry = certificate_expiry_schema();
        expiry["description"] = json!("roomgate: the device certificate's expiry health");
        props.insert("certificate".into(), expiry);
    }
    schema
}

/// Schema of the certificate document.
pub(super) fn certificate_schema() -> Value {
    let string = json!({"type": "string"});
    let time = json!({"type": "string", "format": "date-time"});
    let props = json!({
        "path": string,
        "operatorSupplied": {"type": "boolean", "description": "The files are the operator's (tls.cert_file): nothing is installed over them"},
        "selfSigned": {"type": "boolean", "description": "The generated certificate rather than one issued by a CA"},
        "subject": string,
        "issuer": string,
        "names": {"type": "array", "items": string, "description": "Subject alternative names: DNS:… and IP:…"},
        "notBefore": time,
        "notAfter": time,
        "daysLeft": {"type": "integer"},
        "expiringSoon": {"type": "boolean"},
        "sha256Fingerprint": string,
        "publicKeyPin": string,
        "chainLength": {"type": "integer", "minimum": 1},
        "pendingKey": {"type": "boolean", "description": "A new key made for a request awaits its certificate"},
    });
    let required: Vec<String> = props
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    json!({"type": "object", "required": required, "properties": props})
}

/// Schema of a certificate installation.
pub(super) fn certificate_install_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["chain"],
        "properties": {"chain": {"type": "string", "description": "PEM certificates, leaf first, then intermediates; never a private key"}},
    })
}

/// Schema of a certificate signing request's options (the body may be left out).
pub(super) fn csr_request_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {"newKey": {"type": "boolean", "description": "Make a new key (kept pending until a chain for it is installed)"}},
    })
}

/// Schema of a certificate signing request.
pub(super) fn csr_response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["csr", "newKey"],
        "properties": {
            "csr": {"type": "string", "description": "PEM (-----BEGIN CERTIFICATE REQUEST-----)"},
            "newKey": {"type": "boolean"},
        },
    })
}

pub(super) fn calibration_schema() -> Value {
    named("calibration")
}

pub(super) fn any_object_schema() -> Value {
    json!({"type": "object"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_schema_is_an_object() {
        let all: &[fn() -> Value] = &[
            capabilities_schema,
            login_request_schema,
            login_response_schema,
            validate_response_schema,
            account_schema,
            account_patch_schema,
            sessions_schema,
            keys_schema,
            key_request_schema,
            key_created_schema,
            volume_request_schema,
            calibration_schema,
            hardware_schema,
            crate::device::status::status_schema,
            status_with_certificate_schema,
            certificate_schema,
            certificate_install_schema,
            csr_request_schema,
            csr_response_schema,
        ];
        for schema in all {
            assert_eq!(schema()["type"], "object");
        }
        assert!(components()["responses"]["E409"].is_object());
    }
}
