//! The config loader: arbitrary text through the two-stage loader. Nothing may panic,
//! an error always names the file, and an accepted config holds validated values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match roomgate::Config::from_toml(text, std::path::Path::new("/etc/roomgate"), "fuzz.toml") {
        Ok(config) => {
            assert!(config.policy.validate().is_ok());
            assert!(config.start.max_connections >= 1);
            assert!(config.tls.cert_file.is_absolute() && config.start.state_dir.is_absolute());
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml: "), "{e}"),
    }
});
