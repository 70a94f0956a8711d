//! The route table: method + path pattern → operation, minimum role, and the facts
//! the capabilities document needs.
//!
//! This table is the only place roles are assigned. The pipeline enforces
//! `min_role` from it and [`crate::openapi`] publishes the same `min_role` as
//! `x-nureva.minimumRoleRequired`, so what the device says and what it does cannot
//! disagree. Paths match segment by segment; `{name}` matches one non-empty segment.

use http::Method;
use serde_json::Value;

use crate::accounts::{MinRole, Role};
use crate::api::{admin, auth, device, meta, streams};

/// What a route does (dispatched in [`crate::api`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /api/v1`
    Capabilities,
    /// `POST /api/v1/auth/login`
    Login,
    /// `GET /api/v1/auth/validate`
    Validate,
    /// `POST /api/v1/auth/logout`
    Logout,
    /// `GET /api/v1/heartbeat`
    Heartbeat,
    /// `GET /api/v1/events`
    Events,
    /// `GET /api/v1/audio`
    GetAudio,
    /// `PATCH /api/v1/audio`
    PatchAudio,
    /// `PUT /api/v1/audio/volume/change`
    ChangeVolume,
    /// `GET /api/v1/audio/hardware`
    Hardware,
    /// `GET /api/v1/data`
    Data,
    /// `GET /api/v1/room/layout`
    GetRoomLayout,
    /// `PATCH /api/v1/room/layout`
    PatchRoomLayout,
    /// `GET /api/v1/auth/accounts`
    ListAccounts,
    /// `PATCH /api/v1/auth/accounts/{account}`
    UpdateAccount,
    /// `GET /api/v1/auth/sessions`
    ListSessions,
    /// `DELETE /api/v1/auth/sessions/{id}`
    RevokeSession,
    /// `POST /api/v1/auth/keys`
    CreateKey,
    /// `GET /api/v1/auth/keys`
    ListKeys,
    /// `DELETE /api/v1/auth/keys/{id}`
    RevokeKey,
    /// `GET /api/v1/security/policy`
    GetPolicy,
    /// `PATCH /api/v1/security/policy`
    PatchPolicy,
}

impl Op {
    /// Operations an admin credential obtained with the enrollment code may still
    /// use while the policy requires the admin password to be changed first.
    pub fn allowed_before_password_change(self) -> bool {
        matches!(self, Op::Validate | Op::Logout | Op::UpdateAccount)
    }
}

/// The success response of an operation, for the capabilities document.
#[derive(Debug, Clone, Copy)]
pub enum Success {
    /// A JSON document with this status and schema.
    Json(u16, fn() -> Value),
    /// A `text/event-stream`; the schema describes one event (`event`, `data`, …).
    EventStream(fn() -> Value),
    /// `204 No Content`.
    NoContent,
}

/// One route.
#[derive(Debug)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path pattern.
    pub path: &'static str,
    /// The operation.
    pub op: Op,
    /// Minimum role; `None` is public.
    pub min_role: MinRole,
    /// JSON request body schema, when the operation takes a body.
    pub body: Option<fn() -> Value>,
    /// Documented query parameters: name and description.
    pub query: &'static [(&'static str, &'static str)],
    /// Success response.
    pub success: Success,
    /// OpenAPI operationId.
    pub operation_id: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Grouping tag.
    pub tag: &'static str,
}

impl Route {
    /// Whether a configured `[[route]]` may take this endpoint over
    /// (`override_builtin = true`): the reference device's endpoints may; the ones
    /// that authenticate and administer the device never.
    pub fn overridable(&self) -> bool {
        matches!(self.tag, "audio" | "streams" | "room" | "data")
    }
}

/// Every built-in route.
pub static ROUTES: &[Route] = &[
    Route {
        method: Method::GET,
        path: "/api/v1",
        op: Op::Capabilities,
        min_role: None,
        body: None,
        query: &[],
        success: Success::Json(200, meta::capabilities_schema),
        operation_id: "getCapabilities",
        summary: "The OpenAPI 3.1 description of this API, with each operation's minimum role",
        tag: "meta",
    },
    Route {
        method: Method::POST,
        path: "/api/v1/auth/login",
        op: Op::Login,
        min_role: None,
        body: Some(auth::login_request_schema),
        query: &[],
        success: Success::Json(200, auth::login_response_schema),
        operation_id: "login",
        summary: "Log in to an account; returns the authParameters for the Authorization header",
        tag: "auth",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/auth/validate",
        op: Op::Validate,
        min_role: Some(Role::Monitor),
        body: None,
        query: &[],
        success: Success::Json(200, auth::validate_response_schema),
        operation_id: "validateCredential",
        summary: "Describe the credential presented: account, session id, expiry",
        tag: "auth",
    },
    Route {
        method: Method::POST,
        path: "/api/v1/auth/logout",
        op: Op::Logout,
        min_role: Some(Role::Monitor),
        body: None,
        query: &[],
        success: Success::NoContent,
        operation_id: "logout",
        summary: "Revoke the credential presented",
        tag: "auth",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/heartbeat",
        op: Op::Heartbeat,
        min_role: None,
        body: None,
        query: &[],
        success: Success::EventStream(streams::heartbeat_event_schema),
        operation_id: "heartbeat",
        summary: "Event stream with `event: heartbeat` / `data: .` every few seconds",
        tag: "streams",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/events",
        op: Op::Events,
        min_role: Some(Role::General),
        body: None,
        query: &[],
        success: Success::EventStream(streams::change_event_schema),
        operation_id: "events",
        summary: "Event stream of changes; the event name is the changed resource's path",
        tag: "streams",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audio",
        op: Op::GetAudio,
        min_role: Some(Role::General),
        body: None,
        query: &[],
        success: Success::Json(200, device::audio_response_schema),
        operation_id: "getAudioSettings",
        summary: "Audio settings",
        tag: "audio",
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/audio",
        op: Op::PatchAudio,
        min_role: Some(Role::General),
        body: Some(device::audio_patch_schema),
        query: &[],
        success: Success::Json(200, device::audio_response_schema),
        operation_id: "setAudioSettings",
        summary: "Change audio settings; unknown, read-only, mistyped or out-of-range fields are refused",
        tag: "audio",
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/audio/volume/change",
        op: Op::ChangeVolume,
        min_role: Some(Role::General),
        body: Some(device::volume_request_schema),
        query: &[],
        success: Success::Json(200, device::audio_response_schema),
        operation_id: "changeSpeakerVolume",
        summary: "Step the speaker volume up or down (0–100, clamped)",
        tag: "audio",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audio/hardware",
        op: Op::Hardware,
        min_role: Some(Role::General),
        body: None,
        query: &[],
        success: Success::Json(200, device::hardware_response_schema),
        operation_id: "getDeviceInformation",
        summary: "Device information; enrollmentCode is empty unless the caller is admin",
        tag: "audio",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/data",
        op: Op::Data,
        min_role: Some(Role::Monitor),
        body: None,
        query: &[(
            "events",
            "Comma-separated event names to receive: deviceMetrics, soundLocation (default: all). An unknown name gets one `event: error` and the end of the stream.",
        )],
        success: Success::EventStream(streams::data_event_schema),
        operation_id: "deviceDataStream",
        summary: "Device data stream (deviceMetrics: background noise; simulated on the reference device)",
        tag: "data",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/room/layout",
        op: Op::GetRoomLayout,
        min_role: Some(Role::General),
        body: None,
        query: &[],
        success: Success::Json(200, device::room_layout_schema),
        operation_id: "getRoomLayout",
        summary: "Room layout: dimensions, audio component positions and zones (millimetres)",
        tag: "room",
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/room/layout",
        op: Op::PatchRoomLayout,
        min_role: Some(Role::Integrator),
        body: Some(device::room_layout_patch_schema),
        query: &[],
        success: Success::Json(200, device::room_layout_schema),
        operation_id: "setRoomLayout",
        summary: "Change the room layout; the named top-level fields are replaced, all checked or nothing changes",
        tag: "room",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/auth/accounts",
        op: Op::ListAccounts,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::Json(200, admin::accounts_schema),
        operation_id: "listAccounts",
        summary: "The four accounts: enabled, password set, admin password still the enrollment code, last change",
        tag: "admin",
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/auth/accounts/{account}",
        op: Op::UpdateAccount,
        min_role: Some(Role::Admin),
        body: Some(admin::account_patch_schema),
        query: &[],
        success: Success::Json(200, admin::account_response_schema),
        operation_id: "updateAccount",
        summary: "Enable/disable an account or set its password; revokes the account's sessions on a password change or disable",
        tag: "admin",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/auth/sessions",
        op: Op::ListSessions,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::Json(200, admin::sessions_schema),
        operation_id: "listSessions",
        summary: "Open sessions: account, client, address, created, last used",
        tag: "admin",
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/auth/sessions/{id}",
        op: Op::RevokeSession,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::NoContent,
        operation_id: "revokeSession",
        summary: "Revoke a session (its open event streams close)",
        tag: "admin",
    },
    Route {
        method: Method::POST,
        path: "/api/v1/auth/keys",
        op: Op::CreateKey,
        min_role: Some(Role::Admin),
        body: Some(admin::key_request_schema),
        query: &[],
        success: Success::Json(201, admin::key_created_schema),
        operation_id: "createApiKey",
        summary: "Create a per-integration API key; the key is shown once",
        tag: "admin",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/auth/keys",
        op: Op::ListKeys,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::Json(200, admin::keys_schema),
        operation_id: "listApiKeys",
        summary: "API keys (never the secret): created, last used, last client id",
        tag: "admin",
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/auth/keys/{id}",
        op: Op::RevokeKey,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::NoContent,
        operation_id: "revokeApiKey",
        summary: "Revoke an API key",
        tag: "admin",
    },
    Route {
        method: Method::GET,
        path: "/api/v1/security/policy",
        op: Op::GetPolicy,
        min_role: Some(Role::Admin),
        body: None,
        query: &[],
        success: Success::Json(200, admin::policy_schema),
        operation_id: "getSecurityPolicy",
        summary: "The security policy",
        tag: "security",
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/security/policy",
        op: Op::PatchPolicy,
        min_role: Some(Role::Admin),
        body: Some(admin::policy_patch_schema),
        query: &[],
        success: Success::Json(200, admin::policy_schema),
        operation_id: "setSecurityPolicy",
        summary: "Change the security policy; applies at once",
        tag: "security",
    },
];

/// The result of looking a request up.
#[derive(Debug)]
pub enum Lookup {
    /// A route serves this method and path; `params` are the `{…}` segments in order.
    Found {
        /// The route.
        route: &'static Route,
        /// Path parameters.
        params: Vec<String>,
    },
    /// The path exists but not with this method; `allow` lists the methods it has.
    MethodNotAllowed {
        /// e.g. `GET, PATCH`
        allow: String,
    },
    /// No route has this path.
    NotFound,
}

/// Match `path` against `pattern`; the captured parameters on success.
fn match_path(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') => {
                if s.is_empty() {
                    return None;
                }
                params.push(s.to_string());
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

/// Routes without `{…}` segments, by path: most requests are answered by one hash
/// lookup instead of matching every pattern.
static EXACT: std::sync::LazyLock<std::collections::HashMap<&'static str, Vec<&'static Route>>> =
    std::sync::LazyLock::new(|| {
        let mut map: std::collections::HashMap<&'static str, Vec<&'static Route>> = std::collections::HashMap::new();
        for route in ROUTES.iter().filter(|r| !r.path.contains('{')) {
            map.entry(route.path).or_default().push(route);
        }
        map
    });

/// Look a request up. One trailing slash is ignored (`/api/v1/audio/`).
pub fn lookup(method: &Method, path: &str) -> Lookup {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    if let Some(routes) = EXACT.get(path) {
        if let Some(route) = routes.iter().find(|r| r.method == *method) {
            return Lookup::Found {
                route,
                params: Vec::new(),
            };
        }
        let allow: Vec<&str> = routes.iter().map(|r| r.method.as_str()).collect();
        return Lookup::MethodNotAllowed {
            allow: allow.join(", "),
        };
    }
    let mut allow: Vec<&str> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.path.contains('{')) {
        if let Some(params) = match_path(route.path, path) {
            if route.method == *method {
                return Lookup::Found { route, params };
            }
            if !allow.contains(&route.method.as_str()) {
                allow.push(route.method.as_str());
            }
        }
    }
    if allow.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed {
            allow: allow.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_routes_methods_and_misses() {
        match lookup(&Method::GET, "/api/v1/audio") {
            Lookup::Found { route, .. } => assert_eq!(route.op, Op::GetAudio),
            other => panic!("{other:?}"),
        }
        match lookup(&Method::PATCH, "/api/v1/audio/") {
            Lookup::Found { route, .. } => assert_eq!(route.op, Op::PatchAudio),
            other => panic!("{other:?}"),
        }
        match lookup(&Method::DELETE, "/api/v1/audio") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "GET, PATCH"),
            other => panic!("{other:?}"),
        }
        for p in [
            "/api/v1/audi",
            "/api/v1/audio/x",
            "/api/v1//audio",
            "/api/v1/../v1/audio",
            "/api/v2/audio",
        ] {
            assert!(matches!(lookup(&Method::GET, p), Lookup::NotFound), "{p}");
        }
    }

    #[test]
    fn patterns_capture_one_segment() {
        assert_eq!(match_path("/a/{id}", "/a/xyz"), Some(vec!["xyz".to_string()]));
        assert_eq!(match_path("/a/{id}", "/a/"), None);
        assert_eq!(match_path("/a/{id}", "/a/x/y"), None);
    }

    #[test]
    fn every_route_is_unique_and_documented() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(a.path.starts_with("/api/v1"));
            assert!(!a.summary.is_empty());
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {}", a.method, a.path);
                assert_ne!(a.operation_id, b.operation_id);
            }
        }
    }
}
