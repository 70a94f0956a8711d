//! The capabilities document endpoint.

use http::{Response, StatusCode};

use crate::api::Ctx;
use crate::http_util::{Body, json_bytes};

/// `GET /api/v1`: the OpenAPI 3.1 document, built once at start-up.
pub(crate) fn capabilities(ctx: &Ctx<'_>) -> Response<Body> {
    json_bytes(StatusCode::OK, ctx.app.capabilities())
}
