//! The `rotel` OTLP collector from PyPI, installed into a venv under `target/` on first use and
//! started on free loopback ports. A collector that cannot be installed or started fails the
//! test with the reason: these tests never skip silently.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const ROTEL_VERSION: &str = "0.0.1a15";

/// A running collector; killed on drop.
pub struct Collector {
    child: Child,
    pub grpc_port: u16,
    pub http_port: u16,
    output: PathBuf,
}

impl Collector {
    /// Starts a collector that prints everything it receives, on free loopback ports.
    pub fn start() -> Collector {
        super::loopback::start_on_free_ports("the rotel collector", || {
            let mut collector = Collector::spawn(free_port(), free_port());
            collector.wait_until_listening().map(|()| collector)
        })
    }

    fn spawn(grpc_port: u16, http_port: u16) -> Collector {
        let binary = rotel_binary();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rotel-{grpc_port}"));
        std::fs::create_dir_all(&dir).expect("create the collector's directory");
        let output = dir.join("received.txt");
        let stdout = std::fs::File::create(&output).expect("create the collector's output file");
        let child = Command::new(binary)
            .args(["start", "--exporter", "blackhole"])
            .args([
                "--debug-log",
                "traces",
                "--debug-log",
                "metrics",
                "--debug-log",
                "logs",
            ])
            .args(["--debug-log-verbosity", "detailed"])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel.log"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().expect("clone the output file handle"))
            .stderr(stdout)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start the rotel collector: {e}"));
        Collector {
            child,
            grpc_port,
            http_port,
            output,
        }
    }

    /// Waits until both ports accept connections. An exit before that is returned as the
    /// collector's output and log (the collector itself is gone); a collector still not
    /// listening after 20 s fails the test.
    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in [self.grpc_port, self.http_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Ok(Some(status)) = self.child.try_wait() {
                    let log = self.output.with_file_name("rotel.log");
                    return Err(format!(
                        "exited ({status}) before listening on {} and {}:\n{}\n{}",
                        self.grpc_port,
                        self.http_port,
                        self.output(),
                        std::fs::read_to_string(log).unwrap_or_default()
                    ));
                }
                assert!(
                    Instant::now() < deadline,
                    "the rotel collector did not listen on 127.0.0.1:{port} within 20 s:\n{}",
                    self.output()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// `OTEL_EXPORTER_OTLP_ENDPOINT` for `protocol`.
    pub fn endpoint(&self, protocol: &str) -> String {
        match protocol {
            "grpc" => format!("http://127.0.0.1:{}", self.grpc_port),
            _ => format!("http://127.0.0.1:{}", self.http_port),
        }
    }

    /// Everything the collector printed so far, without colour codes.
    pub fn output(&self) -> String {
        let raw = std::fs::read_to_string(&self.output).unwrap_or_default();
        strip_ansi(&raw)
    }

    /// Waits until `done` holds for the output, up to `timeout`; returns the output either way.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let output = self.output();
            if done(&output) || Instant::now() >= deadline {
                return output;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the collector's files when the test failed: they are the evidence.
        if !std::thread::panicking()
            && let Some(dir) = self.output.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

/// A loopback server that answers every connection in plain HTTP, so a TLS handshake with
/// it fails: put it behind an `https://` endpoint. Its `127.0.0.1:port`.
pub fn plaintext_server() -> String {
    use std::io::{Read as _, Write as _};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.read(&mut [0; 4096]);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    address.to_string()
}

/// The `rotel-agent` binary, installing `rotel` into `target/tmp/rotel-venv` if needed.
pub fn rotel_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(install_rotel).clone()
}

fn install_rotel() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rotel-venv");
    if let Some(binary) = find_agent(&venv) {
        return binary;
    }
    // Several test binaries may get here at once: the installer takes a lock directory.
    let lock = venv.with_extension("installing");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir(&lock).is_err() {
        if let Some(binary) = find_agent(&venv) {
            return binary;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for another rotel install"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = (|| {
        let make_venv = || run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        if let Err(error) = make_venv() {
            // Debian's python3 has no `venv` (ensurepip) without python3-venv: installed here
            // as the database servers are, so the README's test command needs nothing by hand.
            let _ = std::fs::remove_dir_all(&venv);
            otel_local_servers::install_package("python3-venv")
                .map_err(|install| format!("{error}\n{install}"))?;
            make_venv()?;
        }
        run(Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("rotel=={ROTEL_VERSION}")))
    })();
    let _ = std::fs::remove_dir(&lock);
    if let Err(error) = result {
        panic!(
            "could not install the rotel collector (python3 -m venv, then pip install \
             rotel=={ROTEL_VERSION}): {error}"
        );
    }
    find_agent(&venv).unwrap_or_else(|| {
        panic!("rotel=={ROTEL_VERSION} installed, but no rotel-agent binary under {venv:?}")
    })
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn find_agent(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(lib).ok()? {
        let candidate = entry.ok()?.path().join("site-packages/rotel/rotel-agent");
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    None
}
