//! Faults: the collector absent, or accepting connections and never answering. The program's
//! telemetry calls must not block, and it must exit within `shutdown_timeout` (3 s in the test
//! programs) plus 1 s, in every runtime flavour and over every protocol. A failed span export
//! is said once on stderr, not once per batch. Spans beyond a full batch queue are dropped
//! without blocking, and their number is said at shutdown.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::collector::free_port;
use support::program::{self, PROGRAMS};

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);
const PROTOCOLS: &[&str] = &["grpc", "http/protobuf", "http/json"];

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
        let span_export_failures = run
            .stderr
            .lines()
            .filter(|line| {
                line.starts_with("otel: warning: spans: exports to ") && line.contains(" fail (")
            })
            .count();
        match says {
            Says::ExportFailedOnce => assert_eq!(span_export_failures, 1, "{context}"),
            Says::Nothing => assert_eq!(span_export_failures, 0, "{context}"),
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
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    // Accept every connection and hold it open without reading or answering.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    assert_exits_promptly(
        &format!("http://127.0.0.1:{port}"),
        "silent collector",
        Says::Nothing,
    );
}

#[test]
fn a_full_queue_drops_without_blocking_and_says_how_many_at_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    // A collector that never answers: the first batch hangs, the queue fills.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let endpoint = format!("http://127.0.0.1:{port}");
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

/// `flush_on_signal` with a collector that never answers: the first SIGTERM starts the final
/// flush, which would wait out the 3 s shutdown timeout; a SIGINT during it ends the program
/// at once, saying so.
#[test]
fn a_second_signal_during_the_final_flush_exits_at_once() {
    use std::io::{BufRead as _, BufReader, Read as _};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let endpoint = format!("http://127.0.0.1:{port}");
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

/// An OTLP/HTTP receiver on a loopback port that answers the first `failing` trace exports
/// with 500, then accepts, counting the spans it accepted.
fn flapping_receiver(
    failing: usize,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    tokio::runtime::Runtime,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message as _;

    let accepted = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let address = listener.local_addr().expect("its address");
    let counted = accepted.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (counted, requests) = (counted.clone(), requests.clone());
            async move {
                if requests.fetch_add(1, Ordering::SeqCst) < failing {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                let spans: usize = ExportTraceServiceRequest::decode(body)
                    .map(|request| {
                        request
                            .resource_spans
                            .iter()
                            .flat_map(|r| &r.scope_spans)
                            .map(|s| s.spans.len())
                            .sum()
                    })
                    .unwrap_or(0);
                counted.fetch_add(spans as u64, Ordering::SeqCst);
                axum::http::StatusCode::OK
            }
        }),
    );
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), accepted, runtime)
}

/// A collector that fails the first exports and then recovers: the failure is said once, the
/// recovery once with what was lost, and the spans it accepted plus those reported lost are
/// exactly the spans the program ended.
#[test]
fn delivered_plus_reported_lost_is_every_span_ended() {
    let (endpoint, accepted, _runtime) = flapping_receiver(2);
    let (_, binary) = PROGRAMS[0];
    let run = program::run(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100000"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
            ("OTEL_TEST_FLOOD", "1000"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let summary = Summary::of(&run.stderr, "spans")
        .unwrap_or_else(|| panic!("no loss summary at shutdown: {run:#?}"));
    let accepted = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        summary.ended, 1004,
        "the flood and the workload's four: {run:#?}"
    );
    assert_eq!(
        summary.delivered, accepted,
        "delivered is what the collector accepted: {run:#?}"
    );
    assert_eq!(summary.delivered + summary.lost, summary.ended, "{run:#?}");
    assert_eq!(summary.lost, 128, "the two failed batches of 64: {run:#?}");
    let says = |needle: &str| run.stderr.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        says("spans: exports to "),
        2,
        "one failure line, one recovery line: {run:#?}"
    );
    assert_eq!(
        says(&format!(
            "spans: exports to {endpoint}/v1/traces recovered after 1s; 128 spans lost"
        )),
        1,
        "{run:#?}"
    );
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
