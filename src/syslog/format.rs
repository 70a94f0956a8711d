//! RFC 5424 syslog messages: a leaf that turns a message's parts into one line.
//!
//! `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID param="value" …] MSG`.
//! Header fields are printable ASCII of bounded length (RFC 5424 §6.2), `-` when
//! empty; parameter values escape `"`, `\` and `]` (§6.3.3) and are cut at
//! [`MAX_VALUE_BYTES`]. Control characters (a newline in a value or a message)
//! become spaces, so that one message stays one line in every collector's file and
//! nothing can forge a second message. The message has no BOM (RFC 5424's
//! `MSG-ANY`), as rsyslog's own forwarding sends it.

/// The structured-data ID of every message: `roomgate` under the documentation
/// private enterprise number 32473 (RFC 5612), as RFC 5424 §7.2.2 asks of names
/// that are not registered with IANA.
pub(crate) const SD_ID: &str = "roomgate@32473";

/// The APP-NAME of every message.
pub(crate) const APP_NAME: &str = "roomgate";

/// A parameter value is cut at this many bytes (on a character boundary) before
/// escaping, so that a long value cannot push the message text out of a datagram.
pub(crate) const MAX_VALUE_BYTES: usize = 256;

/// The parts of one message.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    /// RFC 5424 facility code (0–23).
    pub facility: u8,
    /// RFC 5424 severity (0 emergency … 7 debug).
    pub severity: u8,
    /// RFC 3339 time with microseconds, UTC.
    pub timestamp: &'a str,
    /// The device's host name.
    pub hostname: &'a str,
    /// The process id.
    pub procid: u32,
    /// The kind of message (the audit action), or empty for none.
    pub msgid: &'a str,
    /// Structured-data parameters under [`SD_ID`], in order.
    pub params: &'a [(&'a str, &'a str)],
    /// Free text.
    pub text: &'a str,
}

/// The message as one RFC 5424 line (no framing, no newline).
pub(crate) fn format(m: &Message<'_>) -> String {
    let mut out = String::with_capacity(160 + m.text.len());
    let pri = u16::from(m.facility) * 8 + u16::from(m.severity & 7);
    out.push_str(&format!("<{pri}>1 {} ", header_field(m.timestamp, 32)));
    out.push_str(&header_field(m.hostname, 255));
    out.push(' ');
    out.push_str(APP_NAME);
    out.push_str(&format!(" {} ", m.procid));
    out.push_str(&header_field(m.msgid, 32));
    out.push(' ');
    push_structured_data(&mut out, m.params);
    if !m.text.is_empty() {
        out.push(' ');
        push_clean(&mut out, m.text);
    }
    out
}

/// A header field (HOSTNAME, MSGID, …): printable US-ASCII only (others become
/// `_`), at most `max` characters, `-` (NILVALUE) when empty.
fn header_field(s: &str, max: usize) -> String {
    let field: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if field.is_empty() { "-".into() } else { field }
}

/// `[SD-ID name="value" …]`, or `-` when there are no parameters. A parameter
/// whose name has no valid character is left out.
fn push_structured_data(out: &mut String, params: &[(&str, &str)]) {
    if params.is_empty() {
        out.push('-');
        return;
    }
    out.push('[');
    out.push_str(SD_ID);
    for (name, value) in params {
        let name = param_name(name);
        if name.is_empty() {
            continue;
        }
        out.push(' ');
        out.push_str(&name);
        out.push_str("=\"");
        push_param_value(out, truncate(value, MAX_VALUE_BYTES));
        out.push('"');
    }
    out.push(']');
}

/// An SD-NAME (§6.3.3): printable US-ASCII except `=`, space, `]` and `"`, at most
/// 32 characters. Other characters are dropped.
fn param_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(32)
        .collect()
}

/// A PARAM-VALUE: `"`, `\` and `]` escaped with a backslash (§6.3.3).
fn push_param_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Free text with control characters as spaces.
fn push_clean(out: &mut String, text: &str) {
    out.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// RFC 6587 octet counting: `LEN SP MSG`, as RFC 5425 frames TLS too.
pub(crate) fn octet_counted(msg: &str) -> Vec<u8> {
    let mut frame = format!("{} ", msg.len()).into_bytes();
    frame.extend_from_slice(msg.as_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(params: &'a [(&'a str, &'a str)], text: &'a str) -> Message<'a> {
        Message {
            facility: 10,
            severity: 4,
            timestamp: "2026-12-06T11:00:00.123456Z",
            hostname: "room-12",
            procid: 42,
            msgid: "login",
            params,
            text,
        }
    }

    #[test]
    fn a_full_message_has_every_rfc5424_part() {
        let line = format(&message(
            &[("account", "admin"), ("outcome", "failure")],
            "login failure",
        ));
        assert_eq!(
            line,
            "<84>1 2026-12-06T11:00:00.123456Z room-12 roomgate 42 login \
             [roomgate@32473 account=\"admin\" outcome=\"failure\"] login failure"
        );
    }

    #[test]
    fn param_values_escape_quote_backslash_and_bracket() {
        let line = format(&message(&[("subject", r#"a"b\c]d"#)], ""));
        assert!(line.ends_with(r#"[roomgate@32473 subject="a\"b\\c\]d"]"#), "{line}");
    }

    #[test]
    fn control_characters_cannot_start_a_second_line() {
        let line = format(&message(&[("client_id", "x\ny")], "one\r\n<13>1 forged"));
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        assert!(line.contains("client_id=\"x y\""), "{line}");
    }

    #[test]
    fn empty_fields_are_nil_and_names_are_cleaned() {
        let m = Message {
            hostname: "my host",
            msgid: "",
            ..message(&[], "")
        };
        assert_eq!(format(&m), "<84>1 2026-12-06T11:00:00.123456Z my_host roomgate 42 - -");
        let line = format(&message(&[("a b=c]\"", "v"), ("\u{e9}", "dropped")], ""));
        assert!(line.ends_with("[roomgate@32473 abc=\"v\"]"), "{line}");
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "\u{e9}".repeat(MAX_VALUE_BYTES);
        let line = format(&message(&[("subject", &long)], ""));
        let value = line.split("subject=\"").nth(1).unwrap().trim_end_matches("\"]");
        assert_eq!(value.len(), MAX_VALUE_BYTES);
        assert_eq!(truncate("a\u{e9}", 2), "a");
    }

    #[test]
    fn octet_counting_counts_bytes() {
        assert_eq!(octet_counted("<13>1 \u{e9}"), "8 <13>1 \u{e9}".as_bytes());
    }
}
