//! Small helpers every layer uses: the clock in the API's units, RFC 3339 times and
//! hex encoding. A leaf: it imports nothing from the crate.

/// Seconds since the Unix epoch.
pub type UnixTime = u64;

/// The current time as [`UnixTime`].
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 3339 (UTC, seconds) form of a [`UnixTime`], as the API reports times.
pub fn rfc3339(t: UnixTime) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t)).to_string()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}
