//! A real Prometheus server (Debian's `prometheus` package, installed on first use when the
//! tests run as root, as the database servers are) scraping one target every second, and
//! `promtool`. A binary that cannot be installed fails the test with the reason.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::collector::free_port;

/// A running Prometheus server; killed on drop.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Prometheus {
    /// Starts a server that scrapes `http://{target}/metrics` every second, on a free port.
    pub fn scraping(target: &str) -> Prometheus {
        super::loopback::start_on_free_ports("prometheus", || {
            let mut server = Prometheus::spawn(free_port(), target);
            server.wait_until_ready().map(|()| server)
        })
    }

    fn spawn(port: u16, target: &str) -> Prometheus {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prometheus-{port}"));
        std::fs::create_dir_all(&dir).expect("create the server's directory");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
                 - job_name: otel\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write the server's configuration");
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("create its log");
        let child = Command::new(binary("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start prometheus: {e}"));
        Prometheus { child, port, dir }
    }

    /// Waits until the server says it is ready. An exit before that is returned with the
    /// server's log; a server still not ready after 30 s fails the test.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("http://127.0.0.1:{}/-/ready", self.port);
        while !reqwest::blocking::get(&url).is_ok_and(|r| r.status().is_success()) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "exited ({status}) before it was ready on port {}:\n{}",
                    self.port,
                    self.log()
                ));
            }
            assert!(
                Instant::now() < deadline,
                "prometheus was not ready within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// The result of an instant query, as the HTTP API's JSON.
    pub fn query(&self, query: &str) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let url = reqwest::Url::parse_with_params(&url, [("query", query)]).expect("a query URL");
        let text = reqwest::blocking::get(url)
            .and_then(reqwest::blocking::Response::text)
            .unwrap_or_else(|e| panic!("query {query}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("query {query}: {e}: {text}"))
    }

    /// Waits until `query` returns at least one series, up to `timeout`; returns the series.
    pub fn wait_for_series(&self, query: &str, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let answer = self.query(query);
            let series = answer["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !series.is_empty() {
                return series;
            }
            assert!(
                Instant::now() < deadline,
                "no series for {query} within {timeout:?}; last answer {answer}\nprometheus \
                 log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `promtool check metrics` on `exposition`: its verdict, and what it printed.
pub fn promtool_check_metrics(exposition: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(binary("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start promtool: {e}"));
    child
        .stdin
        .take()
        .expect("its stdin")
        .write_all(exposition.as_bytes())
        .expect("write the exposition");
    let output = child.wait_with_output().expect("promtool ends");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// `name` from Debian's `prometheus` package, installed by the project's test set-up when it
/// is missing (as root; otherwise the failure names the command).
fn binary(name: &str) -> PathBuf {
    otel_local_servers::installed_program(name, "prometheus")
        .unwrap_or_else(|error| panic!("{error}"))
}
