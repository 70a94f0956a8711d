//! The capabilities document endpoint.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::http_util::{Body, json_bytes};

/// `GET /api/v1`: the OpenAPI 3.1 document, built once at start-up.
pub fn capabilities(ctx: &Ctx) -> Response<Body> {
    json_bytes(StatusCode::OK, ctx.app.capabilities())
}

/// Schema of the capabilities response (an OpenAPI document).
pub fn capabilities_schema() -> Value {
    json!({
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {
            "openapi": {"type": "string"},
            "info": {"type": "object"},
            "paths": {"type": "object"},
        },
    })
}
