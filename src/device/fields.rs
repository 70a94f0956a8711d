//! Small helpers the reference device's PATCH parsers share: the request body as an
//! object, one typed field read with its path in the message, and error entries
//! that never echo more than a short, printable piece of what the client sent.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorEntry};

/// An error entry.
pub(crate) fn entry(code: &'static str, message: String) -> ErrorEntry {
    ErrorEntry { code, message }
}

pub(crate) use crate::util::shown;

/// The body of a PATCH as an object naming at least one field of `what`.
pub(crate) fn patch_object<'a>(body: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("request body must be a JSON object of {what} fields"),
        ));
    };
    if obj.is_empty() {
        return Err(ApiError::bad_request(
            "empty_patch",
            format!("the request body names no {what} field"),
        ));
    }
    Ok(obj)
}

/// `unknown_field` for a name that `what` does not have.
pub(crate) fn unknown(name: &str, what: &str) -> ErrorEntry {
    entry(
        "unknown_field",
        format!("Unsupported Attributes: {} is not a {what} field", shown(name)),
    )
}

/// `read_only_field` for a field the device reports but does not take.
pub(crate) fn read_only(name: &str) -> ErrorEntry {
    entry("read_only_field", format!("`{name}` is read-only"))
}

/// Read field `name` as a `T`; a mistake names the path inside the field and what
/// was expected, never the value sent.
pub(crate) fn typed<T: DeserializeOwned>(name: &str, value: &Value) -> Result<T, ErrorEntry> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.inner().to_string();
        let path = match e.path().to_string() {
            p if p == "." => name.to_string(),
            p => format!("{name}.{p}"),
        };
        let code = if inner.starts_with("unknown field") {
            "unknown_field"
        } else if inner.starts_with("missing field") {
            "missing_field"
        } else if inner.starts_with("unknown variant") {
            "invalid_value"
        } else {
            "invalid_type"
        };
        // serde's message names what was expected; the value is not echoed.
        let what = match inner.split_once(", expected") {
            Some((_, expected)) => format!("expected {}", expected.trim()),
            None if code == "missing_field" => inner.split(" at line").next().unwrap_or("").to_string(),
            None => "a value of another type".to_string(),
        };
        entry(code, format!("`{path}`: {what}"))
    })
}

/// `Ok(value)` when there are no errors, else a 400 listing them all.
pub(crate) fn all_or_nothing<T>(value: T, errors: Vec<ErrorEntry>) -> Result<T, ApiError> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::many(http::StatusCode::BAD_REQUEST, errors))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn typed_errors_name_the_path_and_never_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct P {
            x: i32,
        }
        let e = typed::<P>("point", &json!({"x": "secret"})).unwrap_err();
        assert_eq!(e.code, "invalid_type");
        assert!(
            e.message.contains("point.x") && !e.message.contains("secret"),
            "{}",
            e.message
        );
        assert_eq!(typed::<P>("point", &json!({})).unwrap_err().code, "missing_field");
        assert_eq!(
            typed::<P>("point", &json!({"x": 1, "y": 2})).unwrap_err().code,
            "unknown_field"
        );
        assert_eq!(typed::<i32>("n", &json!(1)).unwrap(), 1);
        assert!(shown(&"x".repeat(100)).ends_with('…'));
    }
}
