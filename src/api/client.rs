//! The client headers every `/api/` request carries (SPEC §2): `Nureva-Client-Id`
//! and `Nureva-Client-Version`, 1–500 characters, sent once, no control characters.

use http::{HeaderMap, HeaderName, StatusCode};

use crate::error::{ApiError, ErrorEntry};

/// Most characters in a client header (the vendor's documented limit).
pub(crate) const CLIENT_HEADER_MAX_CHARS: usize = 500;

/// The calling integration, from `Nureva-Client-Id` / `Nureva-Client-Version`.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// `Nureva-Client-Id`
    pub id: String,
    /// `Nureva-Client-Version`
    pub version: String,
}

/// The rules for one client header, and its error codes.
struct ClientHeaderRule {
    name: HeaderName,
    label: &'static str,
    missing: &'static str,
    empty: &'static str,
    too_long: &'static str,
    invalid: &'static str,
}

fn client_header_rules() -> [ClientHeaderRule; 2] {
    [
        ClientHeaderRule {
            name: HeaderName::from_static("nureva-client-id"),
            label: "Nureva-Client-Id",
            missing: "missing_client_id",
            empty: "empty_client_id",
            too_long: "client_id_too_long",
            invalid: "invalid_client_id",
        },
        ClientHeaderRule {
            name: HeaderName::from_static("nureva-client-version"),
            label: "Nureva-Client-Version",
            missing: "missing_client_version",
            empty: "empty_client_version",
            too_long: "client_version_too_long",
            invalid: "invalid_client_version",
        },
    ]
}

fn check_client_header(headers: &HeaderMap, rule: &ClientHeaderRule) -> Result<String, ErrorEntry> {
    let entry = |code, message: String| ErrorEntry { code, message };
    let mut values = headers.get_all(&rule.name).iter();
    let Some(value) = values.next() else {
        return Err(entry(rule.missing, format!("{} header is missing", rule.label)));
    };
    if values.next().is_some() {
        return Err(entry(rule.invalid, format!("{} header must be sent once", rule.label)));
    }
    let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
        return Err(entry(rule.invalid, format!("{} header must be UTF-8 text", rule.label)));
    };
    let chars = text.chars().count();
    if chars == 0 || text.trim().is_empty() {
        return Err(entry(rule.empty, format!("{} header is empty", rule.label)));
    }
    if chars > CLIENT_HEADER_MAX_CHARS {
        return Err(entry(
            rule.too_long,
            format!(
                "{} header is longer than {CLIENT_HEADER_MAX_CHARS} characters",
                rule.label
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(entry(
            rule.invalid,
            format!("{} header must not contain control characters", rule.label),
        ));
    }
    Ok(text.to_string())
}

/// Check both client headers; one error entry per bad header.
pub(crate) fn client_headers(headers: &HeaderMap) -> Result<Client, ApiError> {
    let [id_rule, version_rule] = client_header_rules();
    match (
        check_client_header(headers, &id_rule),
        check_client_header(headers, &version_rule),
    ) {
        (Ok(id), Ok(version)) => Ok(Client { id, version }),
        (id, version) => {
            let errors = [id.err(), version.err()].into_iter().flatten().collect();
            Err(ApiError::many(StatusCode::BAD_REQUEST, errors))
        }
    }
}
