//! Small helpers every layer uses: the clocks in the API's units, RFC 3339 times,
//! hex encoding and path prefixes. A leaf: it imports nothing from the crate.

/// Seconds since the Unix epoch.
pub(crate) type UnixTime = u64;

/// The current time as `UnixTime` (seconds since the Unix epoch).
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The current time as `UnixTime`, read from the kernel's coarse clock: the time
/// of the last timer tick (a few milliseconds behind, never ahead), read without the
/// time counter. For the request path, which needs seconds (credential expiry, last
/// use) on every request; anything stored at a write uses [`now`].
pub(crate) fn now_coarse() -> UnixTime {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    u64::try_from(t.tv_sec).unwrap_or(0)
}

/// Milliseconds on the kernel's coarse monotonic clock (since boot, the timeline
/// of `Instant`, at timer-tick resolution): deadlines of seconds, checked on every
/// read and every response, without reading the time counter.
pub(crate) fn coarse_millis() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let millis = u64::try_from(t.tv_nsec).unwrap_or(0) / 1_000_000;
    secs.saturating_mul(1000).saturating_add(millis)
}

/// RFC 3339 (UTC, seconds) form of a [`UnixTime`], as the API reports times.
pub(crate) fn rfc3339(t: UnixTime) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t)).to_string()
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Whether `path` is `prefix` or lies below it, segment-wise (`/a/b` is under `/a`;
/// `/ab` is not).
pub(crate) fn path_is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Member `name` of a JSON object given as text (compiled-in schemas); `Null` when
/// absent (a unit test checks that every name is there).
pub(crate) fn named_json(doc: &str, name: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(doc)
        .ok()
        .and_then(|mut m| m.remove(name))
        .unwrap_or(serde_json::Value::Null)
}

/// A client-supplied name as shown in a message: printable characters only, at
/// most 64 of them, so a hostile key can neither bloat a reply nor break a line.
pub(crate) fn shown(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if name.chars().count() > 64 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(path_is_under("/api/v1/svc", "/api/v1/svc"));
        assert!(path_is_under("/api/v1/svc/x", "/api/v1/svc"));
        assert!(!path_is_under("/api/v1/svcx", "/api/v1/svc"));
        assert!(!path_is_under("/api/v1", "/api/v1/svc"));
    }

    #[test]
    fn the_coarse_clocks_follow_the_precise_ones() {
        // Coarse clocks trail by at most a timer tick (1–10 ms), never lead.
        let precise = now();
        let coarse = now_coarse();
        assert!(coarse <= now() && coarse + 1 >= precise, "{coarse} vs {precise}");
        let a = coarse_millis();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let b = coarse_millis();
        assert!((30..1_000).contains(&(b - a)), "50 ms measured as {} ms", b - a);
    }

    #[test]
    fn hex_is_lower_case_pairs() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
