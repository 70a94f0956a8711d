//! Camera switching on an HDL410: the camera input ports a zone can switch to, and
//! the camera switcher integration (`/api/v1/integrations/camera-switcher`: whether
//! the device drives a network camera switcher, and where it is).
//!
//! The switcher's `model`, `activeCameraInput` and `integrationErrors` are what the
//! device observes; only `enabled` and `ipOrHostname` are settings.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fields::{all_or_nothing, entry, patch_object, read_only, typed, unknown};
use crate::error::ApiError;

/// A camera input of the switcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum InputPort {
    /// First USB camera.
    USB1,
    /// Second USB camera.
    USB2,
    /// HDMI camera.
    HDMI,
}

impl InputPort {
    /// Every port, as spelled in JSON.
    pub(crate) const NAMES: &'static [&'static str] = &["USB1", "USB2", "HDMI"];
}

/// The switcher the vendor integrates the HDL410 with (INOGENI CAM230).
pub(crate) const SWITCHER_MODEL: &str = "CAM230";

/// Longest `ipOrHostname` (a DNS name).
pub(crate) const MAX_HOST: usize = 253;

/// The persisted camera switcher integration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CameraSwitcher {
    /// Whether the device drives the switcher.
    pub enabled: bool,
    /// The switcher's address on the room network; empty when not set.
    pub ip_or_hostname: String,
}

const READ_ONLY: &[&str] = &["model", "activeCameraInput", "integrationErrors"];

fn valid_host(host: &str) -> bool {
    host.len() <= MAX_HOST
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

impl CameraSwitcher {
    /// The integration as the device reports it; the switcher shows the default
    /// camera until a zone triggers another.
    pub(crate) fn document(&self, default_port: InputPort) -> Value {
        let connected = self.enabled && !self.ip_or_hostname.is_empty();
        let errors = if self.enabled && self.ip_or_hostname.is_empty() {
            json!([{"code": "NoSwitcherAddress", "description": "the camera switcher is enabled but ipOrHostname is not set"}])
        } else {
            json!([])
        };
        json!({
            "enabled": self.enabled,
            "model": SWITCHER_MODEL,
            "ipOrHostname": self.ip_or_hostname,
            "activeCameraInput": if connected { json!(default_port) } else { Value::Null },
            "integrationErrors": errors,
        })
    }

    /// Apply a PATCH: `enabled` and `ipOrHostname`; every problem reported, nothing
    /// changes unless all is valid.
    pub(crate) fn patched(&self, body: &Value) -> Result<CameraSwitcher, ApiError> {
        let obj = patch_object(body, "camera switcher")?;
        let mut next = self.clone();
        let mut errors = Vec::new();
        for (name, value) in obj {
            let result = match name.as_str() {
                "enabled" => typed("enabled", value).map(|b| next.enabled = b),
                "ipOrHostname" => typed::<String>("ipOrHostname", value).and_then(|host| {
                    if valid_host(&host) {
                        next.ip_or_hostname = host;
                        Ok(())
                    } else {
                        Err(entry(
                            "invalid_value",
                            format!(
                                "`ipOrHostname` must be an IP address or host name of at most {MAX_HOST} characters"
                            ),
                        ))
                    }
                }),
                n if READ_ONLY.contains(&n) => Err(read_only(n)),
                n => Err(unknown(n, "camera switcher")),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        all_or_nothing(next, errors)
    }
}

/// The schema of the camera switcher document (and, `for_patch`, of a PATCH).
pub(crate) fn schema(for_patch: bool) -> Value {
    let mut props = json!({
        "enabled": {"type": "boolean"},
        "ipOrHostname": {"type": "string", "maxLength": MAX_HOST, "description": "The switcher's IP address or host name; empty when not set."},
    });
    if !for_patch && let Some(p) = props.as_object_mut() {
        p.insert(
            "model".into(),
            json!({"type": "string", "description": "The switcher model (read-only)."}),
        );
        p.insert(
            "activeCameraInput".into(),
            json!({"type": ["string", "null"], "enum": [InputPort::NAMES[0], InputPort::NAMES[1], InputPort::NAMES[2], null]}),
        );
        p.insert(
            "integrationErrors".into(),
            json!({"type": "array", "items": {"type": "object", "required": ["code", "description"],
                "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}),
        );
    }
    let mut s = json!({"type": "object", "additionalProperties": false, "properties": props});
    if for_patch {
        s["minProperties"] = json!(1);
    } else {
        s["required"] = json!([
            "enabled",
            "model",
            "ipOrHostname",
            "activeCameraInput",
            "integrationErrors"
        ]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<CameraSwitcher, ApiError>) -> Vec<&'static str> {
        r.unwrap_err().entries().iter().map(|e| e.code).collect()
    }

    #[test]
    fn patches_set_enabled_and_host_and_refuse_the_rest_at_once() {
        let s = CameraSwitcher::default();
        let on = s
            .patched(&json!({"enabled": true, "ipOrHostname": "10.0.0.20"}))
            .unwrap();
        assert!(on.enabled);
        let doc = on.document(InputPort::HDMI);
        assert_eq!(doc["activeCameraInput"], "HDMI");
        assert_eq!(doc["model"], SWITCHER_MODEL);
        assert_eq!(doc["integrationErrors"], json!([]));
        let no_host = s.patched(&json!({"enabled": true})).unwrap();
        assert_eq!(
            no_host.document(InputPort::USB1)["integrationErrors"][0]["code"],
            "NoSwitcherAddress"
        );
        assert_eq!(s.document(InputPort::USB1)["activeCameraInput"], Value::Null);
        assert_eq!(
            codes(s.patched(&json!({"enabled": "yes", "model": "X", "bogus": 1, "ipOrHostname": "a b"}))),
            ["invalid_type", "read_only_field", "unknown_field", "invalid_value"]
        );
        assert_eq!(codes(s.patched(&json!({}))), ["empty_patch"]);
        assert_eq!(codes(s.patched(&json!([]))), ["invalid_body"]);
    }
}
