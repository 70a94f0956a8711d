//! The README's curl walkthrough, run as written against the real binary.
//!
//! Every fenced block after a `<!-- walkthrough -->` marker in README.md is run
//! with bash, after substituting the test device's port for 8443, its enrollment code
//! for the sample `ABC-ABC-ABC`, and the `authParameters` from the login step for the
//! `<authParameters>` placeholder — nothing else.

use serde_json::Value;

use crate::common::{Proc, cli, write_config};

fn walkthrough_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "<!-- walkthrough -->" {
            continue;
        }
        assert_eq!(
            lines.next().map(str::trim),
            Some("```sh"),
            "a walkthrough marker must precede a sh block"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        blocks.push(block.join("\n"));
    }
    blocks
}

fn run(block: &str) -> String {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(block)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "block failed: {block}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_readme_walkthrough_works_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let device = Proc::spawn(&config, &[], &[]);
    let shown = cli(&config, &["enrollment", "show"]);
    assert!(shown.status.success());
    let code = String::from_utf8(shown.stdout).unwrap().trim().to_string();

    let blocks = walkthrough_blocks();
    assert_eq!(
        blocks.len(),
        11,
        "login, audio, patch, volume, hardware, status, identify, calibrate, validate, logout, vendor example"
    );
    let port = device.addr.port().to_string();
    let mut token = String::new();
    let mut outputs = Vec::new();
    for block in &blocks {
        assert!(block.contains("localhost:8443"));
        let cmd = block
            .replace("localhost:8443", &format!("localhost:{port}"))
            .replace("ABC-ABC-ABC", &code)
            .replace("<authParameters>", &token);
        let out = run(&cmd);
        if block.contains("/auth/login") {
            let v: Value = serde_json::from_str(&out).unwrap();
            token = v["authParameters"].as_str().unwrap().to_string();
            assert_eq!(v["account"], "admin");
        }
        outputs.push(out);
    }
    let json = |i: usize| -> Value {
        serde_json::from_str(&outputs[i]).unwrap_or_else(|_| panic!("step {i}: {}", outputs[i]))
    };
    assert_eq!(json(1)["speakerVolume"], 50);
    assert_eq!(json(2)["microphoneMute"], true);
    assert_eq!(json(2)["echoReductionLevel"], "High");
    assert_eq!(json(3)["speakerVolume"], 55);
    assert_eq!(json(4)["enrollmentCode"], code);
    assert_eq!(json(5)["leds"]["networkA"]["colour"], "green");
    assert_eq!(outputs[6], "", "identify answers 200 without a body");
    assert_eq!(json(7)["status"], "started");
    assert_eq!(json(8)["account"], "admin");
    assert_eq!(outputs[9], "", "logout answers 204");
    assert_eq!(
        json(10)["speakerVolume"],
        55,
        "the vendor's example credential reads the settings"
    );
    // After logout the credential is refused.
    let again = run(&blocks[1]
        .replace("localhost:8443", &format!("localhost:{port}"))
        .replace("<authParameters>", &token));
    assert!(again.contains("invalid_auth_parameters"), "{again}");
}

#[test]
fn curl_trusting_the_certificate_instead_of_k() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let device = Proc::spawn(&config, &[], &[]);
    let out = std::process::Command::new("curl")
        .args(["--silent", "--show-error", "--http2", "--cacert"])
        .arg(dir.path().join("certs/cert.pem"))
        .arg(device.url("/api/v1"))
        .args([
            "--header",
            "Nureva-Client-Id: integration_app_name",
            "--header",
            "Nureva-Client-Version: 0.0.1",
        ])
        .args(["--write-out", "\n%{http_version} %{http_code}"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("\n2 200"), "{}", &text[text.len().saturating_sub(40)..]);
    assert!(text.contains("\"openapi\":\"3.1.0\""));
}
