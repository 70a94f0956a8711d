//! The request headers the pipeline reads on every request (the credential, the two
//! client headers, the declared length and `Expect`), found in one pass over the
//! header map.
//!
//! Looking each one up hashes its name byte by byte (`HeaderMap`'s FNV); the
//! client headers' names are 16 and 21 bytes long. A request carries a handful of
//! headers, and comparing each name with four others is cheaper than four hashed
//! lookups. The cold paths (a credential seen for the first time, error messages)
//! still look headers up by name.

use http::{HeaderMap, HeaderName, HeaderValue, header};

/// `Nureva-Client-Id`.
pub(crate) const CLIENT_ID: HeaderName = HeaderName::from_static("nureva-client-id");
/// `Nureva-Client-Version`.
pub(crate) const CLIENT_VERSION: HeaderName = HeaderName::from_static("nureva-client-version");

/// What a request sent for one header name: its first value, and whether it sent
/// more than one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen<'a> {
    first: Option<&'a HeaderValue>,
    repeated: bool,
}

impl<'a> Seen<'a> {
    fn add(&mut self, value: &'a HeaderValue) {
        if self.first.is_none() {
            self.first = Some(value);
        } else {
            self.repeated = true;
        }
    }

    /// The first value (as `HeaderMap::get` gives it).
    pub(crate) fn first(self) -> Option<&'a HeaderValue> {
        self.first
    }

    /// The value when the header was sent exactly once.
    pub(crate) fn only(self) -> Option<&'a HeaderValue> {
        if self.repeated { None } else { self.first }
    }

    /// Whether the header was sent more than once.
    pub(crate) fn is_repeated(self) -> bool {
        self.repeated
    }
}

/// The headers of one request that the pipeline reads on every request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Heads<'a> {
    /// `Authorization`.
    pub authorization: Seen<'a>,
    /// `Nureva-Client-Id`.
    pub client_id: Seen<'a>,
    /// `Nureva-Client-Version`.
    pub client_version: Seen<'a>,
    /// `Content-Length`.
    pub content_length: Seen<'a>,
    /// `Expect`.
    pub expect: Seen<'a>,
}

impl<'a> Heads<'a> {
    /// One pass over `headers` (every value of every name, in order).
    pub(crate) fn scan(headers: &'a HeaderMap) -> Heads<'a> {
        let mut heads = Heads::default();
        for (name, value) in headers {
            // Standard names compare as one byte; custom ones by length first.
            let slot = if *name == header::AUTHORIZATION {
                &mut heads.authorization
            } else if *name == header::CONTENT_LENGTH {
                &mut heads.content_length
            } else if *name == header::EXPECT {
                &mut heads.expect
            } else if *name == CLIENT_ID {
                &mut heads.client_id
            } else if *name == CLIENT_VERSION {
                &mut heads.client_version
            } else {
                continue;
            };
            slot.add(value);
        }
        heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    /// What `HeaderMap`'s own lookups say about `name`: (first value, count).
    fn by_lookup(h: &HeaderMap, name: &HeaderName) -> (Option<String>, usize) {
        let first = h.get(name).map(|v| v.to_str().unwrap().to_string());
        (first, h.get_all(name).iter().count())
    }

    fn by_scan(seen: Seen<'_>) -> (Option<String>, usize) {
        let first = seen.first().map(|v| v.to_str().unwrap().to_string());
        let count = match (first.is_some(), seen.is_repeated()) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        (first, count.min(2))
    }

    #[test]
    fn the_scan_agrees_with_lookups_by_name() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("host", "x"), ("user-agent", "curl/7.88.1")],
            &[
                ("authorization", "Nureva a"),
                ("nureva-client-id", "id"),
                ("nureva-client-version", "1"),
                ("content-length", "2"),
                ("expect", "100-continue"),
            ],
            &[
                ("authorization", "Nureva a"),
                ("accept", "*/*"),
                ("authorization", "Nureva b"),
            ],
            &[
                ("nureva-client-id", "a"),
                ("x", "y"),
                ("nureva-client-id", "b"),
                ("nureva-client-id", "c"),
            ],
            &[("content-length", "1"), ("content-length", "1")],
            // Names that share a prefix or a length with the ones looked for.
            &[
                ("nureva-client-ids", "no"),
                ("nureva-client-i", "no"),
                ("nureva-client-versioN", "v"),
            ],
        ];
        for pairs in cases {
            let h = map(pairs);
            let heads = Heads::scan(&h);
            let found = [
                (header::AUTHORIZATION, heads.authorization),
                (header::CONTENT_LENGTH, heads.content_length),
                (header::EXPECT, heads.expect),
                (CLIENT_ID, heads.client_id),
                (CLIENT_VERSION, heads.client_version),
            ];
            for (name, seen) in found {
                let (first, count) = by_lookup(&h, &name);
                assert_eq!(by_scan(seen), (first, count.min(2)), "{name} in {pairs:?}");
                assert_eq!(
                    seen.only().map(HeaderValue::as_bytes),
                    (count == 1).then(|| h.get(&name).unwrap().as_bytes()),
                    "{name} in {pairs:?}"
                );
            }
        }
    }
}
