//! The client headers every `/api/` request carries (SPEC §2): `Nureva-Client-Id`
//! and `Nureva-Client-Version`, 1–500 characters, sent once, no control characters.

use http::{HeaderMap, StatusCode};

use crate::api::heads::{Heads, Seen};
use crate::error::{ApiError, ErrorEntry};

/// Most characters in a client header (the vendor's documented limit).
pub(crate) const CLIENT_HEADER_MAX_CHARS: usize = 500;

/// The calling integration, from `Nureva-Client-Id` / `Nureva-Client-Version`.
/// It borrows the request's header bytes (every request has two): what outlives the
/// request copies the text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client<'a> {
    /// `Nureva-Client-Id`
    pub id: ClientText<'a>,
    /// `Nureva-Client-Version`
    pub version: ClientText<'a>,
}

/// A client header's checked text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientText<'a>(&'a str);

impl std::ops::Deref for ClientText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for ClientText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// The rules for one client header, and its error codes.
struct ClientHeaderRule {
    label: &'static str,
    missing: &'static str,
    empty: &'static str,
    too_long: &'static str,
    invalid: &'static str,
}

/// The two client headers' rules (id, version).
const CLIENT_HEADER_RULES: [ClientHeaderRule; 2] = [
    ClientHeaderRule {
        label: "Nureva-Client-Id",
        missing: "missing_client_id",
        empty: "empty_client_id",
        too_long: "client_id_too_long",
        invalid: "invalid_client_id",
    },
    ClientHeaderRule {
        label: "Nureva-Client-Version",
        missing: "missing_client_version",
        empty: "empty_client_version",
        too_long: "client_version_too_long",
        invalid: "invalid_client_version",
    },
];

fn check_client_header<'a>(seen: Seen<'a>, rule: &ClientHeaderRule) -> Result<ClientText<'a>, ErrorEntry> {
    let entry = |code, message: String| ErrorEntry { code, message };
    let Some(value) = seen.first() else {
        return Err(entry(rule.missing, format!("{} header is missing", rule.label)));
    };
    if seen.is_repeated() {
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
    Ok(ClientText(text))
}

/// Check both client headers; one error entry per bad header.
#[cfg(test)]
pub(crate) fn client_headers(headers: &HeaderMap) -> Result<Client<'_>, ApiError> {
    client_from(&Heads::scan(headers))
}

/// Check both client headers, as found by [`Heads::scan`]; one error entry per bad
/// header.
pub(crate) fn client_from<'a>(heads: &Heads<'a>) -> Result<Client<'a>, ApiError> {
    let [id_rule, version_rule] = &CLIENT_HEADER_RULES;
    match (
        check_client_header(heads.client_id, id_rule),
        check_client_header(heads.client_version, version_rule),
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
/// `http_headers` in its scrape config, so it cannot send them. A scraper that
/// sends either header is held to [`client_from`]; one that sends neither is named
/// after its `User-Agent` (`Prometheus/2.42.0` → id `Prometheus`, version `2.42.0`),
/// or `metrics-scraper` / `unknown`.
pub(crate) fn scraper_client<'a>(headers: &'a HeaderMap, heads: &Heads<'a>) -> Result<Client<'a>, ApiError> {
    if heads.client_id.first().is_some() || heads.client_version.first().is_some() {
        return client_from(heads);
    }
    let agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split_whitespace().next())
        .filter(|ua| ua.chars().count() <= CLIENT_HEADER_MAX_CHARS);
    let named = agent
        .and_then(|ua| ua.split_once('/'))
        .filter(|(id, version)| !id.is_empty() && !version.is_empty())
        .map(|(id, version)| (ClientText(id), ClientText(version)));
    let (id, version) = named.unwrap_or((ClientText("metrics-scraper"), ClientText("unknown")));
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

    /// The scraper's (id, version) for these headers, or the error's code.
    fn scraper(pairs: &[(&'static str, &'static str)]) -> Result<(String, String), &'static str> {
        let h = with(pairs);
        scraper_client(&h, &Heads::scan(&h))
            .map(|c| (c.id.to_string(), c.version.to_string()))
            .map_err(|e| e.code())
    }

    fn named(id: &str, version: &str) -> Result<(String, String), &'static str> {
        Ok((id.to_string(), version.to_string()))
    }

    #[test]
    fn a_scraper_without_client_headers_is_named_after_its_user_agent() {
        assert_eq!(
            scraper(&[("user-agent", "Prometheus/2.42.0")]),
            named("Prometheus", "2.42.0")
        );
        assert_eq!(
            scraper(&[("user-agent", "curl/7.88.1 (x86_64)")]),
            named("curl", "7.88.1")
        );
        for pairs in [&[][..], &[("user-agent", "no-version")], &[("user-agent", "/1")]] {
            assert_eq!(scraper(pairs), named("metrics-scraper", "unknown"));
        }
    }

    #[test]
    fn a_scraper_sending_one_client_header_is_held_to_the_rules() {
        let both = [("nureva-client-id", "nms"), ("nureva-client-version", "3")];
        assert_eq!(scraper(&both), named("nms", "3"));
        let e = scraper(&[("nureva-client-id", "nms"), ("user-agent", "Prometheus/2")]).unwrap_err();
        assert_eq!(e, "missing_client_version");
    }
}
