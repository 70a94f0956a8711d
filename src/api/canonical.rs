//! Canonical request paths: every `/api` path is refused (400 `non_canonical_path`)
//! unless it is written the one way that RFC 3986 normalisation (§6.2.2) would leave
//! it, before any route — built-in or `[[route]]` — is matched.
//!
//! Why refuse rather than normalise: a `[[route]]` is forwarded to a device service
//! whose own path handling is unknown. Whatever roomgate decided a path means, an
//! upstream that decodes `%2F` or `%61`, removes dot segments, collapses `//` or drops
//! `;` parameters would see another path than the one whose role roomgate checked
//! (`/api/v1/svc/x/../admin` passes as `/api/v1/svc`, arrives as `/api/v1/svc/admin`).
//! A path with exactly one reading leaves no such gap, and the vendor's clients never
//! send anything else. The same list is Spring Security's `StrictHttpFirewall`.
//!
//! Refused: a byte outside RFC 3986 `pchar` and `/` (raw non-ASCII, spaces, `\`…);
//! `;` (path parameters); `%` not followed by two hex digits; a percent-encoded
//! unreserved character (`%61`, `%2e`: it must be written as itself), `/`, `\`, `%`
//! (double encoding), `;` or control character; `.` and `..` segments; empty segments
//! (`//`) except one trailing slash, which built-in routing already accepts.

use crate::error::ApiError;

/// `Ok` for a canonical path; 400 `non_canonical_path` naming the problem otherwise.
pub(super) fn check_canonical(path: &str) -> Result<(), ApiError> {
    match problem(path) {
        None => Ok(()),
        Some(why) => Err(ApiError::bad_request(
            "non_canonical_path",
            format!("the request path must be in canonical form: {why}"),
        )),
    }
}

/// What makes `path` non-canonical, if anything.
fn problem(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    // A `.` or empty segment needs a `/` followed by `.` or `/`: noted in this pass,
    // so that the segment check runs only for paths that may have one.
    let mut segment_suspect = !path.starts_with('/') || path.len() == 1;
    let mut i = 0;
    while i < bytes.len() {
        if i > 0 && bytes[i - 1] == b'/' && matches!(bytes[i], b'/' | b'.') {
            segment_suspect = true;
        }
        match bytes[i] {
            b';' => return Some("`;` path parameters are not accepted"),
            b'%' => {
                let Some(decoded) = hex_pair(bytes.get(i + 1..i + 3)) else {
                    return Some("`%` must start a two-digit hex escape");
                };
                if let Some(why) = encoded_problem(decoded) {
                    return Some(why);
                }
                i += 3;
                continue;
            }
            b if b == b'/' || is_pchar(b) => {}
            _ => return Some("a character must be percent-encoded"),
        }
        i += 1;
    }
    if segment_suspect { segment_problem(path) } else { None }
}

/// The byte a `%XX` triplet stands for; `None` when it is not one.
fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let text = std::str::from_utf8(pair?).ok()?;
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(text, 16).ok()
}

/// Why a percent-encoded byte must not be encoded (or not be there at all).
fn encoded_problem(decoded: u8) -> Option<&'static str> {
    match decoded {
        // Upstreams that decode before routing would see another path.
        b'/' | b'\\' => Some("an encoded `/` or `\\` is not accepted"),
        b'.' => Some("an encoded `.` is not accepted"),
        b'%' => Some("an encoded `%` (double encoding) is not accepted"),
        b';' => Some("an encoded `;` is not accepted"),
        b if is_unreserved(b) => Some("an unreserved character is percent-encoded"),
        b if b.is_ascii_control() => Some("an encoded control character is not accepted"),
        _ => None,
    }
}

/// `.`, `..` and empty segments; one trailing slash is allowed.
fn segment_problem(path: &str) -> Option<&'static str> {
    let inner = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut segments = inner.split('/');
    if segments.next() != Some("") {
        return Some("the path must start with `/`");
    }
    for segment in segments {
        match segment {
            "" => return Some("empty path segments (`//`) are not accepted"),
            "." | ".." => return Some("`.` and `..` segments are not accepted"),
            _ => {}
        }
    }
    None
}

/// RFC 3986 `unreserved`.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` without `%` (checked as a triplet) and without `;` (refused).
fn is_pchar(b: u8) -> bool {
    PCHAR[usize::from(b)]
}

/// [`is_pchar`] for every byte, worked out at compile time: every request's path
/// is checked byte by byte.
const PCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = is_unreserved(c)
            || matches!(
                c,
                b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pchar_table_is_rfc_3986() {
        for b in 0..=255u8 {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            let expected = unreserved || b"!$&'()*+,=:@".contains(&b);
            assert_eq!(is_pchar(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn the_segment_check_is_skipped_only_where_it_finds_nothing() {
        // Every path of up to four characters from these: wherever `problem` skips
        // `segment_problem`, the latter would have found nothing.
        let alphabet = ['/', '.', 'a'];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            paths.extend(longer);
        }
        for path in &paths {
            let full = path.is_empty() || problem(path).is_some() || segment_problem(path).is_none();
            assert!(full, "{path:?}: {:?}", segment_problem(path));
        }
    }

    #[test]
    fn canonical_paths_pass() {
        for ok in [
            "/api",
            "/api/v1",
            "/api/v1/audio/",
            "/api/v1/svc/admin/users",
            "/api/v1/room/profiles/0f8c-4e1a",
            "/api/v1/camera/preset:3@home",
            "/api/v1/name%20with%20space",
            "/api/v1/caf%C3%A9",
            "/api/v1/caf%c3%a9",
            "/api/v1/a.b/..c/.d./~e",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn every_other_spelling_is_refused() {
        for bad in [
            "/api/v1/svc/x/../admin",
            "/api/v1/svc/./admin",
            "/api/v1/svc/..",
            "/api/v1/svc/.",
            "/api/v1/svc//admin",
            "//api/v1/svc",
            "/api/v1/svc/admin//",
            "/api/v1/svc/admin;x",
            "/api/v1/svc;/admin",
            "/api/v1/svc/%61dmin",
            "/api/v1/svc/adm%69n",
            "/api/v1/svc/%2e%2e/admin",
            "/api/v1/svc/%2E/admin",
            "/api/v1/svc%2Fadmin",
            "/api/v1/svc/x%2f..%2fadmin",
            "/api/v1/svc/x%5C..%5Cadmin",
            "/api/v1/svc/%252e%252e/admin",
            "/api/v1/svc/admin%3Bx",
            "/api/v1/audio%00",
            "/api/v1/svc/%zz",
            "/api/v1/svc/%2",
            "/api/v1/svc/%",
            "/api/v1/svc/x\\..\\admin",
            "/api/v1/äudio",
            "/api/v1/a b",
            "api/v1",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
        let e = check_canonical("/api/v1/svc/./admin").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (400, "non_canonical_path"));
    }
}
