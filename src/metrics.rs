//! Leaf: health metrics. A lock-free registry of request, latency and login
//! counters, and their rendering in the Prometheus text exposition format (0.0.4)
//! or OpenMetrics 1.0.
//!
//! Every label set is fixed when a [`Target`] is made (status codes and methods fall
//! into fixed slots), so the number of series is bounded whatever clients send.
//! Recording a request is three relaxed atomic adds: no lock, no allocation.
//! Gauges (sessions, connections, memory, …) are not stored here: the scrape reads
//! them where they live and writes them with [`Exposition`].

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;

/// Status codes counted exactly; any other counts under its class (`2xx`, …).
const CODES: [u16; 20] = [
    200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 431, 500, 502, 503, 504,
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const CODE_SLOTS: usize = CODES.len() + CLASSES.len();

/// Method slots of a target that serves any method (forwarded routes, unrouted).
const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"];

/// Upper bounds of the latency buckets, in microseconds (0.5 ms … 5 s).
const BUCKETS_MICROS: [u64; 13] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
];

/// Login outcomes, in label order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    /// A session was issued.
    Ok = 0,
    /// Wrong password, disabled account or no password (401).
    Failed = 1,
    /// Refused by failed-login throttling before any hash (429 `login_rate_limited`).
    Throttled = 2,
    /// The account holds its cap of sessions in use (429 `too_many_sessions`).
    Refused = 3,
    /// The password hasher was saturated (503).
    Busy = 4,
}

const LOGIN_OUTCOMES: [&str; 5] = ["ok", "failed", "throttled", "refused", "busy"];

fn code_slot(status: u16) -> usize {
    match CODES.iter().position(|&c| c == status) {
        Some(i) => i,
        None => CODES.len() + usize::from(status / 100).clamp(1, CLASSES.len()) - 1,
    }
}

fn code_label(slot: usize) -> String {
    match CODES.get(slot) {
        Some(code) => code.to_string(),
        None => CLASSES[slot - CODES.len()].to_string(),
    }
}

fn method_slot(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|m| *m == method.as_str())
        .unwrap_or(METHODS.len() - 1)
}

/// A latency histogram with fixed buckets; the count is the buckets' sum.
#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last one is past the largest bound.
    buckets: [AtomicU64; BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_MICROS.partition_point(|&bound| bound < micros);
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(micros, Relaxed);
    }

    /// Cumulative counts per bound, then the total.
    fn cumulative(&self) -> [u64; BUCKETS_MICROS.len() + 1] {
        let mut out = [0; BUCKETS_MICROS.len() + 1];
        let mut total = 0;
        for (slot, bucket) in out.iter_mut().zip(&self.buckets) {
            total += bucket.load(Relaxed);
            *slot = total;
        }
        out
    }
}

/// The requests of one method of one target: counts by status, and latency.
#[derive(Debug, Default)]
struct Series {
    codes: [AtomicU64; CODE_SLOTS],
    latency: Histogram,
}

/// What requests are counted under: a built-in route (one method), a forwarded
/// route or the requests answered before any route was chosen (any method).
#[derive(Debug)]
pub(crate) struct Target {
    series: Box<[Series]>,
}

impl Target {
    /// A target whose requests all have one method (a built-in route; HEAD is
    /// counted with the GET route it is served by).
    pub(crate) fn one_method() -> Target {
        Target {
            series: vec![Series::default()].into_boxed_slice(),
        }
    }

    /// A target counting each method apart (`GET`, …, `other`).
    pub(crate) fn any_method() -> Target {
        Target {
            series: METHODS.iter().map(|_| Series::default()).collect(),
        }
    }

    /// Count one answered request.
    pub(crate) fn record(&self, method: &Method, status: u16, elapsed: Duration) {
        let series = if self.series.len() == 1 {
            &self.series[0]
        } else {
            &self.series[method_slot(method)]
        };
        series.codes[code_slot(status)].fetch_add(1, Relaxed);
        series.latency.observe(elapsed);
    }

    /// The series with their method label (`method` for a one-method target).
    fn labelled<'a>(&'a self, method: &'a str) -> impl Iterator<Item = (&'a str, &'a Series)> {
        let one = self.series.len() == 1;
        self.series
            .iter()
            .enumerate()
            .map(move |(i, s)| (if one { method } else { METHODS[i] }, s))
    }
}

/// A target with its labels, for rendering.
#[derive(Debug)]
pub(crate) struct Labelled<'a> {
    /// The route template or forwarded prefix.
    pub route: &'a str,
    /// The method of a one-method target (ignored for the others).
    pub method: &'a str,
    /// The counts.
    pub target: &'a Target,
}

/// A counter without labels, registered at run time by the part that counts it.
#[derive(Debug)]
struct Plain {
    name: &'static str,
    help: &'static str,
    value: Arc<AtomicU64>,
}

/// The registry: one per service (held by `App`).
#[derive(Debug)]
pub(crate) struct Registry {
    routes: Box<[Target]>,
    unrouted: Target,
    logins: [AtomicU64; LOGIN_OUTCOMES.len()],
    plain: Mutex<Vec<Plain>>,
    open_connections: Arc<AtomicU64>,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub(crate) struct OpenConnection(Arc<AtomicU64>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Registry {
    /// A registry for `routes` built-in routes (indexed like the route table).
    pub(crate) fn new(routes: usize) -> Registry {
        Registry {
            routes: (0..routes).map(|_| Target::one_method()).collect(),
            unrouted: Target::any_method(),
            logins: Default::default(),
            plain: Mutex::new(Vec::new()),
            open_connections: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Count a connection as open until the returned mark is dropped (its task
    /// holds it with its connection slot).
    pub(crate) fn connection_opened(&self) -> OpenConnection {
        self.open_connections.fetch_add(1, Relaxed);
        OpenConnection(Arc::clone(&self.open_connections))
    }

    /// Connections open now.
    pub(crate) fn open_connections(&self) -> u64 {
        self.open_connections.load(Relaxed)
    }

    /// The target of the built-in route at `index` in the route table.
    pub(crate) fn route(&self, index: usize) -> &Target {
        self.routes.get(index).unwrap_or(&self.unrouted)
    }

    /// Requests answered before a route was chosen.
    pub(crate) fn unrouted(&self) -> &Target {
        &self.unrouted
    }

    /// Count one login attempt.
    pub(crate) fn login(&self, outcome: LoginOutcome) {
        self.logins[outcome as usize].fetch_add(1, Relaxed);
    }

    /// A label-free counter named `name` (it must end in `_total`), made on first
    /// use and shared after: adding one is this call where the counting part is
    /// built and `fetch_add(1, Relaxed)` where it counts.
    pub(crate) fn counter(&self, name: &'static str, help: &'static str) -> Arc<AtomicU64> {
        let mut plain = self.plain.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = plain.iter().find(|p| p.name == name) {
            return Arc::clone(&existing.value);
        }
        let value = Arc::new(AtomicU64::new(0));
        plain.push(Plain {
            name,
            help,
            value: Arc::clone(&value),
        });
        value
    }

    /// The built-in route targets, in route-table order.
    pub(crate) fn routes(&self) -> &[Target] {
        &self.routes
    }

    /// Write the request counters and latency histograms of `targets`.
    pub(crate) fn write_requests(out: &mut Exposition, targets: &[Labelled<'_>]) {
        out.header(
            "roomgate_http_requests_total",
            Kind::Counter,
            "HTTP requests answered, by route template (or forwarded prefix), method and status code",
        );
        for t in targets {
            for (method, series) in t.target.labelled(t.method) {
                for (slot, count) in series.codes.iter().enumerate() {
                    let n = count.load(Relaxed);
                    if n > 0 {
                        let code = code_label(slot);
                        out.sample(
                            "roomgate_http_requests_total",
                            &[("route", t.route), ("method", method), ("code", &code)],
                            n as f64,
                        );
                    }
                }
            }
        }
        write_latency(out, targets);
    }

    /// Write the login counters and the label-free counters.
    pub(crate) fn write_counters(&self, out: &mut Exposition) {
        out.header(
            "roomgate_logins_total",
            Kind::Counter,
            "Login attempts by outcome: ok, failed (401), throttled (429 login_rate_limited), refused (429 too_many_sessions), busy (503)",
        );
        for (outcome, count) in LOGIN_OUTCOMES.iter().zip(&self.logins) {
            out.sample(
                "roomgate_logins_total",
                &[("outcome", outcome)],
                count.load(Relaxed) as f64,
            );
        }
        let plain = self.plain.lock().unwrap_or_else(|p| p.into_inner());
        for p in plain.iter() {
            out.header(p.name, Kind::Counter, p.help);
            out.sample(p.name, &[], p.value.load(Relaxed) as f64);
        }
    }
}

fn write_latency(out: &mut Exposition, targets: &[Labelled<'_>]) {
    const NAME: &str = "roomgate_http_request_duration_seconds";
    out.header(
        NAME,
        Kind::Histogram,
        "Time from the request head to the response head, by route template and method",
    );
    for t in targets {
        for (method, series) in t.target.labelled(t.method) {
            let cumulative = series.latency.cumulative();
            let total = cumulative[BUCKETS_MICROS.len()];
            if total == 0 {
                continue;
            }
            for (bound, count) in BUCKETS_MICROS.iter().zip(cumulative) {
                let le = seconds(*bound).to_string();
                out.sample(
                    "roomgate_http_request_duration_seconds_bucket",
                    &[("route", t.route), ("method", method), ("le", &le)],
                    count as f64,
                );
            }
            let labels = [("route", t.route), ("method", method)];
            let inf = [("route", t.route), ("method", method), ("le", "+Inf")];
            out.sample("roomgate_http_request_duration_seconds_bucket", &inf, total as f64);
            out.sample("roomgate_http_request_duration_seconds_count", &labels, total as f64);
            let sum = seconds(series.latency.sum_micros.load(Relaxed));
            out.sample("roomgate_http_request_duration_seconds_sum", &labels, sum);
        }
    }
}

fn seconds(micros: u64) -> f64 {
    micros as f64 / 1e6
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only goes up (the name ends in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, count and sum.
    Histogram,
}

/// The exposition text being written, in either format.
#[derive(Debug)]
pub(crate) struct Exposition {
    text: String,
    open_metrics: bool,
}

/// The content type of the Prometheus text format.
pub(crate) const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether an `Accept` value asks for OpenMetrics (as Prometheus's scraper does,
/// preferring it); anything else gets the Prometheus text format.
pub(crate) fn wants_open_metrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
    })
}

impl Exposition {
    /// An empty exposition in OpenMetrics (`true`) or the Prometheus text format.
    pub(crate) fn new(open_metrics: bool) -> Exposition {
        Exposition {
            text: String::with_capacity(8 * 1024),
            open_metrics,
        }
    }

    /// The content type of this exposition.
    pub(crate) fn content_type(&self) -> &'static str {
        if self.open_metrics {
            OPENMETRICS_CONTENT_TYPE
        } else {
            TEXT_CONTENT_TYPE
        }
    }

    /// Start a family: `# HELP` and `# TYPE` (OpenMetrics names a counter family
    /// without its `_total`).
    pub(crate) fn header(&mut self, name: &str, kind: Kind, help: &str) {
        let family = match kind {
            Kind::Counter if self.open_metrics => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.text, "# HELP {family} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {family} {kind}");
    }

    /// One sample line.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A gauge family with one unlabelled sample.
    pub(crate) fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.header(name, Kind::Gauge, help);
        self.sample(name, &[], value);
    }

    /// A gauge family with one sample per value of `label`.
    pub(crate) fn gauges(&mut self, name: &str, help: &str, label: &str, values: &[(&str, f64)]) {
        self.header(name, Kind::Gauge, help);
        for (v, value) in values {
            self.sample(name, &[(label, v)], *value);
        }
    }

    /// The finished text (OpenMetrics ends with `# EOF`).
    pub(crate) fn finish(mut self) -> String {
        if self.open_metrics {
            self.text.push_str("# EOF\n");
        }
        self.text
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        value.into()
    }
}

/// This process's resident memory and open descriptors, from `/proc/self`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcessStats {
    /// `VmRSS` in bytes.
    pub resident_bytes: Option<u64>,
    /// Entries of `/proc/self/fd`.
    pub open_fds: Option<u64>,
}

impl ProcessStats {
    /// Read them now (a few microseconds).
    pub(crate) fn read() -> ProcessStats {
        ProcessStats {
            resident_bytes: std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| vm_rss_bytes(&s)),
            open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|dir| dir.count() as u64),
        }
    }
}

/// `VmRSS:   1234 kB` → bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(registry: &Registry, open_metrics: bool) -> String {
        let mut out = Exposition::new(open_metrics);
        let routes = [
            Labelled {
                route: "/api/v1/audio",
                method: "GET",
                target: registry.route(0),
            },
            Labelled {
                route: "unrouted",
                method: "",
                target: registry.unrouted(),
            },
        ];
        Registry::write_requests(&mut out, &routes);
        registry.write_counters(&mut out);
        out.gauge("roomgate_sessions", "Sessions", 3.0);
        out.finish()
    }

    #[test]
    fn requests_count_by_route_method_and_code() {
        let r = Registry::new(2);
        let ms = Duration::from_millis;
        r.route(0).record(&Method::GET, 200, ms(3));
        r.route(0).record(&Method::HEAD, 200, ms(7));
        r.route(0).record(&Method::GET, 401, Duration::from_micros(500));
        r.unrouted().record(&Method::PUT, 404, ms(1));
        r.unrouted()
            .record(&Method::from_bytes(b"BREW").unwrap(), 418, ms(9000));
        let text = scrape(&r, false);
        for line in [
            "# TYPE roomgate_http_requests_total counter",
            r#"roomgate_http_requests_total{route="/api/v1/audio",method="GET",code="200"} 2"#,
            r#"roomgate_http_requests_total{route="/api/v1/audio",method="GET",code="401"} 1"#,
            r#"roomgate_http_requests_total{route="unrouted",method="PUT",code="404"} 1"#,
            r#"roomgate_http_requests_total{route="unrouted",method="other",code="4xx"} 1"#,
            "# TYPE roomgate_http_request_duration_seconds histogram",
            // 0.5 ms is in the 0.5 ms bucket (le is inclusive); 3 and 7 ms are not.
            r#"roomgate_http_request_duration_seconds_bucket{route="/api/v1/audio",method="GET",le="0.0005"} 1"#,
            r#"roomgate_http_request_duration_seconds_bucket{route="/api/v1/audio",method="GET",le="0.005"} 2"#,
            r#"roomgate_http_request_duration_seconds_bucket{route="/api/v1/audio",method="GET",le="0.01"} 3"#,
            r#"roomgate_http_request_duration_seconds_bucket{route="/api/v1/audio",method="GET",le="+Inf"} 3"#,
            r#"roomgate_http_request_duration_seconds_count{route="/api/v1/audio",method="GET"} 3"#,
            r#"roomgate_http_request_duration_seconds_sum{route="/api/v1/audio",method="GET"} 0.0105"#,
            r#"roomgate_http_request_duration_seconds_bucket{route="unrouted",method="other",le="5"} 0"#,
            r#"roomgate_http_request_duration_seconds_bucket{route="unrouted",method="other",le="+Inf"} 1"#,
            r#"roomgate_logins_total{outcome="ok"} 0"#,
            "roomgate_sessions 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Nothing is written for a series that never counted anything.
        assert!(!text.contains(r#"method="DELETE""#), "{text}");
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn logins_and_plain_counters() {
        let r = Registry::new(0);
        r.login(LoginOutcome::Ok);
        r.login(LoginOutcome::Failed);
        r.login(LoginOutcome::Failed);
        r.login(LoginOutcome::Throttled);
        let dropped = r.counter("roomgate_test_dropped_total", "Dropped");
        dropped.fetch_add(5, Relaxed);
        // Asking again gives the same counter, and one family.
        r.counter("roomgate_test_dropped_total", "Dropped")
            .fetch_add(1, Relaxed);
        let text = scrape(&r, false);
        for line in [
            r#"roomgate_logins_total{outcome="ok"} 1"#,
            r#"roomgate_logins_total{outcome="failed"} 2"#,
            r#"roomgate_logins_total{outcome="throttled"} 1"#,
            r#"roomgate_logins_total{outcome="refused"} 0"#,
            r#"roomgate_logins_total{outcome="busy"} 0"#,
            "# TYPE roomgate_test_dropped_total counter",
            "roomgate_test_dropped_total 6",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert_eq!(text.matches("# TYPE roomgate_test_dropped_total").count(), 1);
    }

    #[test]
    fn open_metrics_names_counter_families_without_total_and_ends_with_eof() {
        let r = Registry::new(1);
        r.route(0).record(&Method::GET, 200, Duration::from_millis(1));
        let text = scrape(&r, true);
        assert!(text.contains("# TYPE roomgate_http_requests counter\n"), "{text}");
        assert!(text.contains("# TYPE roomgate_logins counter\n"), "{text}");
        assert!(text.contains("\nroomgate_logins_total{outcome=\"ok\"} 0\n"), "{text}");
        assert!(text.contains("# TYPE roomgate_http_request_duration_seconds histogram\n"));
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1);
    }

    #[test]
    fn every_family_is_written_once_with_help_and_type_first() {
        let r = Registry::new(1);
        r.route(0).record(&Method::GET, 200, Duration::from_millis(1));
        r.unrouted().record(&Method::GET, 404, Duration::from_millis(1));
        let text = scrape(&r, false);
        let mut seen: Vec<&str> = Vec::new();
        let mut current = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let family = rest.split(' ').next().unwrap();
                assert!(!seen.contains(&family), "{family} twice");
                seen.push(family);
                current = family;
            } else if !line.starts_with('#') {
                assert!(line.starts_with(current), "{line} outside its family {current}");
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::new(false);
        out.gauges("g", "G", "l", &[("a\"b\\c\nd", 1.0)]);
        assert!(out.finish().contains(r#"g{l="a\"b\\c\nd"} 1"#));
    }

    #[test]
    fn accept_headers_choose_the_format() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_open_metrics(Some(prometheus)));
        assert!(wants_open_metrics(Some("Application/OpenMetrics-Text")));
        assert!(!wants_open_metrics(Some("text/plain")));
        assert!(!wants_open_metrics(Some("*/*")));
        assert!(!wants_open_metrics(Some("application/openmetrics-text;q=0")));
        assert!(!wants_open_metrics(None));
    }

    #[test]
    fn codes_fall_into_fixed_slots() {
        assert_eq!(code_label(code_slot(200)), "200");
        assert_eq!(code_label(code_slot(429)), "429");
        assert_eq!(code_label(code_slot(207)), "2xx");
        assert_eq!(code_label(code_slot(599)), "5xx");
        assert_eq!(code_label(code_slot(99)), "1xx");
        assert_eq!(code_label(code_slot(999)), "5xx");
    }

    #[test]
    fn rss_is_read_from_status() {
        assert_eq!(vm_rss_bytes("Name:\tx\nVmRSS:\t    2048 kB\n"), Some(2 * 1024 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        let now = ProcessStats::read();
        assert!(now.resident_bytes.unwrap() > 0);
        assert!(now.open_fds.unwrap() >= 3);
    }
}
