//! Running the test programs of `src/bin` as child processes.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The programs, one per way of writing `main`.
pub const PROGRAMS: &[(&str, &str)] = &[
    ("sync", env!("CARGO_BIN_EXE_e2e_sync")),
    ("tokio-multi", env!("CARGO_BIN_EXE_e2e_tokio_multi")),
    ("tokio-current", env!("CARGO_BIN_EXE_e2e_tokio_current")),
    ("async-alone", env!("CARGO_BIN_EXE_e2e_async_alone")),
];

/// What a finished program left behind.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// `key=value` lines the program printed.
    pub fn printed(&self, key: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("the program printed no {key}=...:\n{self:#?}"))
            .to_owned()
    }
}

/// Runs `binary` with a clean `OTEL_*` environment plus `env`, and waits for it.
pub fn run(binary: &str, env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let output = command(binary, env)
        .output()
        .unwrap_or_else(|e| panic!("could not run {binary}: {e}"));
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Runs `binary` exporting to `collector` over `protocol`, with `env` on top.
pub fn run_against(
    collector: &super::collector::Collector,
    protocol: &str,
    binary: &str,
    env: &[(&str, &str)],
) -> Run {
    let endpoint = collector.endpoint(protocol);
    let mut all = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ];
    all.extend_from_slice(env);
    run(binary, &all)
}

/// The command, with every inherited `OTEL_*`/`RUST_LOG` variable removed so the developer's
/// shell cannot change a test's outcome.
pub fn command(binary: &str, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary);
    let inherited: HashMap<String, String> = std::env::vars().collect();
    for key in inherited.keys() {
        if key.starts_with("OTEL_") || key == "RUST_LOG" || key == "RUST_BACKTRACE" {
            command.env_remove(key);
        }
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}
