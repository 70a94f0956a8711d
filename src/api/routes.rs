//! The route table: method + path pattern → operation, minimum role, and whether a
//! configured `[[route]]` may take it over.
//!
//! This table is the only place roles are assigned. The pipeline enforces
//! `min_role` from it and the capabilities document publishes the same value as
//! `x-nureva.minimumRoleRequired`, so what the device says and what it does cannot
//! disagree. What only the document needs (operation ids, summaries, schemas) lives
//! with its builder in `api::openapi`. Paths match segment by segment; `{name}`
//! matches one non-empty segment.

use std::hash::{BuildHasherDefault, Hasher};

use http::Method;

use crate::auth::accounts::{MinRole, Role};
use crate::device::model::{Firmware, Model, Release};

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
    /// `GET /api/v1/status`
    Status,
    /// `POST /api/v1/audio/identify`
    Identify,
    /// `POST /api/v1/audio/calibrate`
    Calibrate,
    /// `GET /api/v1/settings` (other vendor devices only)
    GetSettings,
    /// `PATCH /api/v1/settings` (other vendor devices only)
    PatchSettings,
    /// `GET /api/v1/room/layout`
    GetRoomLayout,
    /// `PATCH /api/v1/room/layout`
    PatchRoomLayout,
    /// `PATCH /api/v1/room/zone-input-maps`
    PatchZoneInputMaps,
    /// `GET /api/v1/room/profiles`
    ListProfiles,
    /// `POST /api/v1/room/profiles`
    CreateProfile,
    /// `PATCH /api/v1/room/profiles/{profileId}`
    RenameProfile,
    /// `POST /api/v1/room/profiles/{profileId}/active`
    ActivateProfile,
    /// `DELETE /api/v1/room/profiles/{profileId}`
    DeleteProfile,
    /// `GET /api/v1/integrations/camera-switcher`
    GetCameraSwitcher,
    /// `PATCH /api/v1/integrations/camera-switcher`
    PatchCameraSwitcher,
    /// `GET /api/v1/network/configuration`
    NetworkConfiguration,
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
    /// `GET /api/v1/security/certificate`
    GetCertificate,
    /// `PUT /api/v1/security/certificate`
    InstallCertificate,
    /// `POST /api/v1/security/certificate/csr`
    CreateCsr,
    /// `GET /api/v1/metrics`
    Metrics,
}

impl Op {
    /// Whether the operation reads a JSON request body (the pipeline checks its
    /// framing before authentication and reads it after the role check).
    pub fn takes_body(self) -> bool {
        matches!(
            self,
            Op::Login
                | Op::PatchAudio
                | Op::ChangeVolume
                | Op::PatchRoomLayout
                | Op::PatchZoneInputMaps
                | Op::CreateProfile
                | Op::RenameProfile
                | Op::PatchCameraSwitcher
                | Op::UpdateAccount
                | Op::CreateKey
                | Op::PatchPolicy
                | Op::InstallCertificate
                | Op::CreateCsr
        )
    }

    /// Whether a body it takes may also be left out (then it is `null`).
    pub fn body_required(self) -> bool {
        self.takes_body() && self != Op::CreateCsr
    }

    /// Operations an admin credential obtained with the enrollment code may still
    /// use while the policy requires the admin password to be changed first.
    pub fn allowed_before_password_change(self) -> bool {
        matches!(self, Op::Validate | Op::Logout | Op::UpdateAccount)
    }
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
    /// Whether a configured `[[route]]` may take this endpoint over
    /// (`override_builtin = true`): the reference device's endpoints may; the ones
    /// that authenticate and administer the device never.
    pub overridable: bool,
    /// What the device must be to serve it (the vendor's `requirements`).
    pub needs: Needs,
}

const fn route(method: Method, path: &'static str, op: Op, min_role: MinRole, overridable: bool) -> Route {
    device_route(method, path, op, min_role, Needs::NONE).overridable_if(overridable)
}

/// A reference-device route (a `[[route]]` may take it over) served only by a
/// device that is what `needs` says.
const fn device_route(method: Method, path: &'static str, op: Op, min_role: MinRole, needs: Needs) -> Route {
    Route {
        method,
        path,
        op,
        min_role,
        overridable: true,
        needs,
    }
}

impl Route {
    const fn overridable_if(mut self, overridable: bool) -> Route {
        self.overridable = overridable;
        self
    }
}

/// What a device must be to serve an operation: the vendor's Requirement Object
/// (`minimumFirmware`, `minimumBars`, `supportedDeviceTypes`; `None` = no
/// requirement). The pipeline refuses an operation whose needs this device does
/// not meet (409), and the capabilities document publishes the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Minimum firmware release.
    pub firmware: Option<Release>,
    /// Minimum number of bars.
    pub bars: Option<u8>,
    /// Device types that have it; `Some(&[])` for an endpoint of other vendor
    /// devices that no model of this one has.
    pub models: Option<&'static [&'static str]>,
}

impl Needs {
    /// Served by every model and firmware.
    pub const NONE: Needs = Needs {
        firmware: None,
        bars: None,
        models: None,
    };
    /// HDL410 only (two bars).
    pub const HDL410: Needs = Needs {
        firmware: None,
        bars: Some(2),
        models: Some(&["hdl410"]),
    };
    /// Only the vendor's HDL200/HDL300/HDX devices: neither model of this one.
    pub const OTHER_DEVICES: Needs = Needs {
        firmware: None,
        bars: None,
        models: Some(&["hdl200", "hdl300", "hdx"]),
    };

    /// The parts of these needs a device of `model` on `firmware` fails; `None`
    /// when it meets them all.
    pub fn unmet(&self, model: Model, firmware: &Firmware) -> Option<Needs> {
        let failed = Needs {
            firmware: self.firmware.filter(|f| !firmware.has(*f)),
            bars: self.bars.filter(|b| model.bars() < *b),
            models: self.models.filter(|m| !m.contains(&model.as_str())),
        };
        (failed != Needs::NONE).then_some(failed)
    }
}

/// Every built-in route.
pub static ROUTES: &[Route] = &[
    route(Method::GET, "/api/v1", Op::Capabilities, None, false),
    route(Method::POST, "/api/v1/auth/login", Op::Login, None, false),
    route(
        Method::GET,
        "/api/v1/auth/validate",
        Op::Validate,
        Some(Role::Monitor),
        false,
    ),
    route(
        Method::POST,
        "/api/v1/auth/logout",
        Op::Logout,
        Some(Role::Monitor),
        false,
    ),
    route(Method::GET, "/api/v1/heartbeat", Op::Heartbeat, None, true),
    route(Method::GET, "/api/v1/events", Op::Events, Some(Role::General), true),
    route(Method::GET, "/api/v1/audio", Op::GetAudio, Some(Role::General), true),
    route(
        Method::PATCH,
        "/api/v1/audio",
        Op::PatchAudio,
        Some(Role::General),
        true,
    ),
    route(
        Method::PUT,
        "/api/v1/audio/volume/change",
        Op::ChangeVolume,
        Some(Role::General),
        true,
    ),
    route(
        Method::GET,
        "/api/v1/audio/hardware",
        Op::Hardware,
        Some(Role::General),
        true,
    ),
    route(Method::GET, "/api/v1/data", Op::Data, Some(Role::Monitor), true),
    route(Method::GET, "/api/v1/status", Op::Status, Some(Role::General), true),
    // The vendor's newest reference page says admin (an older tutorial integrator).
    route(
        Method::POST,
        "/api/v1/audio/identify",
        Op::Identify,
        Some(Role::Admin),
        true,
    ),
    route(
        Method::POST,
        "/api/v1/audio/calibrate",
        Op::Calibrate,
        Some(Role::Integrator),
        true,
    ),
    device_route(
        Method::GET,
        "/api/v1/settings",
        Op::GetSettings,
        Some(Role::General),
        Needs::OTHER_DEVICES,
    ),
    device_route(
        Method::PATCH,
        "/api/v1/settings",
        Op::PatchSettings,
        Some(Role::Admin),
        Needs::OTHER_DEVICES,
    ),
    route(
        Method::GET,
        "/api/v1/room/layout",
        Op::GetRoomLayout,
        Some(Role::General),
        true,
    ),
    route(
        Method::PATCH,
        "/api/v1/room/layout",
        Op::PatchRoomLayout,
        Some(Role::Integrator),
        true,
    ),
    device_route(
        Method::PATCH,
        "/api/v1/room/zone-input-maps",
        Op::PatchZoneInputMaps,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    device_route(
        Method::GET,
        "/api/v1/room/profiles",
        Op::ListProfiles,
        Some(Role::General),
        Needs::HDL410,
    ),
    device_route(
        Method::POST,
        "/api/v1/room/profiles",
        Op::CreateProfile,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    device_route(
        Method::PATCH,
        "/api/v1/room/profiles/{profileId}",
        Op::RenameProfile,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    device_route(
        Method::POST,
        "/api/v1/room/profiles/{profileId}/active",
        Op::ActivateProfile,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    device_route(
        Method::DELETE,
        "/api/v1/room/profiles/{profileId}",
        Op::DeleteProfile,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    device_route(
        Method::GET,
        "/api/v1/integrations/camera-switcher",
        Op::GetCameraSwitcher,
        Some(Role::General),
        Needs::HDL410,
    ),
    device_route(
        Method::PATCH,
        "/api/v1/integrations/camera-switcher",
        Op::PatchCameraSwitcher,
        Some(Role::Integrator),
        Needs::HDL410,
    ),
    route(
        Method::GET,
        "/api/v1/network/configuration",
        Op::NetworkConfiguration,
        Some(Role::General),
        true,
    ),
    route(
        Method::GET,
        "/api/v1/auth/accounts",
        Op::ListAccounts,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::PATCH,
        "/api/v1/auth/accounts/{account}",
        Op::UpdateAccount,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::GET,
        "/api/v1/auth/sessions",
        Op::ListSessions,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::DELETE,
        "/api/v1/auth/sessions/{id}",
        Op::RevokeSession,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::POST,
        "/api/v1/auth/keys",
        Op::CreateKey,
        Some(Role::Admin),
        false,
    ),
    route(Method::GET, "/api/v1/auth/keys", Op::ListKeys, Some(Role::Admin), false),
    route(
        Method::DELETE,
        "/api/v1/auth/keys/{id}",
        Op::RevokeKey,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::GET,
        "/api/v1/security/policy",
        Op::GetPolicy,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::PATCH,
        "/api/v1/security/policy",
        Op::PatchPolicy,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::GET,
        "/api/v1/security/certificate",
        Op::GetCertificate,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::PUT,
        "/api/v1/security/certificate",
        Op::InstallCertificate,
        Some(Role::Admin),
        false,
    ),
    route(
        Method::POST,
        "/api/v1/security/certificate/csr",
        Op::CreateCsr,
        Some(Role::Admin),
        false,
    ),
    route(Method::GET, METRICS_PATH, Op::Metrics, Some(Role::Monitor), false),
];

/// The health metrics endpoint (Prometheus text format).
pub(crate) const METRICS_PATH: &str = "/api/v1/metrics";

/// The position of `route` in [`ROUTES`] (where its request counters are kept);
/// `ROUTES.len()` for a route not in the table.
pub(crate) fn index(route: &Route) -> usize {
    let offset = std::ptr::from_ref(route).addr().wrapping_sub(ROUTES.as_ptr().addr());
    let index = offset / std::mem::size_of::<Route>();
    match ROUTES.get(index) {
        Some(found) if std::ptr::eq(found, route) => index,
        _ => ROUTES.len(),
    }
}

/// The result of looking a request up.
#[derive(Debug)]
pub(crate) enum Lookup {
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
static EXACT: std::sync::LazyLock<ExactRoutes> = std::sync::LazyLock::new(|| {
    let mut map = ExactRoutes::default();
    for route in ROUTES.iter().filter(|r| !r.path.contains('{')) {
        map.entry(route.path).or_default().push(route);
    }
    map
});

type ExactRoutes = std::collections::HashMap<&'static str, Vec<&'static Route>, BuildHasherDefault<PathHasher>>;

/// The hash of [`EXACT`]'s keys: eight bytes per step (rotate, XOR, multiply, as in
/// rustc's FxHash) rather than SipHash. SipHash guards a table against keys chosen
/// to collide; this table's keys are the route table's own paths, fixed at build,
/// so a request can only look one up, never add one.
#[derive(Default)]
struct PathHasher(u64);

impl PathHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        self.add(u64::from_le_bytes(tail) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Look a request up. One trailing slash is ignored (`/api/v1/audio/`).
pub(crate) fn lookup(method: &Method, path: &str) -> Lookup {
    // HEAD is GET without the body (RFC 9110 §9.3.2): wherever GET is served, so is
    // HEAD, with the same checks.
    let method = if method == Method::HEAD { &Method::GET } else { method };
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
        return Lookup::MethodNotAllowed {
            allow: allow_header(routes.iter().map(|r| &r.method)),
        };
    }
    let mut allowed: Vec<&Method> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.path.contains('{')) {
        if let Some(params) = match_path(route.path, path) {
            if route.method == *method {
                return Lookup::Found { route, params };
            }
            if !allowed.contains(&&route.method) {
                allowed.push(&route.method);
            }
        }
    }
    if allowed.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed {
            allow: allow_header(allowed.into_iter()),
        }
    }
}

/// The `Allow` value for a resource served with `methods`: HEAD follows GET.
pub(crate) fn allow_header<'a>(methods: impl Iterator<Item = &'a Method>) -> String {
    let mut allow: Vec<&str> = Vec::new();
    for m in methods {
        allow.push(m.as_str());
        if *m == Method::GET {
            allow.push(Method::HEAD.as_str());
        }
    }
    allow.join(", ")
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
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "GET, HEAD, PATCH"),
            other => panic!("{other:?}"),
        }
        match lookup(&Method::HEAD, "/api/v1/audio") {
            Lookup::Found { route, .. } => assert_eq!(route.op, Op::GetAudio, "HEAD is served where GET is"),
            other => panic!("{other:?}"),
        }
        match lookup(&Method::HEAD, "/api/v1/auth/login") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, "POST", "no HEAD without GET"),
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
    fn every_route_knows_its_index() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert_eq!(index(route), i);
        }
        let stray = route(Method::GET, "/api/v1/x", Op::Metrics, None, false);
        assert_eq!(index(&stray), ROUTES.len());
        match lookup(&Method::HEAD, METRICS_PATH) {
            Lookup::Found { route, .. } => assert_eq!(index(route), ROUTES.len() - 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_route_is_found_by_its_own_method_and_path() {
        for route in ROUTES.iter().filter(|r| !r.path.contains('{')) {
            match lookup(&route.method, route.path) {
                Lookup::Found { route: found, .. } => assert!(std::ptr::eq(found, route), "{}", route.path),
                other => panic!("{} {}: {other:?}", route.method, route.path),
            }
        }
        // Paths one byte longer or shorter than a route's, or equal up to the last
        // byte, are other paths.
        for route in ROUTES.iter().filter(|r| !r.path.contains('{')) {
            let cut = &route.path[..route.path.len() - 1];
            let longer = format!("{}x", route.path);
            let changed = format!("{cut}~");
            for other in [cut, longer.as_str(), changed.as_str()] {
                if let Lookup::Found { route: found, .. } = lookup(&route.method, other) {
                    assert_ne!(found.path, route.path, "{other} found {}", route.path);
                }
            }
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
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {}", a.method, a.path);
            }
        }
    }
}
