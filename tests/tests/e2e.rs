//! End to end against the real rotel collector: every way of writing `main`, every OTLP
//! protocol, every exit path. Assertions are on what the collector received.

mod support;

use std::time::Duration;

use support::collector::Collector;
use support::program::{self, PROGRAMS, Run};
use support::received;

const PROTOCOLS: &[&str] = &["grpc", "http/protobuf", "http/json"];

fn env<'a>(collector: &'a str, protocol: &'a str, ending: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_TEST_EXIT", ending),
    ]
}

/// Waits for the program's data and asserts the resource, the span tree (parents both ways
/// between API and `tracing` spans), the metric point and the correlated log record.
fn assert_delivered(collector: &Collector, run: &Run, flavour: &str, context: &str) {
    let trace_id = run.printed("trace_id");
    let second_trace_id = run.printed("second_trace_id");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        received::logs(out).iter().any(|l| l.trace_id == trace_id)
            && out.contains("e2e.workload.runs")
            && received::spans(out)
                .iter()
                .any(|s| s.trace_id == second_trace_id)
    });
    let why = || format!("{context}\nprogram: {run:#?}\ncollector received:\n{output}");

    assert!(
        output.contains(&format!("service.name: Str(e2e-{flavour})")),
        "resource service.name; {}",
        why()
    );
    assert!(
        output.contains("service.version: Str(9.9.9)"),
        "resource service.version; {}",
        why()
    );

    let spans = received::spans(&output);
    let outer = received::span(&spans, &trace_id, "e2e.api.outer")
        .unwrap_or_else(|| panic!("span e2e.api.outer missing; {}", why()));
    assert_eq!(outer.parent_id, "", "e2e.api.outer is a root; {}", why());
    assert!(
        outer.text.contains(&format!("e2e.flavour: Str({flavour})")),
        "{}",
        why()
    );
    let inner = received::span(&spans, &trace_id, "e2e.tracing.inner")
        .unwrap_or_else(|| panic!("tracing span inside the API span missing; {}", why()));
    assert_eq!(
        inner.parent_id,
        outer.id,
        "tracing span parented to the API span; {}",
        why()
    );
    let tracing_outer = received::span(&spans, &second_trace_id, "e2e.tracing.outer")
        .unwrap_or_else(|| panic!("span e2e.tracing.outer missing; {}", why()));
    let api_inner = received::span(&spans, &second_trace_id, "e2e.api.inner")
        .unwrap_or_else(|| panic!("API span inside the tracing span missing; {}", why()));
    assert_eq!(
        api_inner.parent_id,
        tracing_outer.id,
        "API span parented to the tracing span; {}",
        why()
    );

    assert!(
        output.contains("Name: e2e.workload.runs"),
        "metric; {}",
        why()
    );
    assert!(
        output.contains(&format!("flavour: Str({flavour})")),
        "metric point attribute; {}",
        why()
    );

    let logs = received::logs(&output);
    let log = logs
        .iter()
        .find(|l| l.body == "Str(e2e log inside spans)")
        .unwrap_or_else(|| panic!("log record missing; {}", why()));
    assert_eq!(
        log.trace_id,
        trace_id,
        "log carries the span's trace id; {}",
        why()
    );
    assert_eq!(
        log.span_id,
        inner.id,
        "log carries the enclosing span's id; {}",
        why()
    );
}

/// The panic hook recorded the panic on the span that was current when it happened.
fn assert_panic_recorded(collector: &Collector) {
    let output = collector.wait_for(Duration::from_secs(10), |out| out.contains("e2e.panicking"));
    let spans = received::spans(&output);
    let span = spans
        .iter()
        .find(|s| s.name == "e2e.panicking")
        .unwrap_or_else(|| panic!("the panicking span was not delivered:\n{output}"));
    assert_eq!(span.status, "STATUS_CODE_ERROR", "{output}");
    assert!(span.text.contains("-> Name: exception"), "{output}");
    assert!(span.text.contains("exception.type: Str(panic)"), "{output}");
    assert!(
        span.text
            .contains("exception.message: Str(the workload panicked on purpose)"),
        "{output}"
    );
}

macro_rules! per_program {
    ($($test:ident => $flavour:literal,)+) => {$(
        mod $test {
            use super::*;

            fn binary() -> &'static str {
                PROGRAMS.iter().find(|(f, _)| *f == $flavour).map(|(_, b)| *b).expect("program")
            }

            #[test]
            fn exports_all_signals_over_every_protocol() {
                for protocol in PROTOCOLS {
                    let collector = Collector::start();
                    let run = program::run_against(&collector, protocol, binary(), &[("OTEL_TEST_EXIT", "return")]);
                    assert_eq!(run.code, Some(0), "{run:#?}");
                    assert_delivered(&collector, &run, $flavour, &format!("protocol {protocol}"));
                }
            }

            #[test]
            fn delivers_the_last_spans_on_err_panic_and_exit() {
                for (ending, code) in [("error", 1), ("panic", 101), ("exit", 3)] {
                    let collector = Collector::start();
                    let run = program::run_against(&collector, "grpc", binary(), &[("OTEL_TEST_EXIT", ending)]);
                    assert_eq!(run.code, Some(code), "exit status after {ending}: {run:#?}");
                    assert_delivered(&collector, &run, $flavour, &format!("ending {ending}"));
                    if ending == "panic" {
                        assert_panic_recorded(&collector);
                    }
                }
            }

            #[test]
            fn flushes_on_sigterm_with_flush_on_signal() {
                let collector = Collector::start();
                let endpoint = collector.endpoint("http/protobuf");
                let run = run_until_signal(binary(), &env(&endpoint, "http/protobuf", "signal"));
                assert_eq!(run.code, None, "ended by the signal: {run:#?}");
                assert_delivered(&collector, &run, $flavour, "SIGTERM");
            }
        }
    )+};
}

per_program! {
    sync_main => "sync",
    tokio_multi_thread_main => "tokio-multi",
    tokio_current_thread_main => "tokio-current",
    async_main_without_runtime_attribute => "async-alone",
}

/// Starts the program, waits for it to print `ready`, sends SIGTERM, and collects the run.
fn run_until_signal(binary: &str, env: &[(&str, &str)]) -> Run {
    use std::io::{BufRead as _, BufReader, Read as _};

    let started = std::time::Instant::now();
    let mut child = program::command(binary, env)
        .spawn()
        .expect("spawn the program");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        let read = stdout
            .read_line(&mut line)
            .expect("read the program's stdout");
        assert!(
            read > 0,
            "the program ended before printing ready:\n{printed}"
        );
        printed.push_str(&line);
        if line.trim() == "ready" {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed");
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("read the rest of stdout");
    printed.push_str(&rest);
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("wait for the program");
    Run {
        code: status.code(),
        stdout: printed,
        stderr,
        elapsed: started.elapsed(),
    }
}

/// `#[otel::span]` errors at the collector: by default an `exception` span event; with
/// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs` a log record instead, with `logs/dup` both.
#[test]
fn span_errors_reach_the_collector_as_events_or_log_records() {
    let collector = Collector::start();
    for (opt_in, expect_event, expect_log) in [
        ("", true, false),
        ("logs", false, true),
        ("logs/dup", true, true),
    ] {
        let run = program::run_against(
            &collector,
            "grpc",
            env!("CARGO_BIN_EXE_span_program"),
            &[("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", opt_in)],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        let trace_id = run.printed("trace_id");
        let output = collector.wait_for(Duration::from_secs(10), |out| {
            let spans = received::spans(out);
            received::span(&spans, &trace_id, "place_order").is_some()
                && received::span(&spans, &trace_id, "charge").is_some()
                && (!expect_log || received::logs(out).iter().any(|l| l.trace_id == trace_id))
        });
        let why = || format!("opt-in {opt_in:?}\nprogram: {run:#?}\ncollector received:\n{output}");
        let spans = received::spans(&output);
        let place =
            received::span(&spans, &trace_id, "place_order").unwrap_or_else(|| panic!("{}", why()));
        let charge =
            received::span(&spans, &trace_id, "charge").unwrap_or_else(|| panic!("{}", why()));
        assert_eq!(charge.parent_id, place.id, "{}", why());
        for span in [place, charge] {
            assert_eq!(span.status, "STATUS_CODE_ERROR", "{}", why());
            assert!(
                span.text.contains("error.type: Str(std::io::error::Error)"),
                "{}",
                why()
            );
            assert_eq!(
                span.text.contains("-> Name: exception"),
                expect_event,
                "{}",
                why()
            );
        }
        assert!(place.text.contains("order.id: Int(42)"), "{}", why());
        assert!(charge.text.contains("SPAN_KIND_CLIENT"), "{}", why());
        let logs: Vec<_> = received::logs(&output)
            .into_iter()
            .filter(|l| l.trace_id == trace_id)
            .collect();
        if expect_log {
            assert_eq!(
                logs.len(),
                2,
                "one exception log record per span; {}",
                why()
            );
            for log in &logs {
                assert!(log.body.contains("card declined"), "{}", why());
                assert!(log.text.contains("exception.type"), "{}", why());
            }
            assert!(logs.iter().any(|l| l.span_id == charge.id), "{}", why());
        } else {
            assert!(logs.is_empty(), "{}", why());
        }
    }

    // Disabled: the functions run, no span exists, so there is no trace id to print.
    let run = program::run_against(
        &collector,
        "grpc",
        env!("CARGO_BIN_EXE_span_program"),
        &[("OTEL_SDK_DISABLED", "true")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.printed("trace_id"), "", "{run:#?}");
}

/// The RED metrics arrive over OTLP under autometrics' names and labels.
#[test]
fn red_metrics_reach_the_collector_under_autometrics_names() {
    let collector = Collector::start();
    let run = program::run_against(
        &collector,
        "http/protobuf",
        env!("CARGO_BIN_EXE_span_program"),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("function.calls.duration") && out.contains("Str(place_order)")
    });
    for expected in [
        "function.calls",
        "function.calls.duration",
        "function: Str(place_order)",
        "module: Str(span_program)",
        "result: Str(error)",
        "service.name: Str(span-program)",
        "error.type: Str(std::io::error::Error)",
    ] {
        assert!(output.contains(expected), "no `{expected}` in:\n{output}");
    }
}

const INCOMING_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_SPAN: &str = "00f067aa0ba902b7";
/// A caller's context with the `sampled` and `random` flags.
const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";

/// Two processes: "shop" serves `/checkout`, which calls "payments" over reqwest (`/pay`) and
/// over tonic (`Charge`), for a caller whose context carries the `random` flag. What the
/// collector receives is one trace, the caller's, with the flag forwarded: shop's server
/// span, its two client spans, and payments' server spans under them, the gRPC one with the
/// annotated handler inside.
#[test]
fn one_trace_crosses_two_services_over_http_and_grpc() {
    use std::io::BufRead as _;

    let collector = Collector::start();
    let endpoint = collector.endpoint("grpc");
    let binary = env!("CARGO_BIN_EXE_services");
    let exporting = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ];
    let mut downstream = program::command(binary, &exporting)
        .envs([
            ("OTEL_TEST_ROLE", "downstream"),
            ("OTEL_SERVICE_NAME", "payments"),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start the downstream service");
    let mut lines = std::io::BufReader::new(downstream.stdout.take().expect("its stdout")).lines();
    let mut address = |key: &str| {
        let line = lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("the downstream service printed no {key}= line"));
        line.strip_prefix(&format!("{key}="))
            .unwrap_or_else(|| panic!("expected {key}=..., got {line}"))
            .to_owned()
    };
    let (http, grpc) = (address("http"), address("grpc"));

    let mut env = exporting.to_vec();
    env.extend([
        ("OTEL_TEST_ROLE", "upstream"),
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_TEST_DOWNSTREAM_HTTP", http.as_str()),
        ("OTEL_TEST_DOWNSTREAM_GRPC", grpc.as_str()),
        ("OTEL_TEST_INCOMING_TRACEPARENT", INCOMING),
    ]);
    let run = program::run(binary, &env);
    let refund = reqwest::blocking::Client::new()
        .post(format!("http://{http}/refund"))
        .send()
        .expect("the downstream answers /refund");
    assert_eq!(refund.status(), 500);
    drop(downstream.stdin.take());
    let ended = downstream
        .wait_with_output()
        .expect("the downstream service ends");
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(ended.status.success(), "downstream: {ended:?}");
    assert_eq!(run.printed("status"), "200 OK", "{run:#?}");
    let trace_id = run.printed("trace_id");

    let output = collector.wait_for(Duration::from_secs(10), |out| {
        received::spans(out)
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .count()
            >= 6
            && out.contains("POST /refund")
    });
    let spans: Vec<_> = received::spans(&output)
        .into_iter()
        .filter(|s| s.trace_id == trace_id)
        .collect();
    let why = || format!("trace {trace_id}; collector received:\n{output}");
    let find = |name: &str, kind: &str| {
        spans
            .iter()
            .find(|s| s.name == name && s.text.contains(kind))
            .unwrap_or_else(|| panic!("no {kind} span {name}; {}", why()))
    };
    let checkout = find("GET /checkout", "SPAN_KIND_SERVER");
    let pay_call = find("POST", "SPAN_KIND_CLIENT");
    let pay = find("POST /pay", "SPAN_KIND_SERVER");
    let charge_call = find("shop.v1.Payments/Charge", "SPAN_KIND_CLIENT");
    let charge = find("shop.v1.Payments/Charge", "SPAN_KIND_SERVER");
    let handler = find("charge", "SPAN_KIND_INTERNAL");
    assert_eq!(trace_id, INCOMING_TRACE, "{}", why());
    assert_eq!(
        checkout.parent_id,
        INCOMING_SPAN,
        "the caller's span; {}",
        why()
    );
    // The caller's `random` flag (Level 2) went on to the next service, as Python's does.
    let forwarded = run.printed("pay_traceparent");
    assert!(
        forwarded.starts_with(&format!("00-{INCOMING_TRACE}-{}-", pay_call.id))
            && forwarded.ends_with("-03"),
        "/pay received {forwarded}; {}",
        why()
    );
    assert_eq!(pay_call.parent_id, checkout.id, "{}", why());
    assert_eq!(pay.parent_id, pay_call.id, "{}", why());
    assert_eq!(charge_call.parent_id, checkout.id, "{}", why());
    assert_eq!(charge.parent_id, charge_call.id, "{}", why());
    assert_eq!(handler.parent_id, charge.id, "{}", why());
    assert!(
        charge.text.contains("rpc.grpc.status_code: Int(0)"),
        "{}",
        why()
    );
    for service in ["service.name: Str(shop)", "service.name: Str(payments)"] {
        assert!(output.contains(service), "{service}; {}", why());
    }
    // Row 4 of the reference comparison: the connection on the client span and metric, and
    // a `User-Agent` sent by a client from `otel::http::client_builder`.
    let (_, port) = http.rsplit_once(':').expect("host:port");
    for expected in [
        "network.protocol.version: Str(1.1)".to_owned(),
        "network.peer.address: Str(127.0.0.1)".to_owned(),
        format!("network.peer.port: Int({port})"),
    ] {
        assert!(pay_call.text.contains(&expected), "{expected}; {}", why());
    }
    // Row 8: the error behind a 500 on the server span (`record_handler_errors`).
    let refund = received::spans(&output)
        .into_iter()
        .find(|s| s.name == "POST /refund")
        .unwrap_or_else(|| panic!("no POST /refund span; {}", why()));
    assert!(
        refund
            .text
            .contains("exception.message: Str(the refund window has closed)")
            && refund
                .text
                .contains("exception.type: Str(std::io::error::Error)")
            && refund.status == "STATUS_CODE_ERROR",
        "{}; {}",
        refund.text,
        why()
    );
    let user_agent = format!("user_agent.original: Str({})", otel::http::USER_AGENT);
    assert!(pay.text.contains(&user_agent), "{user_agent}; {}", why());
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("Name: http.client.request.duration\n")
    });
    let metric = output
        .split("Name: http.client.request.duration\n")
        .nth(1)
        .and_then(|rest| rest.split("Metric #").next())
        .unwrap_or_else(|| panic!("no http.client.request.duration: {output}"));
    assert!(
        metric.contains("network.protocol.version: Str(1.1)")
            && metric.contains(&format!("network.peer.port: Int({port})")),
        "{metric}"
    );
}

/// `system_metrics = true` and `runtime_metrics = true` (with `#[otel::main]` above
/// `#[tokio::main]`, and on an async `main` otel runs itself): the process, system and
/// runtime metrics reach the collector with the program's resource.
#[test]
fn system_and_runtime_metrics_reach_the_collector() {
    for (flavour, expected) in [
        (
            "tokio-multi",
            &[
                "process.cpu.time",
                "process.memory.usage",
                "system.memory.usage",
                "system.network.io",
                "tokio.workers",
                "tokio.tasks.alive",
            ][..],
        ),
        (
            "async-alone",
            &["tokio.workers", "tokio.worker.busy_time"][..],
        ),
    ] {
        let binary = PROGRAMS
            .iter()
            .find(|(f, _)| *f == flavour)
            .map(|(_, b)| *b)
            .expect("program");
        let collector = Collector::start();
        let run = program::run_against(&collector, "grpc", binary, &[("OTEL_TEST_EXIT", "return")]);
        assert_eq!(run.code, Some(0), "{run:#?}");
        let output = collector.wait_for(Duration::from_secs(10), |out| {
            expected
                .iter()
                .all(|name| out.contains(&format!("Name: {name}\n")))
        });
        for name in expected {
            assert!(
                output.contains(&format!("Name: {name}\n")),
                "{flavour}: {name} missing; collector received:\n{output}"
            );
        }
        assert!(
            !output.contains("Name: process.cpu.time\n") || flavour == "tokio-multi",
            "system metrics only where asked for"
        );
    }
}

/// The SDK's own counts of what its batch processors handled, dropped ones included
/// (`otel.sdk.processor.span.processed` with `error.type = queue_full`), reach the
/// collector: the meter provider is installed before the batch processors bind them.
#[test]
fn the_sdks_self_metrics_count_a_full_queue() {
    let collector = Collector::start();
    let run = program::run_against(
        &collector,
        "grpc",
        PROGRAMS[0].1,
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_TEST_FLOOD", "300"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("Name: otel.sdk.processor.span.processed\n") && out.contains("queue_full")
    });
    assert!(
        output.contains("Name: otel.sdk.processor.span.processed\n"),
        "collector received:\n{output}"
    );
    assert!(
        output.contains("error.type: Str(queue_full)"),
        "collector received:\n{output}"
    );
}

/// A service composing its own JSON `fmt` layer with `otel::tracing_layer()`
/// (`subscriber = false`): its JSON stdout and the collector's log records carry the same
/// trace id, and a `log::info!` inside an annotated function arrives as a log record with
/// that function's trace and span ids; `log` records are filtered on their real targets.
/// Every record has its time, its code location, and an event name only when given one.
#[test]
fn a_composed_subscriber_keeps_its_json_logs_and_exports_the_same_records() {
    let collector = Collector::start();
    let run = program::run_against(
        &collector,
        "grpc",
        env!("CARGO_BIN_EXE_composed_subscriber"),
        &[],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let ids = run.printed("checkout_ids");
    let (trace_id, span_id) = ids.split_once(' ').expect("two ids");
    let json: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let printed = json
        .iter()
        .find(|line| line["fields"]["message"] == "order checked out")
        .unwrap_or_else(|| panic!("no JSON log line: {run:#?}"));
    assert_eq!(printed["fields"]["trace_id"], trace_id, "{run:#?}");
    assert!(
        json.iter().any(|line| line["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("logged through the log crate"))),
        "the log crate's record reaches the JSON layer too: {run:#?}"
    );

    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("order checked out")
            && out.contains("logged through the log crate")
            && out.contains("a name of its own")
    });
    let logs = received::logs(&output);
    for body in [
        "Str(order checked out)",
        "Str(order 7 logged through the log crate)",
    ] {
        let log = logs
            .iter()
            .find(|l| l.body == body)
            .unwrap_or_else(|| panic!("{body} missing; collector received:\n{output}"));
        assert_eq!(log.trace_id, trace_id, "{body}: {output}");
        assert_eq!(log.span_id, span_id, "{body}: {output}");
        // Row 1 of the reference comparison: the event's time, no tracing default name, and
        // the code location on the current conventions, for `tracing` and `log` alike.
        let timestamp: u128 = field_of(&log.text, "Timestamp").parse().unwrap_or(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos();
        assert!(
            now - 600_000_000_000 < timestamp && timestamp <= now,
            "{body}: Timestamp {timestamp}: {output}"
        );
        assert!(!log.text.contains("EventName"), "{body}: {output}");
        assert!(
            log.text
                .contains("code.file.path: Str(tests/src/bin/composed_subscriber.rs)"),
            "{body}: {output}"
        );
        assert!(
            log.text.contains("code.line.number: Int("),
            "{body}: {output}"
        );
        assert!(!log.text.contains("log."), "{body}: {output}");
    }
    // Row 6: the resource's host, OS and process attributes, as the reference detects them.
    let resource = output
        .split("ResourceLog #0")
        .nth(1)
        .and_then(|rest| rest.split("ScopeLogs #0").next())
        .unwrap_or_else(|| panic!("no resource of the logs: {output}"));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("Linux");
    let rustc = String::from_utf8(
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .expect("rustc runs")
            .stdout,
    )
    .expect("text");
    let rustc_version = rustc.split_whitespace().nth(1).expect("a version");
    let parent = format!("process.parent_pid: Int({})", std::process::id());
    for expected in [
        format!("os.version: Str({})", kernel.trim()),
        format!("process.runtime.version: Str({rustc_version})"),
        format!("process.runtime.description: Str({})", rustc.trim()),
        "process.command: Str(".to_owned(),
        parent,
    ] {
        assert!(resource.contains(&expected), "{expected}: {resource}");
    }
    match std::fs::read_to_string("/etc/machine-id") {
        Ok(id) => assert!(
            resource.contains(&format!("host.id: Str({})", id.trim())),
            "{resource}"
        ),
        Err(_) => assert!(!resource.contains("host.id"), "{resource}"),
    }
    let named = logs
        .iter()
        .find(|l| l.body == "Str(an event with a name of its own)")
        .unwrap_or_else(|| panic!("the named event is missing: {output}"));
    assert!(named.text.contains("EventName: order.paid\n"), "{output}");
    // `log` records are filtered on their own targets, as `tracing` events are.
    for held_back in ["held back by log_filter", "the export path's own record"] {
        assert!(!output.contains(held_back), "{held_back}: {output}");
        assert!(
            run.stdout.contains(held_back),
            "the JSON layer has no filter: {run:#?}"
        );
    }
}

/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: an `#[otel::span]` attribute and a log record's
/// attribute are cut to the limit at the collector, and the shutdown says how many were cut.
#[test]
fn the_attribute_value_length_limit_cuts_span_and_log_attributes() {
    let collector = Collector::start();
    let run = program::run_against(
        &collector,
        "grpc",
        env!("CARGO_BIN_EXE_composed_subscriber"),
        &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8")],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let ids = run.printed("checkout_ids");
    let (trace_id, _) = ids.split_once(' ').expect("two ids");
    let output = collector.wait_for(Duration::from_secs(10), |out| {
        out.contains("order checked out") && out.contains("Name           : checkout")
    });
    let checkout = received::spans(&output)
        .into_iter()
        .find(|span| span.name == "checkout")
        .unwrap_or_else(|| panic!("no checkout span: {output}"));
    assert!(
        checkout.text.contains("customer: Str(ada-love)\n"),
        "{}",
        checkout.text
    );
    let log = received::logs(&output)
        .into_iter()
        .find(|log| log.body == "Str(order checked out)")
        .unwrap_or_else(|| panic!("no log record: {output}"));
    assert!(
        log.text
            .contains(&format!("trace_id: Str({})\n", &trace_id[..8])),
        "{}",
        log.text
    );
    assert!(
        run.stderr
            .contains("attribute values were longer than their limit"),
        "{run:#?}"
    );
}

/// 3,000 requests with a 300 KB `User-Agent` against a service: its peak resident memory
/// stays within twice that of 3,000 ordinary requests (the value is cut to 2,048 characters
/// before it reaches a span), and no span is lost.
#[test]
fn huge_request_headers_do_not_balloon_the_services_memory() {
    use std::io::BufRead as _;

    let collector = Collector::start();
    let endpoint = collector.endpoint("grpc");
    let peak_rss_kib = |user_agent: &str| -> (u64, String) {
        let mut service = program::command(
            env!("CARGO_BIN_EXE_services"),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_TEST_ROLE", "downstream"),
                ("OTEL_METRICS_EXPORTER", "none"),
            ],
        )
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start the service");
        let mut lines = std::io::BufReader::new(service.stdout.take().expect("its stdout")).lines();
        let http = lines
            .next()
            .and_then(Result::ok)
            .and_then(|line| line.strip_prefix("http=").map(str::to_owned))
            .expect("the service's address");
        let client = reqwest::blocking::Client::new();
        for _ in 0..3_000 {
            let response = client
                .post(format!("http://{http}/pay"))
                .header("user-agent", user_agent)
                .send()
                .expect("an answer");
            assert!(response.status().is_success());
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", service.id()))
            .expect("the service's status");
        let peak = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        drop(service.stdin.take());
        let output = service.wait_with_output().expect("the service ends");
        assert!(output.status.success(), "{output:?}");
        (peak, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ordinary, _) = peak_rss_kib("curl/8.5.0");
    let (huge, stderr) = peak_rss_kib(&"u".repeat(300 * 1024));
    println!("peak resident memory: {ordinary} KiB ordinary, {huge} KiB with 300 KB user agents");
    assert!(
        huge <= 2 * ordinary,
        "peak resident memory {huge} KiB with 300 KB user agents, {ordinary} KiB without"
    );
    assert!(!stderr.contains("lost"), "no span lost: {stderr}");
}

/// A program that installed its own global subscriber before `otel`: one warning says how
/// to compose instead; the program runs on.
#[test]
fn a_preset_global_subscriber_gets_one_warning_saying_how_to_compose() {
    let run = program::run(
        env!("CARGO_BIN_EXE_composed_subscriber"),
        &[
            ("OTEL_TEST_PRESET_SUBSCRIBER", "1"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let hints = run
        .stderr
        .lines()
        .filter(|l| {
            l.contains("a global tracing subscriber is already installed")
                && l.contains("subscriber = false")
                && l.contains("otel::tracing_layer()")
        })
        .count();
    assert_eq!(hints, 1, "{run:#?}");
}

/// The value of the first `name: value` line of a collector block.
fn field_of(block: &str, name: &str) -> String {
    block
        .lines()
        .find_map(|line| line.trim_start().strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_default()
        .trim()
        .to_owned()
}
