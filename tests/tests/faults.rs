//! Faults: the collector absent, never answering, refusing, throttling, slow or flapping,
//! over gRPC, HTTP/protobuf and HTTP/JSON. The program's telemetry calls must not block, it
//! must exit within `shutdown_timeout` (3 s in the test programs) plus 1 s, every span and
//! log record must be delivered or reported lost (exactly), and stderr must say each outage
//! once, with its cause, and its end.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::collector::free_port;
use support::program::{self, PROGRAMS};
use support::scripted;

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);
const PROTOCOLS: &[&str] = &["grpc", "http/protobuf", "http/json"];

/// A collector that accepts connections and holds them open without reading or answering;
/// its endpoint.
fn silent_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// How a fault shows on stderr.
#[derive(Clone, Copy)]
enum Says {
    /// Exports fail at once: one line says so.
    ExportFailedOnce,
    /// Exports hang until the program exits: nothing to say before that.
    Nothing,
}

fn assert_exits_promptly(endpoint: &str, fault: &str, says: Says) {
    // One thread per program: the silent-collector case waits out the shutdown timeout.
    std::thread::scope(|scope| {
        for (flavour, binary) in PROGRAMS {
            scope.spawn(move || {
                assert_program_exits_promptly(flavour, binary, endpoint, fault, says)
            });
        }
    });
}

fn assert_program_exits_promptly(
    flavour: &str,
    binary: &str,
    endpoint: &str,
    fault: &str,
    says: Says,
) {
    for protocol in PROTOCOLS {
        let run = program::run(
            binary,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ],
        );
        let context = format!("{fault}, {flavour} main, {protocol}: {run:#?}");
        assert_eq!(run.code, Some(0), "{context}");
        let workload_ms: u64 = run.printed("workload_ms").parse().expect("a number");
        assert!(
            workload_ms < 1000,
            "telemetry calls blocked the program; {context}"
        );
        assert!(
            run.elapsed < SHUTDOWN_TIMEOUT + Duration::from_secs(1),
            "took {:?} to exit; {context}",
            run.elapsed
        );
        let span_export_failures: Vec<&str> = run
            .stderr
            .lines()
            .filter(|line| {
                line.starts_with("otel: warning: spans: exports to ") && line.contains(" fail (")
            })
            .collect();
        match says {
            Says::ExportFailedOnce => {
                assert_eq!(span_export_failures.len(), 1, "{context}");
                assert!(
                    span_export_failures[0]
                        .to_ascii_lowercase()
                        .contains("connection refused"),
                    "the cause is named: {context}"
                );
            }
            Says::Nothing => assert_eq!(span_export_failures.len(), 0, "{context}"),
        }
        for what in ["spans", "log records"] {
            let summary = Summary::of(&run.stderr, what)
                .unwrap_or_else(|| panic!("no {what} loss summary at shutdown: {context}"));
            assert_eq!(summary.delivered, 0, "{what}: {context}");
            assert_eq!(summary.lost, summary.ended, "{what}: {context}");
            assert!(summary.ended > 0, "{what}: {context}");
        }
    }
}

#[test]
fn no_collector_listening() {
    let port = free_port();
    assert_exits_promptly(
        &format!("http://127.0.0.1:{port}"),
        "no collector",
        Says::ExportFailedOnce,
    );
}

#[test]
fn collector_accepts_but_never_answers() {
    let endpoint = silent_collector();
    assert_exits_promptly(&endpoint, "silent collector", Says::Nothing);
}

#[test]
fn a_full_queue_drops_without_blocking_and_says_how_many_at_shutdown() {
    // A collector that never answers: the first batch hangs, the queue fills.
    let endpoint = silent_collector();
    let (_, binary) = PROGRAMS[0];
    let run = program::run(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
            ("OTEL_TEST_FLOOD", "5000"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.printed("flooded"), "5000");
    let workload_ms: u64 = run.printed("workload_ms").parse().expect("a number");
    assert!(
        workload_ms < 1000,
        "a full queue blocked the calls: {run:#?}"
    );
    let summary = Summary::of(&run.stderr, "spans")
        .unwrap_or_else(|| panic!("no loss summary at shutdown: {run:#?}"));
    assert_eq!(
        summary.ended, 5004,
        "the flood and the workload's four: {run:#?}"
    );
    assert_eq!(summary.delivered, 0, "{run:#?}");
    assert_eq!(summary.lost, summary.ended, "{run:#?}");
    // Of the 5,000 flooded spans, at most one batch in the hung export and one queue full
    // were not dropped from a full queue.
    assert!(summary.line.contains("queue full"), "{}", summary.line);
}

/// A full log queue is counted, and the application's own records are never printed as
/// `otel` warnings (the SDK warns about the full queue from inside the log bridge's handling
/// of the application's record).
#[test]
fn a_full_log_queue_never_echoes_the_applications_records() {
    let endpoint = silent_collector();
    let (_, binary) = PROGRAMS[0];
    let run = program::run(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5"),
            ("OTEL_TEST_FLOOD", "3000"),
            ("OTEL_TEST_FLOOD_LOGS", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(!run.stderr.contains("flooded"), "{run:#?}");
    assert!(
        run.stderr.contains(
            "log records: the batch queue is full, so new log records are dropped until \
             exports drain it; the shutdown summary counts them (raise OTEL_BLRP_MAX_QUEUE_SIZE"
        ),
        "{run:#?}"
    );
    let summary = Summary::of(&run.stderr, "log records")
        .unwrap_or_else(|| panic!("no loss summary at shutdown: {run:#?}"));
    assert!(summary.ended >= 3000, "{run:#?}");
    assert_eq!(summary.lost, summary.ended, "{run:#?}");
    assert!(summary.line.contains("queue full"), "{}", summary.line);
}

/// `flush_on_signal` with a collector that never answers: the first SIGTERM starts the final
/// flush, which would wait out the 3 s shutdown timeout; a SIGINT during it ends the program
/// at once, saying so.
#[test]
fn a_second_signal_during_the_final_flush_exits_at_once() {
    use std::io::{BufRead as _, BufReader, Read as _};

    let endpoint = silent_collector();
    let binary = PROGRAMS
        .iter()
        .find(|(f, _)| *f == "tokio-multi")
        .map(|(_, b)| *b)
        .expect("program");
    let mut child = program::command(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_TEST_EXIT", "signal"),
        ],
    )
    .spawn()
    .expect("spawn the program");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while line.trim() != "ready" {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("stdout") > 0,
            "no ready line"
        );
    }
    let kill = |signal: &str| {
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill")
    };
    let first = std::time::Instant::now();
    assert!(kill("-TERM").success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(kill("-INT").success());
    let status = child.wait().expect("the program ends");
    let elapsed = first.elapsed();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        elapsed < Duration::from_millis(1500),
        "ended {elapsed:?} after the first signal, not after the 3 s timeout: {stderr}"
    );
    assert!(
        stderr.contains("a second signal during the final flush"),
        "{stderr}"
    );
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(
        status.signal(),
        Some(15),
        "ended as SIGTERM would have: {status:?}"
    );
}

/// Runs the sync program flooding `spans` annotated calls, each logging one record, against
/// `endpoint` over `protocol`, with batches of 64 every 10 ms and queues large enough that
/// nothing is dropped in them.
fn run_flood(endpoint: &str, protocol: &str, extra: &[(&str, &str)]) -> program::Run {
    let (_, binary) = PROGRAMS[0];
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100000"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
        ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "100000"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "64"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "10"),
        ("OTEL_TEST_FLOOD", "1000"),
        ("OTEL_TEST_FLOOD_LOGS", "1"),
    ];
    env.extend_from_slice(extra);
    program::run(binary, &env)
}

/// Spans and log records: what the receiver accepted plus what the program reported lost is
/// exactly what it ended, the delivered count is what was accepted and the lost count what
/// was refused.
fn assert_exact_accounting(run: &program::Run, receiver: &scripted::Scripted, context: &str) {
    // The flood's spans and the workload's four; the flood's records and the workload's one.
    for (what, tally, emitted) in [
        ("spans", &receiver.traces, 1004),
        ("log records", &receiver.logs, 1001),
    ] {
        let summary = Summary::of(&run.stderr, what)
            .unwrap_or_else(|| panic!("no {what} summary at shutdown: {context}"));
        assert_eq!(summary.ended, emitted, "{what}: {context}");
        assert_eq!(summary.delivered, tally.accepted(), "{what}: {context}");
        assert_eq!(summary.lost, tally.rejected(), "{what}: {context}");
        assert_eq!(
            summary.delivered + summary.lost,
            summary.ended,
            "{what}: {context}"
        );
    }
}

fn lines_saying(run: &program::Run, needle: &str) -> usize {
    run.stderr.lines().filter(|l| l.contains(needle)).count()
}

fn assert_exits_within_the_shutdown_timeout(run: &program::Run, context: &str) {
    assert_eq!(run.code, Some(0), "{context}");
    assert!(
        run.elapsed < SHUTDOWN_TIMEOUT + Duration::from_secs(1),
        "took {:?} to exit; {context}",
        run.elapsed
    );
}

/// A collector going down, up, down and up again (refusing the 1st–2nd and 6th–7th exports
/// of each signal), over every protocol: each outage is said when it starts and when it
/// ends, with what it lost, and the accounting is exact for spans and log records.
#[test]
fn a_flapping_collector_every_item_delivered_or_reported_lost() {
    use scripted::Answer::{Accept, Fail};
    for protocol in PROTOCOLS {
        let receiver = scripted::start(protocol, &[Fail, Fail, Accept, Accept, Accept, Fail, Fail]);
        let run = run_flood(&receiver.endpoint, protocol, &[]);
        let context = format!("{protocol}: {run:#?}");
        assert_exits_within_the_shutdown_timeout(&run, &context);
        assert_exact_accounting(&run, &receiver, &context);
        for what in ["spans", "log records"] {
            let exports = format!("{what}: exports to {}", receiver.endpoint);
            let failures = run
                .stderr
                .lines()
                .filter(|l| l.contains(&exports) && l.contains(" fail ("))
                .count();
            let recoveries = run
                .stderr
                .lines()
                .filter(|l| l.contains(&exports) && l.contains(" recovered after "))
                .count();
            assert_eq!(
                (failures, recoveries),
                (2, 2),
                "{what}: two outages: {context}"
            );
        }
    }
}

/// A refusal the exporter does not retry names the status and, over HTTP, the reason the
/// collector gave; the refused items are counted lost.
#[test]
fn a_refusal_names_the_status_and_the_collectors_reason() {
    use scripted::Answer::BadRequest;
    for protocol in PROTOCOLS {
        let receiver = scripted::start(protocol, &[BadRequest]);
        let run = run_flood(&receiver.endpoint, protocol, &[]);
        let context = format!("{protocol}: {run:#?}");
        assert_exits_within_the_shutdown_timeout(&run, &context);
        assert_exact_accounting(&run, &receiver, &context);
        let said = if *protocol == "grpc" {
            "InvalidArgument".to_owned()
        } else {
            format!("fail (HTTP 400 Bad Request: {})", scripted::REFUSAL_TEXT)
        };
        assert_eq!(lines_saying(&run, &said), 2, "spans and logs: {context}");
    }
}

/// Throttling (429 with `Retry-After`, gRPC UNAVAILABLE), an unavailable collector (503 with
/// `Retry-After`) and a slow one (1.5 s per answer, under the export timeout) lose nothing:
/// the exports are retried or waited for, everything arrives, nothing is said, and the
/// program still exits within its shutdown timeout.
#[test]
fn retried_and_slow_answers_lose_nothing() {
    use scripted::Answer::{Slow, Throttle, Unavailable};
    for answer in [Throttle, Unavailable, Slow] {
        for protocol in PROTOCOLS {
            let receiver = scripted::start(protocol, &[answer]);
            let run = run_flood(&receiver.endpoint, protocol, &[]);
            let context = format!("{answer:?}, {protocol}: {run:#?}");
            assert_exits_within_the_shutdown_timeout(&run, &context);
            assert_eq!(receiver.traces.accepted(), 1004, "{context}");
            assert_eq!(
                receiver.logs.accepted(),
                1001,
                "the flood's records and the workload's one: {context}"
            );
            assert_eq!(lines_saying(&run, "otel: warning"), 0, "{context}");
        }
    }
}

/// Header entries our parser leaves out (no `=`, characters no header can carry) are not
/// sent, though the SDK's exporter reads the variable again with a parser of its own: the
/// collector receives exactly the headers the report lists.
#[test]
fn only_the_resolved_headers_are_sent() {
    for protocol in PROTOCOLS {
        let receiver = scripted::start(protocol, &[]);
        let run = run_flood(
            &receiver.endpoint,
            protocol,
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-kept=yes,x-accent=caf%C3%A9,x-api-key",
            )],
        );
        let context = format!("{protocol}: {run:#?}");
        assert_exits_within_the_shutdown_timeout(&run, &context);
        let headers = receiver
            .first_headers
            .lock()
            .expect("headers")
            .clone()
            .unwrap_or_else(|| panic!("no trace export: {context}"));
        assert!(
            headers.contains(&("x-kept".to_owned(), "yes".to_owned())),
            "{headers:?}; {context}"
        );
        assert!(
            !headers.iter().any(|(name, _)| name == "x-accent"),
            "{headers:?}; {context}"
        );
        assert!(
            headers
                .iter()
                .any(|(name, value)| name == "user-agent"
                    && value.contains("OTel-OTLP-Exporter-Rust")),
            "the exporter's own headers stay: {headers:?}; {context}"
        );
        assert_eq!(
            lines_saying(&run, "entry 2 of 3 (x-accent) has a value with characters"),
            1,
            "{context}"
        );
    }
}

/// A signal's shutdown summary: `spans: N ended, D delivered, L lost (...)`.
#[derive(Debug)]
struct Summary {
    ended: u64,
    delivered: u64,
    lost: u64,
    line: String,
}

impl Summary {
    fn of(stderr: &str, what: &str) -> Option<Summary> {
        let line = stderr.lines().find(|line| {
            line.starts_with(&format!("otel: warning: {what}: ")) && line.contains(" ended, ")
        })?;
        let number = |after: &str| -> Option<u64> {
            let before = line.split(after).next()?;
            before
                .rsplit(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())?
                .parse()
                .ok()
        };
        Some(Summary {
            ended: number(" ended")?,
            delivered: number(" delivered")?,
            lost: number(" lost")?,
            line: line.to_owned(),
        })
    }
}

/// The cause of a failing export is named: a TLS handshake that fails (a server not
/// speaking TLS on an `https://` endpoint) and a collector that does not answer within the
/// export timeout; the endpoint's credentials are not printed.
#[test]
fn the_cause_of_a_failing_export_is_named() {
    let tls = format!(
        "https://user:canary-tls-5525@{}",
        support::collector::plaintext_server()
    );
    let silent = silent_collector();
    let cases = [
        (
            tls.as_str(),
            "http/protobuf",
            "fail (TLS handshake failed (",
        ),
        (
            tls.as_str(),
            "grpc",
            "fail (gRPC Unavailable: TLS handshake failed (",
        ),
        (
            silent.as_str(),
            "http/protobuf",
            "fail (timed out: no answer within 300ms)",
        ),
        (
            silent.as_str(),
            "http/json",
            "fail (timed out: no answer within 300ms)",
        ),
        (
            silent.as_str(),
            "grpc",
            "fail (gRPC Cancelled: timed out: no answer within the export timeout)",
        ),
    ];
    for (endpoint, protocol, says) in cases {
        let (_, binary) = PROGRAMS[0];
        let run = program::run(
            binary,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
            ],
        );
        let context = format!("{endpoint}, {protocol}: {run:#?}");
        assert_exits_within_the_shutdown_timeout(&run, &context);
        for what in ["spans", "log records", "metric exports"] {
            let failure = run
                .stderr
                .lines()
                .find(|l| l.starts_with(&format!("otel: warning: {what}: exports to ")))
                .unwrap_or_else(|| panic!("{what}: no failure line: {context}"));
            assert!(failure.contains(says), "{what}: {failure}; {context}");
        }
        assert!(!run.stderr.contains("canary-tls-5525"), "{context}");
    }
}

/// `OTEL_BSP_EXPORT_TIMEOUT` and `OTEL_BLRP_EXPORT_TIMEOUT` bound each export (the SDK's
/// batch processors read them but leave the bound to the exporter): against a collector
/// that never answers, the span and log exports give up after 300 ms while the metric
/// export, bounded only by the OTLP timeout, does not give up before the program exits.
#[test]
fn the_batch_export_timeouts_bound_each_export() {
    let endpoint = silent_collector();
    let (_, binary) = PROGRAMS[0];
    let run = program::run(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "300"),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "300"),
        ],
    );
    let context = format!("{run:#?}");
    assert_exits_within_the_shutdown_timeout(&run, &context);
    for what in ["spans", "log records"] {
        assert_eq!(
            lines_saying(&run, &format!("{what}: exports to ")),
            1,
            "{what}: {context}"
        );
        assert_eq!(
            lines_saying(&run, "fail (timed out: no answer within 300ms)"),
            2,
            "{context}"
        );
    }
    assert_eq!(
        lines_saying(&run, "metric exports: exports to "),
        0,
        "{context}"
    );
}
