//! Builds the capabilities document (`GET /api/v1`, OpenAPI 3.1) from the route table.
//!
//! Every operation carries `x-nureva.minimumRoleRequired` taken from the same
//! [`crate::api::routes::Route::min_role`] the pipeline enforces, the two client headers
//! as required parameters, its security requirement, request schema and the error
//! responses the pipeline can produce for it.

mod operations;
mod schemas;

use serde_json::{Map, Value, json};

use crate::api::routes::{Op, ROUTES, Route};
use crate::auth::accounts::min_role_name;
use crate::config::RouteConfig;
use operations::{Facts, Success, facts};

/// The capabilities document: the built-in routes and the configured ones.
pub(crate) fn document(device_name: &str, forwarded: &[RouteConfig]) -> Value {
    let mut paths = Map::new();
    // A route that takes built-in endpoints over is documented instead of them.
    let taken_over = |path: &str| forwarded.iter().any(|r| crate::util::path_is_under(path, &r.prefix));
    for route in ROUTES.iter().filter(|r| !taken_over(r.path)) {
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(ops) = entry.as_object_mut() {
            ops.insert(route.method.as_str().to_ascii_lowercase(), operation(route));
        }
    }
    for route in forwarded {
        let ops: Map<String, Value> = route
            .methods
            .iter()
            .map(|m| (m.as_str().to_ascii_lowercase(), forwarded_operation(route, m)))
            .collect();
        paths.insert(route.prefix.clone(), Value::Object(ops));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roomgate device API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Local API of {device_name}. Every request carries Nureva-Client-Id and \
                 Nureva-Client-Version. Operations above role `none` need \
                 `Authorization: Nureva <authParameters>` (or `Bearer`), obtained from \
                 POST /api/v1/auth/login or an API key. Roles include the ones below \
                 them: monitor < general < integrator < admin."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "meta"}, {"name": "auth"}, {"name": "streams"}, {"name": "audio"},
            {"name": "data"}, {"name": "room"}, {"name": "integrations"}, {"name": "network"}, {"name": "admin"}, {"name": "security"}, {"name": "forwarded"}
        ],
        "paths": paths,
        "components": components(),
    })
}

/// A configured route: forwarded, with its role; covers every path under the prefix.
fn forwarded_operation(route: &RouteConfig, method: &http::Method) -> Value {
    let id: String = format!("{}{}", method.as_str().to_ascii_lowercase(), route.prefix)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    json!({
        "operationId": id,
        "summary": format!("Forwarded to a device service; also every path under {}", route.prefix),
        "tags": ["forwarded"],
        "x-nureva": {"minimumRoleRequired": route.min_role.as_str()},
        "x-roomgate-forwarded-prefix": route.prefix,
        "parameters": [
            {"$ref": "#/components/parameters/ClientId"},
            {"$ref": "#/components/parameters/ClientVersion"}
        ],
        "security": [{"nureva": []}, {"bearer": []}],
        "responses": {
            "default": {"description": "The device service's answer, streamed through"},
            "400": {"$ref": "#/components/responses/E400"},
            "401": {"$ref": "#/components/responses/E401"},
            "403": {"$ref": "#/components/responses/E403"},
            "413": {"$ref": "#/components/responses/E413"},
            "415": {"$ref": "#/components/responses/E415"},
            "429": {"$ref": "#/components/responses/E429"},
            "502": {"$ref": "#/components/responses/E502"},
            "504": {"$ref": "#/components/responses/E504"},
        },
    })
}

fn operation(route: &Route) -> Value {
    let facts = facts(route.op);
    let mut op = Map::new();
    op.insert("operationId".into(), facts.operation_id.into());
    op.insert("summary".into(), facts.summary.into());
    op.insert("tags".into(), json!([facts.tag]));
    op.insert(
        "x-nureva".into(),
        json!({"minimumRoleRequired": min_role_name(route.min_role)}),
    );
    let mut parameters = vec![
        json!({"$ref": "#/components/parameters/ClientId"}),
        json!({"$ref": "#/components/parameters/ClientVersion"}),
    ];
    parameters.extend(path_parameters(route.path));
    parameters.extend(facts.query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
    }));
    op.insert("parameters".into(), Value::Array(parameters));
    op.insert(
        "security".into(),
        if route.min_role.is_some() {
            json!([{"nureva": []}, {"bearer": []}])
        } else {
            json!([])
        },
    );
    if let Some(schema) = facts.body {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema()}}}),
        );
    }
    op.insert("responses".into(), Value::Object(responses(route, &facts)));
    Value::Object(op)
}

/// The `{name}` segments of a path pattern as OpenAPI path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = match name {
                "account" => json!({"type": "string", "enum": ["monitor", "general", "integrator", "admin"]}),
                "profileId" => json!({"type": "string", "format": "uuid",
                    "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}),
                _ => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn responses(route: &Route, facts: &Facts) -> Map<String, Value> {
    let mut r = Map::new();
    match facts.success {
        Success::Json(status, schema) => {
            r.insert(
                status.to_string(),
                json!({"description": "Success", "content": {"application/json": {"schema": schema()}}}),
            );
        }
        Success::EventStream(event) => {
            r.insert(
                "200".into(),
                json!({"description": "An event stream; the schema describes each event", "content": {"text/event-stream": {"schema": event()}}}),
            );
        }
        Success::NoContent => {
            r.insert("204".into(), json!({"description": "Done"}));
        }
    }
    let err = |r: &mut Map<String, Value>, status: &str| {
        r.insert(
            status.into(),
            json!({"$ref": format!("#/components/responses/E{status}")}),
        );
    };
    err(&mut r, "400");
    if route.min_role.is_some() || route.op == Op::Login {
        err(&mut r, "401");
    }
    if route
        .min_role
        .is_some_and(|role| role > crate::auth::accounts::Role::Monitor)
    {
        err(&mut r, "403");
    }
    if route.path.contains('{') {
        err(&mut r, "404");
    }
    if route.needs != crate::api::routes::Needs::NONE
        || matches!(
            route.op,
            Op::UpdateAccount | Op::CreateKey | Op::Logout | Op::CreateProfile | Op::RenameProfile
        )
    {
        err(&mut r, "409");
    }
    if facts.body.is_some() {
        err(&mut r, "413");
        err(&mut r, "415");
    }
    err(&mut r, "429");
    if matches!(facts.success, Success::EventStream(_)) || matches!(route.op, Op::Login | Op::UpdateAccount) {
        err(&mut r, "503");
    }
    r
}

fn components() -> Value {
    let header_param = |name: &str, what: &str| {
        json!({
            "name": name,
            "in": "header",
            "required": true,
            "description": format!("{what}; 1 to 500 characters, no control characters."),
            "schema": {"type": "string", "minLength": 1, "maxLength": 500},
        })
    };
    let error_response = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "securitySchemes": {
            "nureva": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Nureva <authParameters>` from POST /api/v1/auth/login, or `Nureva rgk_…` with an API key.",
            },
            "bearer": {"type": "http", "scheme": "bearer", "description": "The same credential under the Bearer scheme."},
        },
        "parameters": {
            "ClientId": header_param("Nureva-Client-Id", "Name of the integration"),
            "ClientVersion": header_param("Nureva-Client-Version", "Version of the integration"),
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["errors"],
                "properties": {"errors": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                        "message": {"type": "string"},
                    },
                }}},
            },
        },
        "responses": {
            "E400": error_response("Bad request: client headers, account name or body schema"),
            "E401": error_response("No, invalid, expired or revoked credential, or failed login (with WWW-Authenticate)"),
            "E403": error_response("The credential's role is too low, or an admin password change is required first"),
            "E404": error_response("No such account, session, key or room profile"),
            "E409": error_response("State conflict: admin cannot be disabled, key or profile name taken, too many keys or profiles, legacy credential not revocable; or the device type, bars or firmware do not support the operation"),
            "E413": error_response("Request body too large"),
            "E415": error_response("Request body not sent as application/json"),
            "E429": error_response("Too many requests (with Retry-After)"),
            "E503": error_response("Busy (with Retry-After)"),
            "E502": error_response("The device service behind this path refused or failed"),
            "E504": error_response("The device service behind this path did not answer in time"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_appears_with_its_role() {
        let doc = document("Test Room", &[]);
        assert_eq!(doc["openapi"], "3.1.0");
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            assert_eq!(op["operationId"], facts(route.op).operation_id);
            assert_eq!(
                op["x-nureva"]["minimumRoleRequired"],
                min_role_name(route.min_role),
                "{} {}",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn every_operation_is_documented_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(!facts(a.op).summary.is_empty());
            assert_eq!(facts(a.op).body.is_some(), a.op.takes_body(), "{:?}", a.op);
            for b in &ROUTES[i + 1..] {
                assert_ne!(facts(a.op).operation_id, facts(b.op).operation_id);
            }
        }
    }
}
