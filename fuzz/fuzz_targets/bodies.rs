//! Request bodies: arbitrary bytes as the JSON body of login, audio PATCH, volume
//! change, account PATCH and policy PATCH. Nothing may panic; a body that is accepted
//! must leave the settings in range and the policy valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomgate::testing::{AUDIO_FIELDS, AudioPatch, AudioSettings, Kind, VolumeOp};

fn in_range(s: &AudioSettings) -> bool {
    let v = serde_json::to_value(s).unwrap();
    AUDIO_FIELDS.iter().all(|f| match f.kind {
        Kind::Bool => v[f.name].is_boolean(),
        Kind::Int { min, max } => v[f.name].as_u64().is_some_and(|n| (u64::from(min)..=u64::from(max)).contains(&n)),
        Kind::Enum(values) => v[f.name].as_str().is_some_and(|s| values.contains(&s)),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let _ = roomgate::testing::LoginRequest::parse(&body);
    let _ = roomgate::testing::AccountPatch::parse(&body);
    let mut settings = AudioSettings::default();
    if let Ok(patch) = AudioPatch::parse(&body) {
        patch.apply(&mut settings);
        assert!(in_range(&settings), "an accepted PATCH keeps every field in range");
    }
    if let Ok(op) = VolumeOp::parse(&body) {
        for _ in 0..30 {
            op.apply(&mut settings);
        }
        assert!(settings.speaker_volume <= 100);
    }
    if let Ok(policy) = roomgate::testing::patch_policy(&Default::default(), &body) {
        assert!(policy.validate().is_ok(), "an accepted policy PATCH is valid");
    }
});
