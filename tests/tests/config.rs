//! Configuration through the environment, seen from outside: overrides of the attribute,
//! one warning per invalid value naming the variable and the fallback, `OTEL_SDK_DISABLED`,
//! and the `OTEL_LOG_LEVEL=debug` report.

mod support;

use std::time::Duration;

use support::collector::Collector;
use support::program;
use support::received;

const SYNC: &str = env!("CARGO_BIN_EXE_e2e_sync");

#[test]
fn environment_overrides_the_attribute() {
    let collector = Collector::start();
    let run = program::run_against(
        &collector,
        "grpc",
        SYNC,
        &[
            // The attribute says service = "e2e-sync", version = "9.9.9".
            ("OTEL_SERVICE_NAME", "renamed-by-env"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.version=1.0.0-env,team=check%20out",
            ),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let trace_id = run.printed("trace_id");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("e2e.workload.runs") && out.contains("e2e log inside spans")
    });
    assert!(
        output.contains("service.name: Str(renamed-by-env)"),
        "{output}"
    );
    assert!(
        output.contains("service.version: Str(1.0.0-env)"),
        "{output}"
    );
    assert!(output.contains("team: Str(check out)"), "{output}");
    assert!(!output.contains("Str(e2e-sync)"), "{output}");
    // always_off: logs and metrics arrive, spans do not.
    assert!(received::spans(&output).is_empty(), "{output}");
    assert!(
        received::logs(&output)
            .iter()
            .any(|l| l.body == "Str(e2e log inside spans)"),
        "{output}"
    );
    assert_ne!(trace_id, "", "the API still hands out (unsampled) contexts");
}

#[test]
fn per_signal_variables_beat_generic_ones() {
    let collector = Collector::start();
    let grpc = collector.endpoint("grpc");
    let run = program::run(
        SYNC,
        &[
            // Generic: HTTP to a port nobody listens on; traces: gRPC to the collector.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", grpc.as_str()),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let trace_id = run.printed("trace_id");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        received::spans(out).iter().any(|s| s.trace_id == trace_id)
    });
    assert!(
        received::span(&received::spans(&output), &trace_id, "e2e.api.outer").is_some(),
        "{output}"
    );
    assert!(
        !output.contains("ResourceMetrics"),
        "metrics are off: {output}"
    );
    assert!(!output.contains("ResourceLog"), "logs are off: {output}");
}

#[test]
fn every_invalid_value_warns_once_naming_the_variable_and_the_fallback() {
    let run = program::run(
        SYNC,
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "otlp,zipkin"),
            ("OTEL_LOGS_EXPORTER", "prometheus"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "ninety"),
            ("OTEL_SDK_DISABLED", "maybe"),
            ("OTEL_LOG_LEVEL", "loud"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ("OTEL_PROPAGATORS", "tracecontext,b3"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "yes"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "-3"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
            ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
            ("RUST_LOG", "[[["),
        ],
    );
    assert_eq!(
        run.code,
        Some(0),
        "bad configuration never crashes the program: {run:#?}"
    );
    let expected = [
        r#"OTEL_SDK_DISABLED="maybe" is not true or false; using false (default)"#,
        r#"OTEL_LOG_LEVEL="loud" is not one of debug, info, warn, error, none; using info (default)"#,
        r#"OTEL_METRICS_EXPORTER="otlp,zipkin" is not a comma-separated list of otlp, console, prometheus, none; using otlp (default)"#,
        r#"OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not one of grpc, http/protobuf, http/json; using http/protobuf (default)"#,
        r#"OTEL_EXPORTER_OTLP_INSECURE="yes" is not true or false; using false (default)"#,
        r#"OTEL_EXPORTER_OTLP_ENDPOINT="not a url" is not an http:// or https:// URL; using http://localhost:4318 (default)"#,
        r#"OTEL_EXPORTER_OTLP_HEADERS is a list of key=value pairs, but its entry 1 of 1 has no `=`; that entry is not sent"#,
        r#"OTEL_EXPORTER_OTLP_TIMEOUT="10s" is not a positive number of milliseconds; using 10s (default)"#,
        r#"OTEL_EXPORTER_OTLP_COMPRESSION="brotli" is not one of gzip, none; using none (default)"#,
        r#"OTEL_EXPORTER_OTLP_CERTIFICATE="/nonexistent/ca.pem" is not a readable file; using the system's root certificates"#,
        r#"OTEL_TRACES_SAMPLER="sometimes" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; using parentbased_always_on (default)"#,
        r#"OTEL_TRACES_SAMPLER_ARG="1.5" is not a number from 0 to 1; using 1 (default)"#,
        r#"OTEL_PROPAGATORS="tracecontext,b3" is not a comma-separated list of tracecontext, baggage, none; using tracecontext,baggage (default)"#,
        r#"OTEL_BSP_SCHEDULE_DELAY="soon" is not a number of milliseconds; using 5s (default)"#,
        r#"OTEL_BSP_MAX_QUEUE_SIZE="0" is not a positive whole number; using 2048 (default)"#,
        r#"OTEL_BSP_MAX_EXPORT_BATCH_SIZE="many" is not a positive whole number; using 512 (default)"#,
        r#"OTEL_BLRP_MAX_QUEUE_SIZE="-3" is not a positive whole number; using 2048 (default)"#,
        r#"OTEL_METRIC_EXPORT_INTERVAL="0" is not a positive number of milliseconds; using 1h (from code)"#,
        r#"OTEL_RESOURCE_ATTRIBUTES="novalue" is not a list of key=value pairs; ignoring it"#,
        r#"OTEL_LOGS_EXPORTER lists prometheus, which exports metrics only; logs are not sent there"#,
        r#"OTEL_EXPORTER_PROMETHEUS_PORT="ninety" is not a port number; using 9464 (default)"#,
        r#"RUST_LOG="[[[" is not a valid filter directive such as "info,my_crate=debug"; using info (default)"#,
    ];
    for line in expected {
        let wanted = format!("otel: warning: {line}");
        let count = run.stderr.lines().filter(|l| *l == wanted).count();
        assert_eq!(count, 1, "expected once: {wanted}\nstderr:\n{}", run.stderr);
    }
    // A generic variable is read for each signal but warned about once.
    for variable in [
        "OTEL_EXPORTER_OTLP_ENDPOINT=",
        "OTEL_EXPORTER_OTLP_PROTOCOL=",
    ] {
        let lines = run.stderr.lines().filter(|l| l.contains(variable)).count();
        assert_eq!(
            lines, 1,
            "{variable}: one warning, not one per signal:\n{}",
            run.stderr
        );
    }
}

#[test]
fn sdk_disabled_sends_nothing() {
    let collector = Collector::start();
    let run = program::run_against(&collector, "grpc", SYNC, &[("OTEL_SDK_DISABLED", "true")]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.printed("trace_id"),
        "00000000000000000000000000000000",
        "no SDK, no ids"
    );
    // The enabled programs' data arrives within milliseconds; give it ample time not to.
    std::thread::sleep(Duration::from_millis(1500));
    let output = collector.output();
    for signal in ["ResourceSpans", "ResourceMetrics", "ResourceLog"] {
        assert!(
            !output.contains(signal),
            "{signal} received although disabled:\n{output}"
        );
    }
}

#[test]
fn debug_log_level_reports_every_value_with_its_source_and_masks_headers() {
    let run = program::run(
        SYNC,
        &[
            ("OTEL_LOG_LEVEL", "debug"),
            ("OTEL_SERVICE_NAME", "reported"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20top-secret",
            ),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = &run.stderr;
    assert!(report.contains("otel: effective configuration"), "{report}");
    assert!(
        !report.contains("top-secret"),
        "a header value leaked:\n{report}"
    );
    let has = |key: &str, value: &str, source: &str| {
        report.lines().any(|l| {
            let mut parts = l.split_whitespace();
            parts.next() == Some(key)
                && l.contains(&format!("= {value}"))
                && l.trim_end().ends_with(&format!("({source})"))
        })
    };
    assert!(
        has(
            "resource.service.name",
            "reported",
            "from OTEL_SERVICE_NAME"
        ),
        "{report}"
    );
    assert!(
        has("resource.service.version", "9.9.9", "from code"),
        "{report}"
    );
    assert!(
        has(
            "traces.otlp.headers",
            "authorization=***",
            "from OTEL_EXPORTER_OTLP_HEADERS"
        ),
        "{report}"
    );
    assert!(
        has("metrics.export_interval", "1h", "from code"),
        "{report}"
    );
    assert!(has("shutdown_timeout", "3s", "from code"), "{report}");
    assert!(
        has("traces.sampler", "parentbased_always_on", "default"),
        "{report}"
    );
    assert!(
        has("traces.exporter", "none", "from OTEL_TRACES_EXPORTER"),
        "{report}"
    );
}

#[test]
fn gzip_compression_is_delivered() {
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let collector = Collector::start();
        let run = program::run_against(
            &collector,
            protocol,
            SYNC,
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        let trace_id = run.printed("trace_id");
        // Each signal is its own request: wait for what is checked, not for another signal.
        let output = collector.wait_for(Duration::from_secs(10), |out| {
            received::span(&received::spans(out), &trace_id, "e2e.api.outer").is_some()
                && received::logs(out).iter().any(|l| l.trace_id == trace_id)
        });
        assert!(
            received::span(&received::spans(&output), &trace_id, "e2e.api.outer").is_some(),
            "{protocol} with gzip: {output}"
        );
        assert!(
            received::logs(&output)
                .iter()
                .any(|l| l.trace_id == trace_id),
            "{protocol} with gzip: {output}"
        );
    }
}

#[test]
fn the_export_stack_never_feeds_back_into_the_pipeline() {
    for protocol in ["grpc", "http/protobuf"] {
        let collector = Collector::start();
        // With everything enabled, tonic, hyper, h2 and the SDK itself emit `tracing` events and
        // spans while exporting; none of them may become telemetry.
        let run = program::run_against(
            &collector,
            protocol,
            SYNC,
            &[
                ("RUST_LOG", "trace"),
                ("OTEL_BSP_SCHEDULE_DELAY", "10"),
                ("OTEL_BLRP_SCHEDULE_DELAY", "10"),
            ],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        // All three signals: each is its own request, and each could carry the stack's telemetry.
        let output = collector.wait_for(Duration::from_secs(10), |out| {
            out.contains("e2e log inside spans")
                && out.contains("e2e.workload.runs")
                && received::spans(out)
                    .iter()
                    .any(|s| s.name == "e2e.api.outer")
        });
        // Log records are scoped by their `tracing` target; bridged spans carry it as `target`.
        let origins: Vec<&str> = output
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                l.strip_prefix("InstrumentationScope ")
                    .or_else(|| l.strip_prefix("-> target: Str(")?.strip_suffix(')'))
            })
            .map(str::trim)
            .collect();
        assert!(origins.contains(&"otel_tests"), "{output}");
        for origin in origins {
            for stack in [
                "opentelemetry",
                "tonic",
                "h2",
                "hyper",
                "tower",
                "reqwest",
                "rustls",
            ] {
                assert!(
                    !origin.starts_with(stack),
                    "{protocol}: telemetry from the export stack ({origin}) was exported:\n{output}"
                );
            }
        }
    }
}

/// A unique secret in every input that carries one (OTLP headers, well-formed and not, the
/// endpoint's and the Pyroscope server's user information, the Pyroscope token) never shows
/// in what the program prints, whatever it prints: the debug report, `RUST_LOG=trace`, a
/// collector that is down or fails the TLS handshake, a Pyroscope that is down, and every
/// way of ending.
#[test]
fn no_credential_is_ever_printed() {
    let closed = support::collector::free_port();
    let down = format!("http://otel-user:canary-endpoint-5521@127.0.0.1:{closed}");
    let tls_failing = format!(
        "https://otel-user:canary-endpoint-5521@{}",
        support::collector::plaintext_server()
    );
    let pyroscope = format!("http://pyro-user:canary-pyroscope-5522@127.0.0.1:{closed}");
    let canaries = [
        "canary-header-5520",
        "canary-endpoint-5521",
        "canary-pyroscope-5522",
        "canary-token-5523",
        "canary-bare-5524",
    ];
    for (endpoint, headers) in [
        (&down, "authorization=Bearer%20canary-header-5520"),
        (
            &down,
            "authorization=Bearer%20canary-header-5520,canary-bare-5524",
        ),
        (
            &tls_failing,
            "authorization=Bearer%20canary-header-5520,canary-bare-5524",
        ),
    ] {
        for ending in ["return", "error", "panic", "exit"] {
            let run = program::run(
                program::PROGRAMS[1].1,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                    ("OTEL_EXPORTER_OTLP_HEADERS", headers),
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
                    ("OTEL_LOG_LEVEL", "debug"),
                    ("RUST_LOG", "trace"),
                    ("OTEL_RUST_PROFILER", "pyroscope"),
                    ("PYROSCOPE_SERVER_ADDRESS", pyroscope.as_str()),
                    ("PYROSCOPE_AUTH_TOKEN", "canary-token-5523"),
                    ("OTEL_TEST_EXIT", ending),
                ],
            );
            assert!(
                run.stderr.contains("otel: effective configuration"),
                "the debug report was printed: {run:#?}"
            );
            for canary in canaries {
                assert!(
                    !run.stdout.contains(canary) && !run.stderr.contains(canary),
                    "{canary} printed ({endpoint}, headers {headers}, ending {ending}): {run:#?}"
                );
            }
        }
    }
}

/// A value that is not UTF-8 and a certificate file that holds no certificate are each one
/// warning; the program runs on with the fallback.
#[test]
fn non_utf8_values_and_certificate_files_without_certificates_warn() {
    use std::os::unix::ffi::OsStrExt as _;

    let garbage = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-a-certificate.pem");
    std::fs::write(&garbage, "this is not a certificate\n").expect("write the file");
    let output = program::command(program::PROGRAMS[0].1, &[("OTEL_TEST_EXIT", "return")])
        .env(
            "OTEL_SERVICE_NAME",
            std::ffi::OsStr::from_bytes(b"shop-\xff\xfe"),
        )
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &garbage)
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_LOGS_EXPORTER", "none")
        .output()
        .expect("run the program");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let warning = |needle: &str| stderr.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        warning("otel: warning: OTEL_SERVICE_NAME is not valid UTF-8; it is ignored"),
        1,
        "{stderr}"
    );
    assert_eq!(
        warning(
            "holds no PEM certificate (no -----BEGIN CERTIFICATE----- block); using the system's root certificates"
        ),
        1,
        "{stderr}"
    );
}

/// Sizes and durations that would allocate gigabytes or overflow a clock are cut to the
/// documented bounds, one warning each naming the variable and the value used.
#[test]
fn huge_sizes_and_durations_are_bounded() {
    let run = program::run(
        program::PROGRAMS[0].1,
        &[
            ("OTEL_TEST_EXIT", "return"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100000000"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100000000"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "99999999999"),
            ("OTEL_BSP_SCHEDULE_DELAY", "18446744073709551615"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "18446744073709551615"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "18446744073709551615"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    for line in [
        "OTEL_BSP_MAX_QUEUE_SIZE=100000000 is above 100000, the largest otel allows (the queue is allocated whole at start); using 100000",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=100000000 is above 100000, the largest otel allows (the queue is allocated whole at start); using 100000",
        "OTEL_BLRP_MAX_QUEUE_SIZE=99999999999 is above 100000, the largest otel allows (the queue is allocated whole at start); using 100000",
        "OTEL_BSP_SCHEDULE_DELAY=18446744073709551615 ms is longer than a day, the longest otel allows; using 1 day",
        "OTEL_EXPORTER_OTLP_TIMEOUT=18446744073709551615 ms is longer than a day, the longest otel allows; using 1 day",
        "OTEL_METRIC_EXPORT_INTERVAL=18446744073709551615 ms is longer than a day, the longest otel allows; using 1 day",
    ] {
        let wanted = format!("otel: warning: {line}");
        let count = run.stderr.lines().filter(|l| *l == wanted).count();
        assert_eq!(count, 1, "once: {wanted}\n{}", run.stderr);
    }
}

/// Bad values, one at a time, of every kind: garbage, empty, negative, huge, not a number,
/// unicode, the wrong scheme, malformed lists. None crashes the program or balloons its
/// memory; each is exactly the one warning shown, naming the variable and what is used
/// instead; an accepted value (empty is unset, case does not matter) says nothing.
#[test]
fn bad_values_one_by_one_each_warn_exactly_once() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "OTEL_SDK_DISABLED",
            "maybe",
            Some(r#"OTEL_SDK_DISABLED="maybe" is not true or false; using false (default)"#),
        ),
        ("OTEL_SDK_DISABLED", "", None),
        ("OTEL_SERVICE_NAME", "店舗-サービス", None),
        (
            "OTEL_TRACES_EXPORTER",
            "zipkin",
            Some(
                r#"OTEL_TRACES_EXPORTER="zipkin" is not a comma-separated list of otlp, console, prometheus, none; using otlp (default)"#,
            ),
        ),
        ("OTEL_TRACES_EXPORTER", "otlp,,console", None),
        ("OTEL_TRACES_EXPORTER", "none,otlp", None),
        ("OTEL_METRICS_EXPORTER", "OTLP", None),
        (
            "OTEL_LOGS_EXPORTER",
            "prometheus",
            Some(
                r#"OTEL_LOGS_EXPORTER lists prometheus, which exports metrics only; logs are not sent there"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "carrier-pigeon",
            Some(
                r#"OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon" is not one of grpc, http/protobuf, http/json; using http/protobuf (default)"#,
            ),
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC", None),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", None),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "ftp://collector:21",
            Some(
                r#"OTEL_EXPORTER_OTLP_ENDPOINT="ftp://collector:21" is not an http:// or https:// URL; using http://localhost:4318 (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://",
            Some(
                r#"OTEL_EXPORTER_OTLP_ENDPOINT="http://" is not an http:// or https:// URL; using http://localhost:4318 (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "not a url",
            Some(
                r#"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="not a url" is not an http:// or https:// URL; using http://localhost:4318/v1/traces (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "-5",
            Some(
                r#"OTEL_EXPORTER_OTLP_TIMEOUT="-5" is not a positive number of milliseconds; using 10s (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "0",
            Some(
                r#"OTEL_EXPORTER_OTLP_TIMEOUT="0" is not a positive number of milliseconds; using 10s (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "99999999999999999999",
            Some(
                r#"OTEL_EXPORTER_OTLP_TIMEOUT="99999999999999999999" is not a positive number of milliseconds; using 10s (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "18446744073709551615",
            Some(
                r#"OTEL_EXPORTER_OTLP_TIMEOUT=18446744073709551615 ms is longer than a day, the longest otel allows; using 1 day"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "brotli",
            Some(
                r#"OTEL_EXPORTER_OTLP_COMPRESSION="brotli" is not one of gzip, none; using none (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key",
            Some(
                r#"OTEL_EXPORTER_OTLP_HEADERS is a list of key=value pairs, but its entry 1 of 1 has no `=`; that entry is not sent"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "=value",
            Some(
                r#"OTEL_EXPORTER_OTLP_HEADERS is a list of key=value pairs, but its entry 1 of 1 has no name before its `=`; that entry is not sent"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "k=%FF",
            Some(
                r#"OTEL_EXPORTER_OTLP_HEADERS is a list of key=value pairs, but its entry 1 of 1 (k) is not UTF-8 once percent-decoded; that entry is not sent"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_INSECURE",
            "yes",
            Some(
                r#"OTEL_EXPORTER_OTLP_INSECURE="yes" is not true or false; using false (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/nonexistent/ca.pem",
            Some(
                r#"OTEL_EXPORTER_OTLP_CERTIFICATE="/nonexistent/ca.pem" is not a readable file; using the system's root certificates"#,
            ),
        ),
        (
            "OTEL_TRACES_SAMPLER",
            "sometimes",
            Some(
                r#"OTEL_TRACES_SAMPLER="sometimes" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; using parentbased_always_on (default)"#,
            ),
        ),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "1.5",
            Some(r#"OTEL_TRACES_SAMPLER_ARG="1.5" is not a number from 0 to 1; using 1 (default)"#),
        ),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "NaN",
            Some(r#"OTEL_TRACES_SAMPLER_ARG="NaN" is not a number from 0 to 1; using 1 (default)"#),
        ),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "-0.1",
            Some(
                r#"OTEL_TRACES_SAMPLER_ARG="-0.1" is not a number from 0 to 1; using 1 (default)"#,
            ),
        ),
        (
            "OTEL_PROPAGATORS",
            "b3",
            Some(
                r#"OTEL_PROPAGATORS="b3" is not a comma-separated list of tracecontext, baggage, none; using tracecontext,baggage (default)"#,
            ),
        ),
        (
            "OTEL_BSP_SCHEDULE_DELAY",
            "soon",
            Some(
                r#"OTEL_BSP_SCHEDULE_DELAY="soon" is not a number of milliseconds; using 5s (default)"#,
            ),
        ),
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "0",
            Some(
                r#"OTEL_BSP_MAX_QUEUE_SIZE="0" is not a positive whole number; using 2048 (default)"#,
            ),
        ),
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "-1",
            Some(
                r#"OTEL_BSP_MAX_QUEUE_SIZE="-1" is not a positive whole number; using 2048 (default)"#,
            ),
        ),
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "99999999999999999999999",
            Some(
                r#"OTEL_BSP_MAX_QUEUE_SIZE="99999999999999999999999" is not a positive whole number; using 2048 (default)"#,
            ),
        ),
        (
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "many",
            Some(
                r#"OTEL_BSP_MAX_EXPORT_BATCH_SIZE="many" is not a positive whole number; using 512 (default)"#,
            ),
        ),
        (
            "OTEL_BLRP_MAX_QUEUE_SIZE",
            "99999999999",
            Some(
                r#"OTEL_BLRP_MAX_QUEUE_SIZE=99999999999 is above 100000, the largest otel allows (the queue is allocated whole at start); using 100000"#,
            ),
        ),
        (
            "OTEL_METRIC_EXPORT_INTERVAL",
            "0",
            Some(
                r#"OTEL_METRIC_EXPORT_INTERVAL="0" is not a positive number of milliseconds; using 1h (from code)"#,
            ),
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "novalue",
            Some(
                r#"OTEL_RESOURCE_ATTRIBUTES="novalue" is not a list of key=value pairs; ignoring it"#,
            ),
        ),
        ("OTEL_RESOURCE_ATTRIBUTES", "a=%ZZ", None),
        (
            "OTEL_LOG_LEVEL",
            "loud",
            Some(
                r#"OTEL_LOG_LEVEL="loud" is not one of debug, info, warn, error, none; using info (default)"#,
            ),
        ),
        (
            "RUST_LOG",
            "[[[",
            Some(
                r#"RUST_LOG="[[[" is not a valid filter directive such as "info,my_crate=debug"; using info (default)"#,
            ),
        ),
        (
            "OTEL_EXPORTER_PROMETHEUS_PORT",
            "70000",
            Some(
                r#"OTEL_EXPORTER_PROMETHEUS_PORT="70000" is not a port number; using 9464 (default)"#,
            ),
        ),
        (
            "PYROSCOPE_SAMPLE_RATE",
            "0",
            Some(
                r#"PYROSCOPE_SAMPLE_RATE="0" is not a number of samples per second from 1 to 1000; using 100 (default)"#,
            ),
        ),
        (
            "PYROSCOPE_SERVER_ADDRESS",
            "localhost:4040",
            Some(
                r#"PYROSCOPE_SERVER_ADDRESS="localhost:4040" is not an http:// or https:// URL; using http://localhost:4040 (default)"#,
            ),
        ),
        (
            "OTEL_RUST_PROFILER",
            "perf",
            Some(
                r#"OTEL_RUST_PROFILER="perf" is not one of pyroscope, local, none; using none (default)"#,
            ),
        ),
    ];
    for (variable, value, warning) in cases {
        let run = program::run(
            program::PROGRAMS[0].1,
            &[
                ("OTEL_TEST_EXIT", "return"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
                (variable, value),
            ],
        );
        let case = format!("{variable}={value:?}");
        assert_eq!(run.code, Some(0), "{case}: {run:#?}");
        let about: Vec<&str> = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("otel: warning: ") && line.contains(variable))
            .collect();
        match warning {
            Some(warning) => assert_eq!(
                about,
                [format!("otel: warning: {warning}").as_str()],
                "{case}: {run:#?}"
            ),
            None => assert!(
                about.is_empty(),
                "{case}: accepted, so no warning: {run:#?}"
            ),
        }
    }
    let peak = peak_child_rss_kib();
    assert!(
        peak < 200 * 1024,
        "a program's peak resident memory was {peak} KiB: a configured size balloons it"
    );
}

/// The largest peak resident set of the children this test process waited for, in KiB.
fn peak_child_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the structure it is given; RUSAGE_CHILDREN asks for the
    // waited-for children of this process.
    #[allow(unsafe_code)]
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss
}

/// With `otel`'s TLS (one crypto provider, aws-lc-rs, for gRPC and HTTP alike), a user's own
/// `rustls::ClientConfig::builder()` finds a provider: with two linked and none installed as
/// the process default, rustls panics there.
#[test]
fn a_users_own_rustls_config_finds_one_crypto_provider() {
    let roots = rustls::RootCertStore::empty();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    assert!(config.crypto_provider().cipher_suites.len() > 1);
}
