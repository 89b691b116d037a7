//! `metrics = "prometheus"`: a program's `/metrics` scraped by a real Prometheus server,
//! queried as autometrics' dashboards query it, and checked by `promtool`; a port already in
//! use is one warning and the program runs on.

mod support;

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::Duration;

use support::collector::free_port;
use support::program;
use support::prometheus::{Prometheus, promtool_check_metrics};

const PROGRAM: &str = env!("CARGO_BIN_EXE_prometheus_program");

/// The program and the rest of its standard output.
struct Running {
    child: Child,
    stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

/// Starts the program serving on `port`, and waits until it has recorded its first calls.
fn start(port: u16) -> Running {
    let port = port.to_string();
    let mut child = program::command(
        PROGRAM,
        &[
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", port.as_str()),
            ("OTEL_SERVICE_NAME", "checkout-api"),
        ],
    )
    .stdin(Stdio::piped())
    .spawn()
    .expect("start the program");
    let mut stdout = BufReader::new(child.stdout.take().expect("its stdout")).lines();
    let first = stdout.next();
    assert!(
        matches!(&first, Some(Ok(line)) if line == "ready"),
        "the program did not start: {first:?}"
    );
    Running { child, stdout }
}

/// Closes the program's stdin; returns its exit code, the rest of its stdout, and its stderr.
fn finish(mut running: Running) -> (Option<i32>, String, String) {
    drop(running.child.stdin.take());
    let stdout: Vec<String> = running.stdout.by_ref().map_while(Result::ok).collect();
    let output = running.child.wait_with_output().expect("the program ends");
    (
        output.status.code(),
        stdout.join("\n"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn prometheus_scrapes_red_metrics_that_autometrics_queries_find() {
    let port = free_port();
    let child = start(port);
    let exposition = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .and_then(reqwest::blocking::Response::text)
        .expect("the exposition");
    let (valid, verdict) = promtool_check_metrics(&exposition);
    assert!(valid, "promtool check metrics: {verdict}\n{exposition}");
    for name in [
        "# TYPE function_calls_total counter",
        "# TYPE function_calls_duration_seconds histogram",
        "function_calls_duration_seconds_bucket{",
        "# TYPE build_info gauge",
        "target_info{",
    ] {
        assert!(exposition.contains(name), "{name} in:\n{exposition}");
    }

    let server = Prometheus::scraping(&format!("127.0.0.1:{port}"));
    // autometrics' request-rate query: the counter must have grown between two scrapes.
    let rate = server.wait_for_series(
        "sum by (function, module) (rate(function_calls_total[1m]))",
        Duration::from_secs(30),
    );
    assert_eq!(rate[0]["metric"]["function"], "checkout", "{rate:?}");
    assert_eq!(
        rate[0]["metric"]["module"], "prometheus_program",
        "{rate:?}"
    );
    let per_second: f64 = rate[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a rate");
    assert!(per_second > 0.0, "{rate:?}");
    // Its error-ratio query selects on `result`.
    let errors = server.wait_for_series(
        "sum by (function, module) (rate(function_calls_total{result=\"error\"}[1m]))",
        Duration::from_secs(10),
    );
    assert_eq!(errors[0]["metric"]["function"], "checkout", "{errors:?}");
    // Its latency query.
    server.wait_for_series(
        "histogram_quantile(0.99, sum by (le, function, module) \
         (rate(function_calls_duration_seconds_bucket[1m])))",
        Duration::from_secs(10),
    );
    // The build info its dashboards join on.
    let build = server.wait_for_series("build_info", Duration::from_secs(10));
    let labels = &build[0]["metric"];
    assert_eq!(labels["service_name"], "checkout-api", "{build:?}");
    assert_eq!(labels["version"], env!("CARGO_PKG_VERSION"), "{build:?}");
    // Built without a commit or branch in the environment: both are empty, which Prometheus
    // stores as absent; the exposition has them.
    assert!(
        exposition.contains("branch=\"\"") && exposition.contains("commit=\"\""),
        "{exposition}"
    );

    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the endpoint stopped with the program"
    );
    assert!(
        stdout.contains("function.calls counter"),
        "the console exporter beside it printed the same metrics at the end:\n{stdout}"
    );
}

#[test]
fn a_port_in_use_is_one_warning_and_the_program_runs_on() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port();
    let child = start(port);
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("function.calls counter"),
        "the other exporter runs on:\n{stdout}"
    );
    let address = format!("127.0.0.1:{port}");
    let warnings: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains("Prometheus"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning: {stderr}");
    assert!(
        warnings[0].contains(&address) && warnings[0].contains("OTEL_EXPORTER_PROMETHEUS_PORT"),
        "names the address and how to change it: {stderr}"
    );
}
