//! The reference device's audio settings: typed, range-checked fields and volume
//! steps.
//!
//! One field table ([`AUDIO_FIELDS`]) drives PATCH validation, the settings schema in
//! the capabilities document, and (through a unit test) agrees with the persisted
//! [`AudioSettings`] struct, so the three cannot drift apart. On a real device these
//! endpoints are routed to the audio daemon instead; the auth core is the same.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ErrorEntry};

/// Volume points one `increment`/`decrement` moves (the vendor documents 4–6).
pub(crate) const VOLUME_STEP: u8 = 5;

/// A three-step processing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    Low,
    Medium,
    High,
}

const LEVELS: &[&str] = &["Low", "Medium", "High"];

impl Level {
    fn parse(s: &str) -> Option<Level> {
        match s {
            "Low" => Some(Level::Low),
            "Medium" => Some(Level::Medium),
            "High" => Some(Level::High),
            _ => None,
        }
    }
}

/// The persisted audio settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AudioSettings {
    /// Microphone muted.
    pub microphone_mute: bool,
    /// Far-end audience muted.
    pub audience_mute: bool,
    /// Speaker volume 0–100 (read-only here; changed by volume steps).
    pub speaker_volume: u8,
    /// Treble 0–100.
    pub speaker_treble_level: u8,
    /// Bass 0–100.
    pub speaker_bass_level: u8,
    /// Echo reduction.
    pub echo_reduction_level: Level,
    /// Noise reduction.
    pub noise_reduction_level: Level,
    /// Voice amplification on.
    pub voice_amplification_enabled: bool,
    /// Voice amplification level 0–40.
    pub voice_amplification_level: u8,
}

impl Default for AudioSettings {
    fn default() -> Self {
        AudioSettings {
            microphone_mute: false,
            audience_mute: false,
            speaker_volume: 50,
            speaker_treble_level: 50,
            speaker_bass_level: 50,
            echo_reduction_level: Level::Medium,
            noise_reduction_level: Level::Medium,
            voice_amplification_enabled: false,
            voice_amplification_level: 20,
        }
    }
}

/// The type and range of a settings field.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `true`/`false`.
    Bool,
    /// An integer in `min..=max`.
    Int {
        /// Smallest value.
        min: u8,
        /// Largest value.
        max: u8,
    },
    /// One of the listed strings (case-sensitive).
    Enum(&'static [&'static str]),
}

/// A checked value, ready to apply.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// An in-range integer.
    Int(u8),
    /// A level.
    Level(Level),
}

/// One settings field.
#[derive(Debug)]
pub struct Field {
    /// camelCase name.
    pub name: &'static str,
    /// Type and range.
    pub kind: Kind,
    /// Refused in PATCH.
    pub read_only: bool,
    /// For the capabilities document.
    pub description: &'static str,
    apply: fn(&mut AudioSettings, FieldValue),
}

macro_rules! setter {
    (Bool, $f:ident) => {
        |s: &mut AudioSettings, v: FieldValue| {
            if let FieldValue::Bool(b) = v {
                s.$f = b;
            }
        }
    };
    (Int, $f:ident) => {
        |s: &mut AudioSettings, v: FieldValue| {
            if let FieldValue::Int(n) = v {
                s.$f = n;
            }
        }
    };
    (Level, $f:ident) => {
        |s: &mut AudioSettings, v: FieldValue| {
            if let FieldValue::Level(l) = v {
                s.$f = l;
            }
        }
    };
}

/// Every audio settings field, in document order.
pub static AUDIO_FIELDS: &[Field] = &[
    Field {
        name: "microphoneMute",
        kind: Kind::Bool,
        read_only: false,
        description: "Microphone muted (a setting, not a toggle).",
        apply: setter!(Bool, microphone_mute),
    },
    Field {
        name: "audienceMute",
        kind: Kind::Bool,
        read_only: false,
        description: "Far-end audience muted.",
        apply: setter!(Bool, audience_mute),
    },
    Field {
        name: "speakerVolume",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: true,
        description: "Speaker volume; change it with PUT /api/v1/audio/volume/change.",
        apply: setter!(Int, speaker_volume),
    },
    Field {
        name: "speakerTrebleLevel",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: false,
        description: "Speaker treble level.",
        apply: setter!(Int, speaker_treble_level),
    },
    Field {
        name: "speakerBassLevel",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: false,
        description: "Speaker bass level.",
        apply: setter!(Int, speaker_bass_level),
    },
    Field {
        name: "echoReductionLevel",
        kind: Kind::Enum(LEVELS),
        read_only: false,
        description: "Echo reduction level.",
        apply: setter!(Level, echo_reduction_level),
    },
    Field {
        name: "noiseReductionLevel",
        kind: Kind::Enum(LEVELS),
        read_only: false,
        description: "Noise reduction level.",
        apply: setter!(Level, noise_reduction_level),
    },
    Field {
        name: "voiceAmplificationEnabled",
        kind: Kind::Bool,
        read_only: false,
        description: "Voice Amplification Mode on.",
        apply: setter!(Bool, voice_amplification_enabled),
    },
    Field {
        name: "voiceAmplificationLevel",
        kind: Kind::Int { min: 0, max: 40 },
        read_only: false,
        description: "Voice amplification level.",
        apply: setter!(Int, voice_amplification_level),
    },
];

/// A validated PATCH: the fields to set, in order.
#[derive(Debug)]
pub struct AudioPatch(Vec<(&'static Field, FieldValue)>);

impl AudioPatch {
    /// Check a PATCH body. Every problem is reported (one entry per field); nothing
    /// is applied unless every field is valid.
    pub fn parse(body: &Value) -> Result<AudioPatch, ApiError> {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::bad_request(
                "invalid_body",
                "request body must be a JSON object of settings",
            ));
        };
        let mut ok = Vec::with_capacity(obj.len());
        let mut errors = Vec::new();
        for (name, value) in obj {
            match check_field(name, value) {
                Ok(pair) => ok.push(pair),
                Err(entry) => errors.push(entry),
            }
        }
        if errors.is_empty() {
            Ok(AudioPatch(ok))
        } else {
            Err(ApiError::many(http::StatusCode::BAD_REQUEST, errors))
        }
    }

    /// Apply to settings.
    pub fn apply(&self, settings: &mut AudioSettings) {
        for (field, value) in &self.0 {
            (field.apply)(settings, *value);
        }
    }
}

/// Field names in messages are truncated so a hostile key cannot bloat the reply.
fn shown(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if name.chars().count() > 64 {
        s.push('…');
    }
    s
}

fn check_field(name: &str, value: &Value) -> Result<(&'static Field, FieldValue), ErrorEntry> {
    let Some(field) = AUDIO_FIELDS.iter().find(|f| f.name == name) else {
        return Err(ErrorEntry {
            code: "unknown_field",
            message: format!("`{}` is not an audio setting", shown(name)),
        });
    };
    if field.read_only {
        return Err(ErrorEntry {
            code: "read_only_field",
            message: format!("`{}` is read-only", field.name),
        });
    }
    let wrong_type = |what: &str| ErrorEntry {
        code: "invalid_type",
        message: format!("`{}` must be {what}", field.name),
    };
    let value = match field.kind {
        Kind::Bool => FieldValue::Bool(value.as_bool().ok_or_else(|| wrong_type("a boolean"))?),
        Kind::Int { min, max } => {
            let n = value
                .as_i64()
                .or_else(|| value.as_u64().map(|_| i64::MAX))
                .ok_or_else(|| wrong_type("an integer"))?;
            let in_range = u8::try_from(n).ok().filter(|n| (min..=max).contains(n));
            FieldValue::Int(in_range.ok_or_else(|| ErrorEntry {
                code: "out_of_range",
                message: format!("`{}` must be between {min} and {max}", field.name),
            })?)
        }
        Kind::Enum(allowed) => {
            let s = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            FieldValue::Level(Level::parse(s).ok_or_else(|| ErrorEntry {
                code: "invalid_value",
                message: format!("`{}` must be one of {}", field.name, allowed.join(", ")),
            })?)
        }
    };
    Ok((field, value))
}

/// Direction of a volume step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeOp {
    /// Up one step (to at most 100).
    Increment,
    /// Down one step (to at least 0).
    Decrement,
}

impl VolumeOp {
    /// Parse `{"operation": "increment"|"decrement"}` (case-sensitive, as the vendor).
    pub fn parse(body: &Value) -> Result<VolumeOp, ApiError> {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::bad_request(
                "invalid_body",
                "request body must be a JSON object like {\"operation\": \"increment\"}",
            ));
        };
        if let Some(other) = obj.keys().find(|k| k.as_str() != "operation") {
            return Err(ApiError::bad_request(
                "unknown_field",
                format!("`{}` is not a field of this request", shown(other)),
            ));
        }
        match obj.get("operation") {
            None => Err(ApiError::bad_request("missing_field", "`operation` is required")),
            Some(Value::String(s)) if s == "increment" => Ok(VolumeOp::Increment),
            Some(Value::String(s)) if s == "decrement" => Ok(VolumeOp::Decrement),
            Some(Value::String(_)) => Err(ApiError::bad_request(
                "invalid_value",
                "`operation` must be \"increment\" or \"decrement\"",
            )),
            Some(_) => Err(ApiError::bad_request("invalid_type", "`operation` must be a string")),
        }
    }

    /// Apply one step, clamped to 0–100.
    pub fn apply(self, settings: &mut AudioSettings) {
        settings.speaker_volume = match self {
            VolumeOp::Increment => settings.speaker_volume.saturating_add(VOLUME_STEP).min(100),
            VolumeOp::Decrement => settings.speaker_volume.saturating_sub(VOLUME_STEP),
        };
    }
}

/// The JSON Schema of the audio settings, generated from the field table.
pub(crate) fn audio_schema(for_patch: bool) -> Value {
    let mut props = Map::new();
    for f in AUDIO_FIELDS {
        if for_patch && f.read_only {
            continue;
        }
        let mut s = match f.kind {
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            Kind::Enum(values) => json!({"type": "string", "enum": values}),
        };
        if let Some(o) = s.as_object_mut() {
            o.insert("description".into(), f.description.into());
            if f.read_only {
                o.insert("readOnly".into(), true.into());
            }
        }
        props.insert(f.name.into(), s);
    }
    let mut schema = json!({
        "type": "object",
        "properties": props,
        "additionalProperties": false,
    });
    if !for_patch && let Some(o) = schema.as_object_mut() {
        let names: Vec<_> = AUDIO_FIELDS.iter().map(|f| f.name).collect();
        o.insert("required".into(), json!(names));
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_table_matches_the_struct() {
        let v = serde_json::to_value(AudioSettings::default()).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        let mut names: Vec<_> = AUDIO_FIELDS.iter().map(|f| f.name.to_string()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        names.sort();
        assert_eq!(sorted, names);
    }

    #[test]
    fn every_writable_field_applies() {
        let body = json!({
            "microphoneMute": true, "audienceMute": true, "speakerTrebleLevel": 1,
            "speakerBassLevel": 2, "echoReductionLevel": "High", "noiseReductionLevel": "Low",
            "voiceAmplificationEnabled": true, "voiceAmplificationLevel": 40,
        });
        let mut s = AudioSettings::default();
        AudioPatch::parse(&body).unwrap().apply(&mut s);
        let expected = AudioSettings {
            microphone_mute: true,
            audience_mute: true,
            speaker_volume: 50,
            speaker_treble_level: 1,
            speaker_bass_level: 2,
            echo_reduction_level: Level::High,
            noise_reduction_level: Level::Low,
            voice_amplification_enabled: true,
            voice_amplification_level: 40,
        };
        assert_eq!(s, expected);
    }

    #[test]
    fn every_problem_is_reported_and_nothing_applies() {
        let body = json!({
            "microphoneMute": "yes", "speakerVolume": 10, "speakerTrebleLevel": 101,
            "voiceAmplificationLevel": -1, "echoReductionLevel": "high", "bogus": 1,
            "speakerBassLevel": 5.5, "audienceMute": true,
        });
        let e = AudioPatch::parse(&body).unwrap_err();
        let mut codes: Vec<_> = e.entries().iter().map(|e| e.code).collect();
        codes.sort();
        assert_eq!(
            codes,
            [
                "invalid_type",
                "invalid_type",
                "invalid_value",
                "out_of_range",
                "out_of_range",
                "read_only_field",
                "unknown_field"
            ]
        );
        assert!(AudioPatch::parse(&json!([1])).is_err());
        assert!(AudioPatch::parse(&json!({"speakerBassLevel": 18446744073709551615u64})).is_err());
    }

    #[test]
    fn volume_steps_clamp() {
        let mut s = AudioSettings {
            speaker_volume: 98,
            ..Default::default()
        };
        VolumeOp::Increment.apply(&mut s);
        assert_eq!(s.speaker_volume, 100);
        s.speaker_volume = 3;
        VolumeOp::Decrement.apply(&mut s);
        assert_eq!(s.speaker_volume, 0);
        assert_eq!(
            VolumeOp::parse(&json!({"operation": "increment"})).unwrap(),
            VolumeOp::Increment
        );
        for bad in [
            json!({}),
            json!({"operation": "Increment"}),
            json!({"operation": 1}),
            json!({"operation": "increment", "x": 1}),
            json!("increment"),
        ] {
            assert!(VolumeOp::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_lists_every_field_and_marks_read_only() {
        let full = audio_schema(false);
        assert_eq!(full["properties"].as_object().unwrap().len(), AUDIO_FIELDS.len());
        assert_eq!(full["properties"]["speakerVolume"]["readOnly"], true);
        let patch = audio_schema(true);
        assert!(patch["properties"].get("speakerVolume").is_none());
    }
}
