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

/// An OTLP receiver on a loopback port, over `protocol`, that fails the first `failing`
/// trace exports (HTTP 500, gRPC INTERNAL) and then accepts, counting the spans it accepted.
fn flapping_receiver(protocol: &str, failing: usize) -> (String, Counts, tokio::runtime::Runtime) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use prost::Message as _;

    fn spans(request: &ExportTraceServiceRequest) -> u64 {
        request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len() as u64)
            .sum()
    }

    /// Counts requests, fails the first ones.
    #[derive(Clone)]
    struct Flapping {
        failing: usize,
        requests: Arc<AtomicUsize>,
        accepted: Arc<AtomicU64>,
        rejected: Arc<AtomicU64>,
    }

    impl Flapping {
        fn accept(&self, spans: u64) -> bool {
            if self.requests.fetch_add(1, Ordering::SeqCst) < self.failing {
                self.rejected.fetch_add(spans, Ordering::SeqCst);
                return false;
            }
            self.accepted.fetch_add(spans, Ordering::SeqCst);
            true
        }
    }

    #[tonic::async_trait]
    impl TraceService for Flapping {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            if self.accept(spans(request.get_ref())) {
                Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
            } else {
                Err(tonic::Status::internal("failing on purpose"))
            }
        }
    }

    let accepted = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let flapping = Flapping {
        failing,
        requests: Arc::new(AtomicUsize::new(0)),
        accepted: accepted.clone(),
        rejected: rejected.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let address = listener.local_addr().expect("its address");
    if protocol == "grpc" {
        runtime.spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(flapping))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
    } else {
        let json = protocol == "http/json";
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let flapping = flapping.clone();
                async move {
                    let count = if json {
                        let value: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        value["resourceSpans"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|r| r["scopeSpans"].as_array().cloned().unwrap_or_default())
                            .map(|s| s["spans"].as_array().map_or(0, Vec::len) as u64)
                            .sum()
                    } else {
                        ExportTraceServiceRequest::decode(body).map_or(0, |r| spans(&r))
                    };
                    if flapping.accept(count) {
                        axum::http::StatusCode::OK
                    } else {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    }
                }
            }),
        );
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    (
        format!("http://{address}"),
        Counts { accepted, rejected },
        runtime,
    )
}

/// The spans a receiver accepted and those it answered with an error.
struct Counts {
    accepted: std::sync::Arc<std::sync::atomic::AtomicU64>,
    rejected: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A collector that fails the first exports and then recovers, over every protocol: the
/// failure is said once, the recovery once with what was lost, and the spans it accepted
/// plus those reported lost are exactly the spans the program ended.
#[test]
fn delivered_plus_reported_lost_is_every_span_ended() {
    for protocol in PROTOCOLS {
        let (endpoint, counts, _runtime) = flapping_receiver(protocol, 2);
        let (_, binary) = PROGRAMS[0];
        let run = program::run(
            binary,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_METRICS_EXPORTER", "none"),
                ("OTEL_LOGS_EXPORTER", "none"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "100000"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
                ("OTEL_BSP_SCHEDULE_DELAY", "10"),
                ("OTEL_TEST_FLOOD", "1000"),
            ],
        );
        let context = format!("{protocol}: {run:#?}");
        assert_eq!(run.code, Some(0), "{context}");
        let summary = Summary::of(&run.stderr, "spans")
            .unwrap_or_else(|| panic!("no loss summary at shutdown: {context}"));
        let accepted = counts.accepted.load(std::sync::atomic::Ordering::SeqCst);
        let rejected = counts.rejected.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            summary.ended, 1004,
            "the flood and the workload's four: {context}"
        );
        assert_eq!(
            summary.delivered, accepted,
            "delivered is what was accepted: {context}"
        );
        assert_eq!(
            summary.lost, rejected,
            "lost is what was refused: {context}"
        );
        assert_eq!(summary.delivered + summary.lost, summary.ended, "{context}");
        let says = |needle: &str| run.stderr.lines().filter(|l| l.contains(needle)).count();
        assert_eq!(
            says("spans: exports to "),
            2,
            "one failure, one recovery: {context}"
        );
        assert_eq!(
            says(&format!("recovered after 1s; {rejected} spans lost")),
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
