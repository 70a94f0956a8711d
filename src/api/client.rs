//! The client headers every `/api/` request carries (SPEC §2): `Nureva-Client-Id`
//! and `Nureva-Client-Version`, 1–500 characters, sent once, no control characters.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::error::{ApiError, ErrorEntry};

/// Most characters in a client header (the vendor's documented limit).
pub(crate) const CLIENT_HEADER_MAX_CHARS: usize = 500;

/// The calling integration, from `Nureva-Client-Id` / `Nureva-Client-Version`.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// `Nureva-Client-Id`
    pub id: ClientText,
    /// `Nureva-Client-Version`
    pub version: ClientText,
}

/// A client header's checked text. It shares the request's bytes rather than
/// copying them (every request has two): a `HeaderValue` that held valid UTF-8 when
/// it was checked, read as `str`.
#[derive(Debug, Clone)]
pub(crate) struct ClientText(HeaderValue);

impl ClientText {
    /// `value` when it is UTF-8 text.
    fn new(value: HeaderValue) -> Option<ClientText> {
        std::str::from_utf8(value.as_bytes())
            .is_ok()
            .then_some(ClientText(value))
    }

    /// Text from a `str` (a fallback name; anything a header may not carry is
    /// refused).
    fn from_text(text: &str) -> Option<ClientText> {
        HeaderValue::from_str(text).ok().and_then(ClientText::new)
    }
}

impl std::ops::Deref for ClientText {
    type Target = str;

    fn deref(&self) -> &str {
        // Checked in `new`; a `HeaderValue`'s bytes never change.
        std::str::from_utf8(self.0.as_bytes()).unwrap_or_default()
    }
}

impl std::fmt::Display for ClientText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
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

/// The two client headers' rules: constants, so that no request pays for building
/// (and validating) the header names.
const CLIENT_HEADER_RULES: [ClientHeaderRule; 2] = [
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
];

fn check_client_header(headers: &HeaderMap, rule: &ClientHeaderRule) -> Result<ClientText, ErrorEntry> {
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
    // Client headers are nearly always ASCII: then a character is a byte, and the
    // only control characters are the C0 set and DEL.
    let (chars, has_control) = if text.is_ascii() {
        (text.len(), text.bytes().any(|b| b < b' ' || b == 0x7f))
    } else {
        (text.chars().count(), text.chars().any(char::is_control))
    };
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
    if has_control {
        return Err(entry(
            rule.invalid,
            format!("{} header must not contain control characters", rule.label),
        ));
    }
    Ok(ClientText(value.clone()))
}

/// Check both client headers; one error entry per bad header.
pub(crate) fn client_headers(headers: &HeaderMap) -> Result<Client, ApiError> {
    let [id_rule, version_rule] = &CLIENT_HEADER_RULES;
    match (
        check_client_header(headers, id_rule),
        check_client_header(headers, version_rule),
    ) {
        (Ok(id), Ok(version)) => Ok(Client { id, version }),
        (id, version) => {
            let errors = [id.err(), version.err()].into_iter().flatten().collect();
            Err(ApiError::many(StatusCode::BAD_REQUEST, errors))
        }
    }
}

/// The client of `GET /api/v1/metrics`, the one endpoint where the client headers
/// may be left out (as a pair): Prometheus 2.42 (Debian 12's) has no
/// `http_headers` in its scrape config, so it cannot send them. A scraper that sends either header is held to [`client_headers`]; one that
/// sends neither is named after its `User-Agent` (`Prometheus/2.42.0` → id
/// `Prometheus`, version `2.42.0`), or `metrics-scraper` / `unknown`.
pub(crate) fn scraper_client(headers: &HeaderMap) -> Result<Client, ApiError> {
    let sends_any = CLIENT_HEADER_RULES.iter().any(|rule| headers.contains_key(&rule.name));
    if sends_any {
        return client_headers(headers);
    }
    let agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split_whitespace().next())
        .filter(|ua| ua.chars().count() <= CLIENT_HEADER_MAX_CHARS);
    let named = agent
        .and_then(|ua| ua.split_once('/'))
        .filter(|(id, version)| !id.is_empty() && !version.is_empty())
        .and_then(|(id, version)| Some((ClientText::from_text(id)?, ClientText::from_text(version)?)));
    let (id, version) = named.unwrap_or_else(|| {
        (
            ClientText(HeaderValue::from_static("metrics-scraper")),
            ClientText(HeaderValue::from_static("unknown")),
        )
    });
    Ok(Client { id, version })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_scraper_without_client_headers_is_named_after_its_user_agent() {
        let c = scraper_client(&with(&[("user-agent", "Prometheus/2.42.0")])).unwrap();
        assert_eq!((&*c.id, &*c.version), ("Prometheus", "2.42.0"));
        let c = scraper_client(&with(&[("user-agent", "curl/7.88.1 (x86_64)")])).unwrap();
        assert_eq!((&*c.id, &*c.version), ("curl", "7.88.1"));
        for h in [
            with(&[]),
            with(&[("user-agent", "no-version")]),
            with(&[("user-agent", "/1")]),
        ] {
            let c = scraper_client(&h).unwrap();
            assert_eq!((&*c.id, &*c.version), ("metrics-scraper", "unknown"));
        }
    }

    #[test]
    fn a_scraper_sending_one_client_header_is_held_to_the_rules() {
        let c = scraper_client(&with(&[("nureva-client-id", "nms"), ("nureva-client-version", "3")])).unwrap();
        assert_eq!((&*c.id, &*c.version), ("nms", "3"));
        let e = scraper_client(&with(&[("nureva-client-id", "nms"), ("user-agent", "Prometheus/2")])).unwrap_err();
        assert_eq!(e.code(), "missing_client_version");
    }
}
