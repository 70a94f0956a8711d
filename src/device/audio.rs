//! The reference device's audio settings: typed, range-checked fields and volume
//! steps.
//!
//! One field table ([`AUDIO_FIELDS`]) drives PATCH validation, the settings schema in
//! the capabilities document, and (through a unit test) agrees with the persisted
//! [`AudioSettings`] struct, so the three cannot drift apart. On a real device these
//! endpoints are routed to the audio daemon instead; the auth core is the same.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::device::model::{Firmware, Release};
use crate::error::{ApiError, ErrorEntry};
use crate::util::shown;

/// Volume points one `increment`/`decrement` moves (the vendor documents 4–6).
pub(crate) const VOLUME_STEP: u8 = 5;

/// Declares a vendor enumeration: a `Copy` enum spelled as its variant names in
/// JSON, with the list of names and a case-sensitive parser (as the vendor's device).
macro_rules! choice {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[allow(missing_docs)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, as spelled in JSON.
            pub(crate) const NAMES: &'static [&'static str] = &[$(stringify!($variant)),+];

            fn parse(s: &str) -> Option<$name> {
                match s {
                    $(stringify!($variant) => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

choice!(
    /// A three-step processing level.
    Level { Low, Medium, High }
);
choice!(
    /// How the microphones pick up the room.
    PickupState { Mono, Stereo }
);
choice!(
    /// What the auxiliary output carries.
    AuxiliaryOutput { MicLevel, LineLevel, SpeakerOut, MixedSignal, SpeakerRef }
);
choice!(
    /// The level of the voice-amplification auxiliary input.
    AuxInLevel { Mic, Line }
);

/// The persisted audio settings. Fields a stored state lacks (it was written by an
/// older version) take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AudioSettings {
    /// Microphone muted.
    pub microphone_mute: bool,
    /// Far-end audience muted (only while voice amplification is on).
    pub audience_mute: bool,
    /// Mono or stereo pickup.
    pub microphone_pickup_state: PickupState,
    /// Microphone gain, −6 to 12.
    pub microphone_gain: i8,
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
    /// What the auxiliary output carries.
    pub auxiliary_output_state: AuxiliaryOutput,
    /// Voice amplification on.
    pub voice_amplification_enabled: bool,
    /// Voice amplification level 0–40.
    pub voice_amplification_level: u8,
    /// Voice amplification auxiliary input level.
    pub voice_amplification_aux_in_level: AuxInLevel,
    /// Dynamic boost on.
    pub dynamic_boost_enabled: bool,
    /// Microphone ducking on.
    pub microphone_ducking_enabled: bool,
    /// Voice amplification gate threshold 0–256.
    pub voice_amplification_gate_threshold: u16,
    /// Voice amplification USB output gain 0–40.
    pub voice_amplification_usb_output_gain_level: u8,
}

impl Default for AudioSettings {
    fn default() -> Self {
        AudioSettings {
            microphone_mute: false,
            audience_mute: false,
            microphone_pickup_state: PickupState::Mono,
            microphone_gain: 0,
            speaker_volume: 50,
            speaker_treble_level: 50,
            speaker_bass_level: 50,
            echo_reduction_level: Level::Medium,
            noise_reduction_level: Level::Medium,
            auxiliary_output_state: AuxiliaryOutput::LineLevel,
            voice_amplification_enabled: false,
            voice_amplification_level: 20,
            voice_amplification_aux_in_level: AuxInLevel::Line,
            dynamic_boost_enabled: false,
            microphone_ducking_enabled: false,
            voice_amplification_gate_threshold: 128,
            voice_amplification_usb_output_gain_level: 20,
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
        min: i16,
        /// Largest value.
        max: i16,
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
    Int(i16),
    /// One of the field's names (from its table entry).
    Choice(&'static str),
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
    /// The firmware release that brought it; on older firmware the device neither
    /// reports nor accepts it.
    pub since: Release,
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
                s.$f = n.try_into().unwrap_or(s.$f);
            }
        }
    };
    ($ty:ident, $f:ident) => {
        |s: &mut AudioSettings, v: FieldValue| {
            if let FieldValue::Choice(name) = v {
                s.$f = $ty::parse(name).unwrap_or(s.$f);
            }
        }
    };
}

/// The first firmware the vendor documents for the local API.
const BASE: Release = Release(0, 9);

/// Every audio settings field, in document order, with the firmware that brought it.
pub static AUDIO_FIELDS: &[Field] = &[
    Field {
        name: "microphoneMute",
        kind: Kind::Bool,
        read_only: false,
        since: BASE,
        description: "Microphone muted (a setting, not a toggle).",
        apply: setter!(Bool, microphone_mute),
    },
    Field {
        name: "audienceMute",
        kind: Kind::Bool,
        read_only: false,
        // The vendor's audience-mute page: HDL310/HDL410 firmware 1.9 or later.
        since: Release(1, 9),
        description: "Far-end audience muted; only while voiceAmplificationEnabled is true.",
        apply: setter!(Bool, audience_mute),
    },
    Field {
        name: "microphonePickupState",
        kind: Kind::Enum(PickupState::NAMES),
        read_only: false,
        since: BASE,
        description: "Mono or stereo microphone pickup.",
        apply: setter!(PickupState, microphone_pickup_state),
    },
    Field {
        name: "microphoneGain",
        kind: Kind::Int { min: -6, max: 12 },
        read_only: false,
        since: BASE,
        description: "Microphone gain.",
        apply: setter!(Int, microphone_gain),
    },
    Field {
        name: "speakerVolume",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: true,
        since: BASE,
        description: "Speaker volume; change it with PUT /api/v1/audio/volume/change.",
        apply: setter!(Int, speaker_volume),
    },
    Field {
        name: "speakerTrebleLevel",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: false,
        since: BASE,
        description: "Speaker treble level.",
        apply: setter!(Int, speaker_treble_level),
    },
    Field {
        name: "speakerBassLevel",
        kind: Kind::Int { min: 0, max: 100 },
        read_only: false,
        since: BASE,
        description: "Speaker bass level.",
        apply: setter!(Int, speaker_bass_level),
    },
    Field {
        name: "echoReductionLevel",
        kind: Kind::Enum(Level::NAMES),
        read_only: false,
        since: Release(1, 2),
        description: "Echo reduction level.",
        apply: setter!(Level, echo_reduction_level),
    },
    Field {
        name: "noiseReductionLevel",
        kind: Kind::Enum(Level::NAMES),
        read_only: false,
        since: Release(1, 2),
        description: "Noise reduction level.",
        apply: setter!(Level, noise_reduction_level),
    },
    Field {
        name: "auxiliaryOutputState",
        kind: Kind::Enum(AuxiliaryOutput::NAMES),
        read_only: false,
        since: BASE,
        description: "What the auxiliary output carries.",
        apply: setter!(AuxiliaryOutput, auxiliary_output_state),
    },
    Field {
        name: "voiceAmplificationEnabled",
        kind: Kind::Bool,
        read_only: false,
        since: Release(1, 1),
        description: "Voice Amplification Mode on; turning it off also turns audienceMute off.",
        apply: setter!(Bool, voice_amplification_enabled),
    },
    Field {
        name: "voiceAmplificationLevel",
        kind: Kind::Int { min: 0, max: 40 },
        read_only: false,
        since: Release(1, 1),
        description: "Voice amplification level.",
        apply: setter!(Int, voice_amplification_level),
    },
    Field {
        name: "voiceAmplificationAuxInLevel",
        kind: Kind::Enum(AuxInLevel::NAMES),
        read_only: false,
        since: Release(1, 1),
        description: "Level of the voice amplification auxiliary input.",
        apply: setter!(AuxInLevel, voice_amplification_aux_in_level),
    },
    Field {
        name: "dynamicBoostEnabled",
        kind: Kind::Bool,
        read_only: false,
        since: Release(1, 9),
        description: "Dynamic boost on.",
        apply: setter!(Bool, dynamic_boost_enabled),
    },
    Field {
        name: "microphoneDuckingEnabled",
        kind: Kind::Bool,
        read_only: false,
        since: Release(1, 9),
        description: "Microphone ducking on.",
        apply: setter!(Bool, microphone_ducking_enabled),
    },
    Field {
        name: "voiceAmplificationGateThreshold",
        kind: Kind::Int { min: 0, max: 256 },
        read_only: false,
        since: Release(2, 0),
        description: "Voice amplification gate threshold.",
        apply: setter!(Int, voice_amplification_gate_threshold),
    },
    Field {
        name: "voiceAmplificationUsbOutputGainLevel",
        kind: Kind::Int { min: 0, max: 40 },
        read_only: false,
        since: Release(2, 0),
        description: "Voice amplification USB output gain level.",
        apply: setter!(Int, voice_amplification_usb_output_gain_level),
    },
];

/// A validated PATCH: the fields to set, in order.
#[derive(Debug)]
pub struct AudioPatch(Vec<(&'static Field, FieldValue)>);

impl AudioPatch {
    /// Check a PATCH body for a device running `firmware`. Every problem is reported
    /// (one entry per field); nothing is applied unless every field is valid.
    pub fn parse(body: &Value, firmware: &Firmware) -> Result<AudioPatch, ApiError> {
        let obj = super::fields::patch_object(body, "audio")?;
        let mut ok = Vec::with_capacity(obj.len());
        let mut errors = Vec::new();
        for (name, value) in obj {
            match check_field(name, value, firmware) {
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

    /// Apply to settings, keeping the documented dependency: audience mute exists
    /// only while voice amplification is on (turning that off unmutes the audience;
    /// muting the audience without it is refused and nothing changes).
    pub fn apply(&self, settings: &mut AudioSettings) -> Result<(), ApiError> {
        let mut next = settings.clone();
        for (field, value) in &self.0 {
            (field.apply)(&mut next, *value);
        }
        let asks_audience_mute = self
            .0
            .iter()
            .any(|(f, v)| f.name == "audienceMute" && matches!(v, FieldValue::Bool(true)));
        if !next.voice_amplification_enabled {
            if asks_audience_mute {
                return Err(ApiError::bad_request(
                    "requires_voice_amplification",
                    "`audienceMute` can only be turned on while voiceAmplificationEnabled is true",
                ));
            }
            next.audience_mute = false;
        }
        *settings = next;
        Ok(())
    }
}

/// The settings as a device running firmware `release` reports them: without the
/// fields its firmware does not have.
pub(crate) fn render(settings: &AudioSettings, release: Release) -> bytes::Bytes {
    let mut value = serde_json::to_value(settings).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        for f in AUDIO_FIELDS.iter().filter(|f| f.since > release) {
            map.remove(f.name);
        }
    }
    crate::http_util::to_json_bytes(&value)
}

fn check_field(name: &str, value: &Value, firmware: &Firmware) -> Result<(&'static Field, FieldValue), ErrorEntry> {
    let Some(field) = AUDIO_FIELDS.iter().find(|f| f.name == name) else {
        return Err(ErrorEntry {
            code: "unknown_field",
            message: format!("Unsupported Attributes: {} is not an audio setting", shown(name)),
        });
    };
    if !firmware.has(field.since) {
        return Err(ErrorEntry {
            code: "firmware_too_old",
            message: format!(
                "`{}` needs firmware {} or later; this device runs {firmware}",
                field.name, field.since
            ),
        });
    }
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
            let in_range = i16::try_from(n).ok().filter(|n| (min..=max).contains(n));
            FieldValue::Int(in_range.ok_or_else(|| ErrorEntry {
                code: "out_of_range",
                message: format!("`{}` must be between {min} and {max}", field.name),
            })?)
        }
        Kind::Enum(allowed) => {
            let s = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            let name = allowed.iter().find(|a| **a == s).ok_or_else(|| ErrorEntry {
                code: "invalid_value",
                message: format!("`{}` must be one of {}", field.name, allowed.join(", ")),
            })?;
            FieldValue::Choice(name)
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
            let description = if f.since > BASE {
                format!("{} Firmware {} or later.", f.description, f.since)
            } else {
                f.description.to_string()
            };
            o.insert("description".into(), description.into());
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

    fn newest() -> Firmware {
        Firmware::parse("2.0.0-0").unwrap()
    }

    /// Every field's range or enum, edge by edge: the ends are accepted, one past
    /// them refused, and on firmware older than the field it is refused by name.
    #[test]
    fn every_field_range_enum_and_firmware_gate() {
        for f in AUDIO_FIELDS.iter().filter(|f| !f.read_only) {
            let (good, bad): (Vec<Value>, Vec<Value>) = match f.kind {
                Kind::Bool => (
                    vec![json!(true), json!(false)],
                    vec![json!(1), json!("true"), json!(null)],
                ),
                Kind::Int { min, max } => (
                    vec![json!(min), json!(max)],
                    vec![json!(min - 1), json!(max + 1), json!(1.5), json!("1")],
                ),
                Kind::Enum(names) => (
                    names.iter().map(|n| json!(n)).collect(),
                    vec![json!(names[0].to_lowercase()), json!(""), json!(0)],
                ),
            };
            for v in &good {
                let mut s = AudioSettings {
                    voice_amplification_enabled: true,
                    ..Default::default()
                };
                let patch = AudioPatch::parse(&json!({ f.name: v }), &newest());
                patch.unwrap().apply(&mut s).unwrap();
                assert_eq!(serde_json::to_value(&s).unwrap()[f.name], *v, "{} = {v}", f.name);
            }
            for v in &bad {
                assert!(
                    AudioPatch::parse(&json!({ f.name: v }), &newest()).is_err(),
                    "{} = {v}",
                    f.name
                );
            }
            let before = match f.since {
                Release(major, 0) => Release(major - 1, 9),
                Release(major, minor) => Release(major, minor - 1),
            };
            if f.since > BASE {
                let old = Firmware::parse(&format!("{before}.100-0")).unwrap();
                let e = AudioPatch::parse(&json!({ f.name: good[0] }), &old).unwrap_err();
                assert_eq!(e.code(), "firmware_too_old", "{}", f.name);
                assert!(e.entries()[0].message.contains(&f.since.to_string()));
                let shown: Value = serde_json::from_slice(&render(&AudioSettings::default(), old.release())).unwrap();
                assert!(shown.get(f.name).is_none(), "{} is not reported on {old}", f.name);
            }
        }
        let v2: Value = serde_json::from_slice(&render(&AudioSettings::default(), Release(1, 9))).unwrap();
        assert!(v2.get("voiceAmplificationGateThreshold").is_none());
        assert_eq!(v2["dynamicBoostEnabled"], false);
    }

    #[test]
    fn audience_mute_needs_voice_amplification() {
        let mut s = AudioSettings::default();
        let mute = AudioPatch::parse(&json!({"audienceMute": true}), &newest()).unwrap();
        assert_eq!(mute.apply(&mut s).unwrap_err().code(), "requires_voice_amplification");
        assert_eq!(s, AudioSettings::default(), "nothing changed");
        let both = json!({"audienceMute": true, "voiceAmplificationEnabled": true});
        AudioPatch::parse(&both, &newest()).unwrap().apply(&mut s).unwrap();
        assert!(s.audience_mute);
        let off = json!({"voiceAmplificationEnabled": false});
        AudioPatch::parse(&off, &newest()).unwrap().apply(&mut s).unwrap();
        assert!(!s.audience_mute, "turning voice amplification off unmutes the audience");
    }

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
            "microphonePickupState": "Stereo", "microphoneGain": -6, "auxiliaryOutputState": "SpeakerRef",
            "voiceAmplificationAuxInLevel": "Mic", "dynamicBoostEnabled": true,
            "microphoneDuckingEnabled": true, "voiceAmplificationGateThreshold": 256,
            "voiceAmplificationUsbOutputGainLevel": 0,
        });
        let mut s = AudioSettings::default();
        AudioPatch::parse(&body, &newest()).unwrap().apply(&mut s).unwrap();
        let expected = AudioSettings {
            microphone_mute: true,
            audience_mute: true,
            microphone_pickup_state: PickupState::Stereo,
            microphone_gain: -6,
            speaker_volume: 50,
            speaker_treble_level: 1,
            speaker_bass_level: 2,
            echo_reduction_level: Level::High,
            noise_reduction_level: Level::Low,
            auxiliary_output_state: AuxiliaryOutput::SpeakerRef,
            voice_amplification_enabled: true,
            voice_amplification_level: 40,
            voice_amplification_aux_in_level: AuxInLevel::Mic,
            dynamic_boost_enabled: true,
            microphone_ducking_enabled: true,
            voice_amplification_gate_threshold: 256,
            voice_amplification_usb_output_gain_level: 0,
        };
        assert_eq!(s, expected);
        let writable = AUDIO_FIELDS.iter().filter(|f| !f.read_only).count();
        assert_eq!(
            body.as_object().unwrap().len(),
            writable,
            "the test sets every writable field"
        );
    }

    #[test]
    fn every_problem_is_reported_and_nothing_applies() {
        let body = json!({
            "microphoneMute": "yes", "speakerVolume": 10, "speakerTrebleLevel": 101,
            "voiceAmplificationLevel": -1, "echoReductionLevel": "high", "bogus": 1,
            "speakerBassLevel": 5.5, "audienceMute": true,
        });
        let e = AudioPatch::parse(&body, &newest()).unwrap_err();
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
        assert!(AudioPatch::parse(&json!([1]), &newest()).is_err());
        assert!(AudioPatch::parse(&json!({"speakerBassLevel": 18446744073709551615u64}), &newest()).is_err());
        assert_eq!(
            AudioPatch::parse(&json!({}), &newest()).unwrap_err().code(),
            "empty_patch"
        );
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
