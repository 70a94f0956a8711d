//! Hostile requests, byte for byte over TLS: each gets its documented status and a
//! JSON error, the device keeps serving, and the stored state does not change.

use reqwest::{Method, StatusCode};

use crate::common::{CLIENT_ID, CLIENT_VERSION, Device, raw_exchange};

/// A request head with both client headers and `extra` lines, then `body`.
fn req(method: &str, path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nNureva-Client-Id: {CLIENT_ID}\r\nNureva-Client-Version: {CLIENT_VERSION}\r\n{extra}\r\n"
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fn json_post(path: &str, auth: &str, body: &[u8]) -> Vec<u8> {
    req(
        "POST",
        path,
        &format!(
            "{auth}Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ),
        body,
    )
}

fn json_patch(path: &str, auth: &str, body: &[u8]) -> Vec<u8> {
    req(
        "PATCH",
        path,
        &format!(
            "{auth}Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ),
        body,
    )
}

fn cases(token: &str) -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let auth = format!("Authorization: Nureva {token}\r\n");
    let a = auth.as_str();
    let login = "/api/v1/auth/login";
    let audio = "/api/v1/audio";
    let nest = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let mut many_headers = String::new();
    for i in 0..100 {
        many_headers.push_str(&format!("X-Extra-{i}: y\r\n"));
    }
    let mut chunked_big = String::new();
    for _ in 0..80 {
        chunked_big.push_str(&format!("400\r\n{}\r\n", "x".repeat(1024)));
    }
    chunked_big.push_str("0\r\n\r\n");
    vec![
        // Broken HTTP framing: answered by the HTTP layer, as JSON.
        (
            "bad UTF-8 in the path",
            b"GET /api/v1/\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "raw UTF-8 in the path",
            req("GET", "/api/v1/äudio", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "NUL in a header value",
            req("GET", audio, "X-Evil: a\0b\r\n", b""),
            400,
            "malformed_request",
        ),
        (
            "space in a header name",
            req("GET", audio, "Bad Header: x\r\n", b""),
            400,
            "malformed_request",
        ),
        (
            "folded header line",
            req("GET", audio, "X-Folded: a\r\n continued\r\n", b""),
            400,
            "malformed_request",
        ),
        (
            "garbage request line",
            b"HELLO\r\n\r\n".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "two spaces in the request line",
            b"GET  /api/v1 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "unknown HTTP version",
            b"GET /api/v1 HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "absurd Content-Length",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n",
                b"{}",
            ),
            400,
            "malformed_request",
        ),
        (
            "negative Content-Length",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nContent-Length: -5\r\n",
                b"{}",
            ),
            400,
            "malformed_request",
        ),
        (
            "conflicting Content-Lengths",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n",
                b"{}",
            ),
            400,
            "malformed_request",
        ),
        (
            "unsupported Transfer-Encoding",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n",
                b"{}",
            ),
            400,
            "malformed_request",
        ),
        (
            "one huge header",
            req("GET", audio, &format!("X-Big: {}\r\n", "a".repeat(20 * 1024)), b""),
            431,
            "headers_too_large",
        ),
        (
            "a hundred headers",
            req("GET", audio, &many_headers, b""),
            431,
            "headers_too_large",
        ),
        (
            "a very long URI",
            req("GET", &format!("/api/v1/{}", "a".repeat(20 * 1024)), "", b""),
            431,
            "headers_too_large",
        ),
        // Bodies and chunked encoding.
        (
            "chunk size not hex",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                b"zz\r\n{}\r\n0\r\n\r\n",
            ),
            400,
            "body_read_error",
        ),
        (
            "chunked body past the limit",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                chunked_big.as_bytes(),
            ),
            413,
            "payload_too_large",
        ),
        (
            "declared length past the limit",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nContent-Length: 70000\r\n",
                b"{}",
            ),
            413,
            "payload_too_large",
        ),
        (
            "Expect 100-continue past the limit",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n",
                b"",
            ),
            413,
            "payload_too_large",
        ),
        (
            "body shorter than declared, then silence",
            req(
                "POST",
                login,
                "Content-Type: application/json\r\nContent-Length: 100\r\n",
                b"{\"account\"",
            ),
            408,
            "request_timeout",
        ),
        (
            "JSON nesting bomb in a login",
            json_post(login, "", &nest(20_000)),
            400,
            "invalid_json",
        ),
        (
            "JSON nesting bomb in a PATCH",
            json_patch(audio, a, &nest(20_000)),
            400,
            "invalid_json",
        ),
        (
            "object nesting bomb",
            json_patch(
                audio,
                a,
                format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000)).as_bytes(),
            ),
            400,
            "invalid_json",
        ),
        (
            "number beyond f64",
            json_patch(audio, a, b"{\"speakerBassLevel\": 1e400}"),
            400,
            "invalid_json",
        ),
        (
            "number beyond u64",
            json_patch(audio, a, b"{\"speakerBassLevel\": 18446744073709551616}"),
            400,
            "invalid_type",
        ),
        (
            "number beyond i64 negative",
            json_patch(audio, a, b"{\"speakerBassLevel\": -9223372036854775809}"),
            400,
            "invalid_type",
        ),
        (
            "huge in-range-looking integer",
            json_patch(audio, a, b"{\"speakerBassLevel\": 4294967296}"),
            400,
            "out_of_range",
        ),
        (
            "null for a boolean",
            json_patch(audio, a, b"{\"microphoneMute\": null}"),
            400,
            "invalid_type",
        ),
        (
            "array for a level",
            json_patch(audio, a, b"{\"echoReductionLevel\": [\"High\"]}"),
            400,
            "invalid_type",
        ),
        (
            "account as an array",
            json_post(login, "", b"{\"account\": [\"admin\"], \"password\": \"x\"}"),
            400,
            "invalid_type",
        ),
        (
            "password as an object",
            json_post(login, "", b"{\"account\": \"admin\", \"password\": {\"$ne\": 1}}"),
            400,
            "invalid_type",
        ),
        (
            "byte-order mark before JSON",
            json_post(login, "", b"\xef\xbb\xbf{\"account\": \"admin\", \"password\": \"x\"}"),
            400,
            "invalid_json",
        ),
        (
            "bad UTF-8 inside a JSON string",
            json_post(login, "", b"{\"account\": \"adm\xffin\", \"password\": \"x\"}"),
            400,
            "invalid_json",
        ),
        (
            "form body declared as JSON",
            json_post(login, "", b"account=admin&password=x"),
            400,
            "invalid_json",
        ),
        (
            "UTF-16 body",
            json_post(
                login,
                "",
                &"{\"account\":\"admin\"}"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<u8>>(),
            ),
            400,
            "invalid_json",
        ),
        (
            "trailing garbage after JSON",
            json_post(login, "", b"{\"account\": \"admin\", \"password\": \"x\"} trailing"),
            400,
            "invalid_json",
        ),
        (
            "body declared as text",
            req(
                "POST",
                login,
                "Content-Type: text/plain\r\nContent-Length: 2\r\n",
                b"{}",
            ),
            415,
            "unsupported_media_type",
        ),
        // Paths.
        (
            "dot segments",
            req("GET", "/api/v1/../v1/audio", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "encoded dot segments",
            req("GET", "/api/v1/%2e%2e/v1/audio", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "encoded slash",
            req("GET", "/api/v1%2Faudio", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "encoded letter",
            req("GET", "/api/v1/aud%69o", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "encoded NUL",
            req("GET", "/api/v1/audio%00", a, b""),
            400,
            "non_canonical_path",
        ),
        ("double slash", req("GET", "//api/v1/audio", a, b""), 404, "not_found"),
        (
            "path parameter",
            req("GET", "/api/v1/audio;x=1", a, b""),
            400,
            "non_canonical_path",
        ),
        (
            "traversal outside the API",
            req("GET", "/api/../../etc/passwd", "", b""),
            400,
            "non_canonical_path",
        ),
        (
            "lower-case method",
            req("get", "/api/v1/audio", a, b""),
            405,
            "method_not_allowed",
        ),
        (
            "TRACE",
            req("TRACE", "/api/v1/audio", a, b""),
            405,
            "method_not_allowed",
        ),
        // Headers that reach the API.
        (
            "duplicate client id",
            req("GET", audio, &format!("{a}Nureva-Client-Id: second\r\n"), b""),
            400,
            "invalid_client_id",
        ),
        (
            "bad UTF-8 in the client id",
            b"GET /api/v1/audio HTTP/1.1\r\nHost: x\r\nNureva-Client-Id: \xff\xfe\r\nNureva-Client-Version: 1\r\n\r\n"
                .to_vec(),
            400,
            "invalid_client_id",
        ),
        (
            "duplicate Authorization",
            req("GET", audio, &format!("{a}{a}"), b""),
            401,
            "invalid_authorization",
        ),
        (
            "10 KiB credential",
            req(
                "GET",
                audio,
                &format!("Authorization: Nureva {}\r\n", "A".repeat(10 * 1024)),
                b"",
            ),
            401,
            "invalid_auth_parameters",
        ),
        (
            "well-formed but unknown credential",
            req(
                "GET",
                audio,
                &format!("Authorization: Nureva {}\r\n", "Q".repeat(64)),
                b"",
            ),
            401,
            "invalid_auth_parameters",
        ),
        (
            "control character in the credential",
            req("GET", audio, "Authorization: Nureva abc\tdef\r\n", b""),
            401,
            "invalid_auth_parameters",
        ),
        (
            "Basic scheme",
            req("GET", audio, "Authorization: Basic YWRtaW46eA==\r\n", b""),
            401,
            "unsupported_auth_scheme",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_json_errors_and_change_nothing() {
    let d = Device::start_with("[limits]\nbody_timeout = \"1s\"\nrequests_per_minute = 0\n").await;
    let token = d.admin_token().await;
    let state_file = d.dir.path().join("state/state.json");
    let before = std::fs::read(&state_file).unwrap();
    let cases = cases(&token);
    assert!(cases.len() >= 40, "{}", cases.len());
    let mut failures = Vec::new();
    for (name, bytes, status, code) in &cases {
        let got = raw_exchange(d.addr, &d.cert_path(), bytes).await;
        let ok = got.as_ref().is_some_and(|(s, body)| {
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            *s == *status && v["errors"][0]["code"] == *code && v["errors"][0]["message"].is_string()
        });
        if !ok {
            failures.push(format!("{name}: expected {status} {code}, got {got:?}"));
        }
        // The device is still serving.
        let alive = d.req(Method::GET, "/api/v1").send().await.map(|r| r.status());
        assert_eq!(alive.ok(), Some(StatusCode::OK), "after {name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        std::fs::read(&state_file).unwrap(),
        before,
        "the stored state is unchanged"
    );
    assert_eq!(d.get_status("/api/v1/audio", &token).await, StatusCode::OK);
}
