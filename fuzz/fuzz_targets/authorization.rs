//! The Authorization header and the credential parsers: arbitrary header bytes go
//! through `Nureva`/`Bearer` scheme parsing, session/API-key verification against a
//! state holding real credentials, and the legacy `base64(account:password)` parser.
//! Nothing may panic, and nothing but the real credentials may verify.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use roomgate::testing::{CredentialIndex, Signer, parse_legacy};
use roomgate::testing::{SessionRecord, State};

struct Fixture {
    state: State,
    index: CredentialIndex,
    tokens: Vec<String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let hasher = roomgate::testing::Hasher::new(
        roomgate::testing::HashParams { memory_kib: 64, iterations: 1, parallelism: 1 },
        1,
        0,
    )
    .unwrap();
    let mut state = roomgate::testing::factory_state("ABC-DEF-GHJ", &Default::default(), &hasher, 1).unwrap();
    let mut tokens = Vec::new();
    let signer = Signer::for_state(&state).unwrap();
    let session = signer.mint_session().unwrap();
    state.sessions.insert(
        session.id.clone(),
        SessionRecord {
            account: roomgate::testing::Role::Admin,
            verifier: session.verifier.clone(),
            created_at: 1,
            last_used_at: None,
            client_id: "fuzz".into(),
            client_version: "1".into(),
            remote_addr: "127.0.0.1".into(),
            via_enrollment_code: false,
        },
    );
    tokens.push(session.token.to_string());
    let (key, _) = roomgate::testing::create_key(&mut state, "fuzz", roomgate::testing::Role::General, 10, 1).unwrap().value;
    tokens.push(key.token.to_string());
    let index = CredentialIndex::build(&state, &CredentialIndex::empty());
    Fixture { state, index, tokens }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let Ok(value) = http::HeaderValue::from_bytes(data) else { return };
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, value);
    if let Ok(token) = roomgate::testing::presented_credential(&headers) {
        if f.index.verify(token, &f.state, "fuzz", 2).is_ok() {
            assert!(f.tokens.iter().any(|t| t == token), "only minted credentials verify");
        }
        let _ = parse_legacy(token);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if f.index.verify(text, &f.state, "fuzz", 2).is_ok() {
            assert!(f.tokens.iter().any(|t| t == text));
        }
        if let Some(cred) = parse_legacy(text) {
            assert!(roomgate::testing::Role::parse(cred.account.as_str()).is_some());
        }
    }
});
