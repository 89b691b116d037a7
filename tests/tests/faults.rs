//! Faults: the collector absent, or accepting connections and never answering. The program's
//! telemetry calls must not block, and it must exit within `shutdown_timeout` (3 s in the test
//! programs) plus 1 s, in every runtime flavour and over every protocol. A failed span export
//! is said once on stderr, not once per batch.

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
                line.starts_with("otel: warning:")
                    && line.contains("BatchSpanProcessor.ExportError")
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
