use super::*;
use crate::device::model::Release;

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("/etc/roomgate"), "test.toml")
}

/// Lines of `TOML | key | reason`: each TOML line must be refused naming that key,
/// with a reason that starts that way, as `test.toml: key: reason`.
fn refused(cases: &str) {
    for case in cases.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let [text, key, reason]: [&str; 3] = case.split(" | ").collect::<Vec<_>>().try_into().unwrap();
        let e = load(&text.replace("\\n", "\n")).unwrap_err();
        assert_eq!(e.key, key, "for {text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("test.toml: {key}: {reason}")), "{e}");
    }
}

#[test]
fn a_reload_keeps_start_only_settings_and_names_them() {
    let running = load("[server]\nlisten = \"127.0.0.1:8443\"\n").unwrap();
    let mut next = load(
        "[server]\nlisten = \"0.0.0.0:443\"\n[limits]\nmax_connections = 10\nidle_timeout = \"5s\"\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    let pending = next.keep_start_only(&running);
    assert_eq!(pending, ["server.listen", "limits.max_connections", "log.format"]);
    assert_eq!(next.start, running.start);
    assert_eq!(next.start.log_format, LogFormat::Text);
    assert_eq!(next.limits.idle_timeout, Duration::from_secs(5), "the rest applies");
    assert!(next.keep_start_only(&running).is_empty(), "nothing left to report");
    let mut next = load("[passwords]\niterations = 3\n[limits]\nlogin_delay_max = \"1m\"\n").unwrap();
    let pending = next.keep_start_only(&load("").unwrap());
    assert_eq!(pending, ["passwords", "limits.login_delay_max"]);
    // Turning the plain-HTTP listener on, moving it, or turning it off: a restart.
    let off = load("").unwrap();
    let on = load("[server]\nhttp_listen = \"127.0.0.1:8080\"\n").unwrap();
    let moved = load("[server]\nhttp_listen = \"127.0.0.1:8081\"\n").unwrap();
    for (mut next, running) in [(on.clone(), &off), (moved, &on), (off.clone(), &on)] {
        assert_eq!(next.keep_start_only(running), ["server.http_listen"]);
        assert_eq!(
            next.start.http_listen, running.start.http_listen,
            "the running one stays"
        );
    }
}

#[test]
fn plain_http_is_off_unless_a_file_or_the_command_line_asks() {
    assert_eq!(load("").unwrap().start.http_listen, None);
    assert_eq!(load(EMBEDDED_DEFAULT).unwrap().start.http_listen, None);
    let c = load("[server]\nhttp_listen = \"0.0.0.0:8080\"\n").unwrap();
    assert_eq!(c.start.http_listen, Some("0.0.0.0:8080".parse().unwrap()));
    assert!(
        load("[server]\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n").is_ok(),
        "port 0 twice: two free ports"
    );
}

#[test]
fn a_config_from_a_file_can_be_read_again_with_its_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roomgate.toml");
    std::fs::write(&file, "[device]\nhardware_id = \"one\"\n").unwrap();
    let overrides = Overrides {
        listen: Some("127.0.0.1:9999".parse().unwrap()),
        ..Overrides::default()
    };
    let first = Config::load(Some(&file), &overrides).unwrap();
    assert_eq!(first.start.state_dir, dir.path().join("var"), "next to the file");
    std::fs::write(&file, "[device]\nhardware_id = \"two\"\n").unwrap();
    let again = first.reread().unwrap();
    assert_eq!(again.device.hardware_id, "two");
    assert_eq!(again.start.listen.port(), 9999, "command-line overrides still win");
    assert!(
        load("").unwrap().reread().is_err(),
        "text without a file cannot be re-read"
    );
    let e = Config::load(Some(&dir.path().join("absent.toml")), &overrides).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("absent.toml: cannot read the file: entity not found"),
        "{e}"
    );
}

#[test]
fn embedded_default_is_valid_and_documents_the_built_in_defaults() {
    let from_file = load(EMBEDDED_DEFAULT).expect("embedded default must be valid");
    let built_in = load("").expect("empty config must be valid");
    // Everything but the two folders (which the file points at the repository's
    // top level, and which are "var" and "certs" next to any other file) is what an
    // empty file gives.
    assert_eq!(from_file.start.state_dir, Path::new("/etc/roomgate/../var"));
    assert_eq!(from_file.tls.cert_dir, Path::new("/etc/roomgate/../certs"));
    assert_eq!(built_in.start.state_dir, Path::new("/etc/roomgate/var"));
    assert_eq!(built_in.tls.cert_dir, Path::new("/etc/roomgate/certs"));
    let mut start = from_file.start.clone();
    start.state_dir.clone_from(&built_in.start.state_dir);
    assert_eq!(start, built_in.start);
    assert_eq!((from_file.limits, from_file.policy), (built_in.limits, built_in.policy));
    assert_eq!((from_file.device, from_file.events), (built_in.device, built_in.events));
    assert_eq!(from_file.log, built_in.log);
}

#[test]
#[rustfmt::skip]
fn the_defaults_are_the_embedded_files_values() {
    let c = load("").unwrap();
    let (s, l, secs) = (&c.start, &c.limits, Duration::from_secs);
    assert_eq!((s.listen.to_string(), s.http_listen), ("0.0.0.0:8443".to_string(), None));
    assert_eq!(s.passwords, HashParams { memory_kib: 19456, iterations: 2, parallelism: 1 });
    assert_eq!([s.max_connections, s.hash_concurrency, s.hash_queue, s.max_event_streams], [2048, 2, 32, 64]);
    assert_eq!((s.legacy_cache_entries, s.login_delay_max, s.log_format), (64, secs(900), LogFormat::Text));
    assert_eq!(s.hash_memory_keep, secs(1));
    assert_eq!([l.handshake_timeout, l.head_timeout, l.body_timeout], [secs(10), secs(10), secs(30)]);
    assert_eq!([l.idle_timeout, l.drain_timeout, l.h2_keepalive_interval, l.h2_keepalive_timeout],
               [secs(60), secs(10), secs(30), secs(20)]);
    assert_eq!([l.max_body_bytes, l.max_header_bytes, l.max_headers, l.max_api_keys], [65536, 16384, 64, 64]);
    assert_eq!([l.h2_max_concurrent_streams, l.h2_max_header_list_bytes], [32, 16384]);
    assert_eq!([s.max_connections_per_address, s.max_public_streams, s.max_streams_per_address], [64, 16, 8]);
    assert_eq!([l.first_byte_timeout, l.discard_timeout, l.session_idle_takeover], [secs(2), secs(5), secs(86_400)]);
    assert_eq!(l.max_discard_bytes, 1 << 20);
    assert_eq!((c.policy.requests_per_minute, c.policy.session_lifetime_secs), (600, None));
    assert_eq!((c.tls.validity_days, c.tls.operator_supplied, c.tls.hostnames.len()), (3650, false, 0));
    assert_eq!((c.device.ip_address, c.device.hardware_components.len()), (None, 0), "\"auto\", derived");
    assert_eq!((c.device.model, c.device.firmware_version.release()), (Model::Hdl310, Release(2, 0)));
    assert_eq!([c.events.heartbeat_interval, c.events.keepalive_interval, c.events.data_interval],
               [secs(5), secs(15), secs(5)]);
    assert_eq!(c.events.max_stream_duration, None, "\"none\"");
    assert_eq!((c.log.level.as_str(), c.enrollment_code_file, c.routes.len()), ("info", None, 0));
}

#[test]
fn a_file_is_laid_over_the_defaults_table_by_table() {
    let c = load("[device]\nname = \"Room 12\"\n[limits]\nmax_headers = 10\n").unwrap();
    assert_eq!((c.device.name.as_str(), c.device.model.as_str()), ("Room 12", "hdl310"));
    assert_eq!(
        c.device.firmware_version.release(),
        Release(2, 0),
        "the rest of the table stays"
    );
    assert_eq!((c.limits.max_headers, c.limits.max_body_bytes), (10, 65536));
    let c = load("[[device.hardware_components]]\nmodel = \"Bar\"\nhardware_id = \"b1\"\nport_number = 1\n");
    let components = c.unwrap().device.hardware_components;
    assert_eq!(
        (
            components.len(),
            components[0].model.as_str(),
            components[0].port_number
        ),
        (1, "Bar", Some(1)),
        "an array replaces"
    );
    let c = load("device.hardware_components = []\ndevice.ip_address = \" 10.0.0.7 \"").unwrap();
    assert_eq!(
        (c.device.hardware_components.len(), c.device.ip_address.as_deref()),
        (0, Some("10.0.0.7"))
    );
    let c = load("[events]\nmax_stream_duration = \"1h\"").unwrap();
    assert_eq!(c.events.max_stream_duration, Some(Duration::from_secs(3600)));
}

#[test]
fn session_lifetime_parses() {
    let c = load("[policy]\nsession_lifetime = \"30days\"").unwrap();
    assert_eq!(c.policy.session_lifetime_secs, Some(30 * 86_400));
}

#[test]
fn unknown_key_names_the_key() {
    refused(
        r#"
        [limits]\nmax_conections = 5 | limits.max_conections | unknown field `max_conections`
        [nowhere] | nowhere | unknown field `nowhere`
        [[route]]\nprefix = "/api/v1/x" | route[0] | missing field `min_role`
        "#,
    );
}

#[test]
fn syntax_errors_name_the_file_and_position() {
    let e = load("[limits\n").unwrap_err();
    assert_eq!(e.key, "");
    assert!(
        e.to_string().starts_with("test.toml: ") && e.reason.contains("(line 1, column"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_the_key_and_position_in_the_file() {
    let e = load("[limits]\nmax_connections = \"many\"\n").unwrap_err();
    assert_eq!(e.key, "limits.max_connections", "{e}");
    assert!(
        e.reason.contains("(line 2, column 19)") && !e.reason.contains(" | "),
        "{e}"
    );
    refused(
        r#"
        limits.idle_timeout = 5 | limits.idle_timeout | invalid type: integer `5`, expected a string
        limits = 5 | limits | invalid type: integer `5`
        "#,
    );
}

#[test]
fn bad_values_name_their_keys() {
    refused(
        r#"
        server.listen = "nowhere" | server.listen | `nowhere` is not an address like 0.0.0.0:8443
        server.state_dir = " " | server.state_dir | must not be empty
        server.http_listen = "port 80" | server.http_listen | `port 80` is not an address like 0.0.0.0:8443
        server = { listen = "0.0.0.0:8443", http_listen = "0.0.0.0:8443" } | server.http_listen | must differ from server.listen
        limits.idle_timeout = "soon" | limits.idle_timeout | `soon` is not a duration (examples: "500ms", "10s", "2m")
        limits.head_timeout = "1ms" | limits.head_timeout | must be between 100ms and 1h
        limits.max_connections = 0 | limits.max_connections | must be between 1 and 65536
        limits.requests_per_minute = 2000000 | limits.requests_per_minute | must be between 0 (off) and 1000000
        passwords.memory_kib = 1 | passwords.memory_kib | must be between 64 and 1048576
        passwords = { memory_kib = 100, parallelism = 16 } | passwords.memory_kib | must be at least 8 KiB per lane
        device.model = "hdl999" | device.model | unknown variant `hdl999`, expected `hdl310` or `hdl410`
        device.firmware_version = "v2" | device.firmware_version | `v2` is not a firmware version like 1.9.278056-0
        device.hardware_components = [{model = "Bar", hardware_id = "b", port_number = 2}] | device.hardware_components[0].port_number | a bar of an hdl310 is on port 1
        device.hardware_components = [{model = "ConnectModule2", hardware_id = "m", port_number = 1}] | device.hardware_components[0].port_number | only a bar has a port number
        device.hardware_components = [{model = "Camera", hardware_id = "c"}] | device.hardware_components[0].model | must be one of ConnectModule2, Bar
        device.name = "a\"b" | device.name | must not contain control characters, quotes or backslashes
        device.name = "" | device.name | must be 1 to 64 characters
        device.mac_address = "zz" | device.mac_address | must look like 00:1a:2b:3c:4d:5e
        device.ip_address = "here" | device.ip_address | must be an IP address or "auto"
        tls.cert_file = "/x.pem" | tls.key_file | must be set when tls.cert_file is set
        tls.ip_addresses = ["300.1.1.1"] | tls.ip_addresses[0] | `300.1.1.1` is not an IP address
        tls.hostnames = ["a b"] | tls.hostnames[0] | `a b` is not a DNS name
        policy.login_failures_per_hour = 500 | policy.login_failures_per_hour | must be between 1 and 100
        policy.session_lifetime = "forever" | policy.session_lifetime | `forever` is not a duration
        events.max_stream_duration = "1ms" | events.max_stream_duration | must be between 100ms and 30days
        log.format = "xml" | log.format | must be one of text, json
        log.level = "roomgate=loud" | log.level | must be a level (error, warn, info, debug, trace)
        "#,
    );
    let e = load("[policy]\npassword_min_length = 20\npassword_max_length = 10").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.toml: policy.password_max_length: must not be smaller than password_min_length"
    );
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let c = load("[server]\nstate_dir = \"state\"\n[tls]\ncert_dir = \"/abs/certs\"").unwrap();
    assert_eq!(c.start.state_dir, Path::new("/etc/roomgate/state"));
    assert_eq!(c.tls.cert_file, Path::new("/abs/certs/cert.pem"));
    assert!(!c.tls.operator_supplied);
    let c = load("[enrollment]\ncode_file = \"code\"\n[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"").unwrap();
    assert_eq!(c.enrollment_code_file.as_deref(), Some(Path::new("/etc/roomgate/code")));
    assert_eq!(c.tls.key_file, Path::new("/etc/roomgate/k.pem"));
    assert!(c.tls.operator_supplied);
}

#[test]
fn overrides_win() {
    let mut c = load("").unwrap();
    c.apply(&Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        http_listen: Some("127.0.0.1:8080".parse().unwrap()),
        state_dir: Some("/tmp/s".into()),
        cert_dir: Some("/tmp/c".into()),
    });
    assert_eq!(c.start.listen.to_string(), "127.0.0.1:0");
    assert_eq!(c.start.http_listen, Some("127.0.0.1:8080".parse().unwrap()));
    assert_eq!(c.start.state_dir, Path::new("/tmp/s"));
    assert_eq!(c.tls.key_file, Path::new("/tmp/c/key.pem"));
}

#[test]
fn routes_are_validated_and_sorted_longest_first() {
    let c = load(
        "[[route]]\nprefix = \"/api/v1/camera\"\nmin_role = \"integrator\"\nupstream = \"http://127.0.0.1:9001\"\n\
         [[route]]\nprefix = \"/api/v1/camera/ptz\"\nmin_role = \"general\"\nupstream = \"unix:/run/ptz.sock\"\nmethods = [\"get\", \"PUT\"]\ntimeout = \"2s\"\n",
    )
    .unwrap();
    let [ptz, camera] = &c.routes[..] else {
        panic!("two routes")
    };
    assert_eq!(
        (ptz.prefix.as_str(), ptz.min_role),
        ("/api/v1/camera/ptz", Role::General)
    );
    assert_eq!(
        ptz.upstream,
        Upstream::Unix {
            path: "/run/ptz.sock".into()
        }
    );
    assert_eq!(
        (&ptz.methods[..], ptz.timeout),
        (&[http::Method::GET, http::Method::PUT][..], Duration::from_secs(2))
    );
    assert_eq!(
        camera.upstream,
        Upstream::Http {
            authority: "127.0.0.1:9001".into()
        }
    );
    assert_eq!((camera.methods.len(), camera.timeout), (5, Duration::from_secs(10)));
}

#[test]
fn routes_cannot_shadow_built_ins_by_accident() {
    let route = |prefix: &str, extra: &str| {
        load(&format!(
            "[[route]]\nprefix = \"{prefix}\"\nmin_role = \"general\"\nupstream = \"http://127.0.0.1:9\"\n{extra}"
        ))
    };
    let e = route("/api/v1/audio", "").unwrap_err();
    assert_eq!(e.key, "route[0].prefix");
    assert!(e.reason.contains("override_builtin"), "{e}");
    assert!(route("/api/v1/audio", "override_builtin = true").is_ok());
    assert!(
        route("/api/v1/audio/eq", "").is_ok(),
        "a new path under a built-in one is fine"
    );
    for protected in ["/api/v1/auth", "/api/v1/security", "/api/v1/auth/keys", "/api/v1"] {
        let e = route(protected, "override_builtin = true").unwrap_err();
        assert!(e.reason.contains("always serves itself"), "{protected}: {e}");
    }
    for bad in [
        "/camera",
        "/api/v1/camera/",
        "/api/v1/../x",
        "/api/v1//x",
        "/api/v1/ca mera",
    ] {
        assert_eq!(route(bad, "").unwrap_err().key, "route[0].prefix", "{bad}");
    }
    for (upstream, ok) in [
        ("http://localhost:80", true),
        ("https://x:1", false),
        ("http://x", false),
        ("ftp://x:1", false),
        ("http://u@x:1", false),
    ] {
        let r = load(&format!(
            "[[route]]\nprefix = \"/api/v1/x\"\nmin_role = \"admin\"\nupstream = \"{upstream}\"\n"
        ));
        assert_eq!(r.is_ok(), ok, "{upstream}");
    }
    let route = r#"[[route]]\nprefix = "/api/v1/x"\nupstream = "http://a:1"\n"#;
    refused(&format!(
        r#"
        {route}min_role = "none" | route[0].min_role | must be one of monitor, general, integrator, admin (line 4, column 12)
        {route}min_role = "admin"\nmethods = [] | route[0].methods | must list at least one method
        {route}min_role = "admin"\nmethods = ["GET", "TRACE"] | route[0].methods[1] | `TRACE` is not a method
        {route}min_role = "admin"\ntimeout = "none" | route[0].timeout | `none` is not a duration
        {route}min_role = "admin"\ntimeout = "2h" | route[0].timeout | must be between 100ms and 1h
        "#
    ));
}

#[test]
fn syslog_is_off_by_default_and_reads_each_transport() {
    let off = load(EMBEDDED_DEFAULT).unwrap().start.syslog;
    assert_eq!(off.collector, None);
    assert_eq!(
        (off.what, off.queue, off.facility),
        (SyslogWhat::Audit, 1024, Facility(10))
    );
    for (url, transport, host, port) in [
        ("udp://192.0.2.10:514", SyslogTransport::Udp, "192.0.2.10", 514),
        (
            "tcp://logs.example.net:601",
            SyslogTransport::Tcp,
            "logs.example.net",
            601,
        ),
        ("tls://[2001:db8::1]:6514", SyslogTransport::Tls, "2001:db8::1", 6514),
    ] {
        let c = load(&format!("[log]\nsyslog = \"{url}\"\nsyslog_ca_file = \"ca.pem\"\n"));
        let c = match transport {
            SyslogTransport::Tls => c.unwrap(),
            _ => load(&format!("[log]\nsyslog = \"{url}\"\n")).unwrap(),
        };
        let collector = c.start.syslog.collector.unwrap();
        assert_eq!(
            (collector.transport, collector.host.as_str(), collector.port),
            (transport, host, port)
        );
        assert_eq!(collector.to_string(), url, "shown as written");
    }
    let c = load("[log]\nsyslog = \"tls://h:6514\"\nsyslog_ca_file = \"ca.pem\"\nsyslog_what = \"all\"\nsyslog_facility = \"local3\"\n")
        .unwrap();
    assert_eq!(c.start.syslog.ca_file, Some(PathBuf::from("/etc/roomgate/ca.pem")));
    assert_eq!(
        (c.start.syslog.what, c.start.syslog.facility.name()),
        (SyslogWhat::All, "local3")
    );
}

#[test]
fn bad_syslog_values_name_their_keys() {
    refused(
        r#"
        [log]\nsyslog = "syslog://h:514" | log.syslog | `syslog` is not a collector transport
        [log]\nsyslog = "udp://h" | log.syslog | `udp://h` is not a collector
        [log]\nsyslog = "tcp://h:0" | log.syslog | `tcp://h:0` is not a collector
        [log]\nsyslog = "tcp://a b:601" | log.syslog | `tcp://a b:601` is not a collector
        [log]\nsyslog = "tcp://[::1:601" | log.syslog | `tcp://[::1:601` is not a collector
        [log]\nsyslog = "tls://h:6514" | log.syslog_ca_file | a tls:// collector needs the CA file
        [log]\nsyslog = "tcp://h:601"\nsyslog_ca_file = "ca.pem" | log.syslog_ca_file | is used only with a tls://
        [log]\nsyslog_queue = 0 | log.syslog_queue | must be between 1 and 65536
        [log]\nsyslog_what = "some" | log.syslog_what | must be one of audit, all
        [log]\nsyslog_facility = "kern" | log.syslog_facility | must be one of user, daemon, auth, authpriv
        "#,
    );
}

#[test]
fn syslog_settings_are_start_only_and_a_reload_names_them() {
    let running = load("").unwrap();
    let mut next = load("[log]\nsyslog = \"udp://127.0.0.1:514\"\nsyslog_queue = 8\n").unwrap();
    assert_eq!(next.keep_start_only(&running), ["log.syslog", "log.syslog_queue"]);
    assert_eq!(next.start.syslog.collector, None, "the running output stays");
}
