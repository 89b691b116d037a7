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

/// Connections opened by `flood`, each with half a request header that never ends.
const SLOW_CONNECTIONS: usize = 1_100;

/// An attacker's 1,100 connections that send half a header and then nothing, held open: the
/// endpoint keeps at most its connection cap of them (so the program keeps its file
/// descriptors, far from the usual limit of 1,024), and scrapes still answer, at once.
#[test]
fn slow_connections_neither_block_scrapes_nor_take_the_programs_file_descriptors() {
    raise_open_file_limit(SLOW_CONNECTIONS as u64 + 200);
    let port = free_port();
    let child = start(port);
    let pid = child.child.id();
    let baseline = open_descriptors(pid);

    let mut slow = Vec::with_capacity(SLOW_CONNECTIONS);
    for _ in 0..SLOW_CONNECTIONS {
        use std::io::Write as _;
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", port)).expect("the port accepts");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .expect("half a header");
        slow.push(stream);
    }
    // The endpoint has seen them all: its own connections are capped.
    std::thread::sleep(Duration::from_millis(500));
    let during = open_descriptors(pid);
    assert!(
        during <= baseline + 128 + 8,
        "{during} descriptors open with {SLOW_CONNECTIONS} slow connections (baseline {baseline})"
    );

    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .expect("a client");
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let exposition = client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .and_then(reqwest::blocking::Response::text)
            .expect("a scrape answers while the slow connections are held");
        assert!(exposition.contains("function_calls_total"), "{exposition}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    drop(slow);
    let (code, _, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
}

/// `localhost` is served on every address it resolves to (`127.0.0.1`, and `::1` where the
/// hosts file says so).
#[test]
fn localhost_is_served_on_every_address_it_resolves_to() {
    use std::net::ToSocketAddrs as _;
    let port = free_port();
    let port_text = port.to_string();
    let mut child = program::command(
        PROGRAM,
        &[
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "localhost"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", port_text.as_str()),
        ],
    )
    .stdin(Stdio::piped())
    .spawn()
    .expect("start the program");
    let mut stdout = BufReader::new(child.stdout.take().expect("its stdout")).lines();
    assert!(matches!(stdout.next(), Some(Ok(line)) if line == "ready"));
    let running = Running { child, stdout };
    let addresses: Vec<_> = ("localhost", port)
        .to_socket_addrs()
        .expect("localhost resolves")
        .collect();
    assert!(!addresses.is_empty());
    for address in &addresses {
        let exposition = reqwest::blocking::get(format!("http://{address}/metrics"))
            .and_then(reqwest::blocking::Response::text)
            .unwrap_or_else(|error| panic!("{address}: {error}"));
        assert!(exposition.contains("function_calls_total"), "{address}");
    }
    let (code, _, stderr) = finish(running);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("Prometheus"), "no warning: {stderr}");
}

/// Open descriptors of process `pid`.
fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(Iterator::count)
        .unwrap_or(0)
}

/// This process may open `wanted` files (the soft limit raised toward the hard one).
fn raise_open_file_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the structure they are given.
    #[allow(unsafe_code)]
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        assert!(
            limit.rlim_max >= wanted,
            "the hard limit of open files ({}) is below the {wanted} this test needs",
            limit.rlim_max
        );
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
}
