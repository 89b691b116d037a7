//! Shutdown: the guard `init` returns, and the one bounded, parallel flush every exit path
//! (return, `Err`, panic, [`exit`], signals) goes through.

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::diagnostics::warn_once;
use crate::exporter::PrometheusEndpoint;
use crate::profiler::Profiler;

/// The installed providers, until they are shut down.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pub(crate) tracer: Option<SdkTracerProvider>,
    pub(crate) meter: Option<SdkMeterProvider>,
    pub(crate) logger: Option<SdkLoggerProvider>,
    /// Stopped after the providers: a scrape during the flush still answers.
    pub(crate) prometheus: Option<PrometheusEndpoint>,
    /// Stopped beside the providers, delivering its last profile.
    pub(crate) profiler: Option<Profiler>,
    pub(crate) timeout: Duration,
}

static INSTALLED: Mutex<Option<Pipelines>> = Mutex::new(None);

/// Stops the profiler of the pipelines installed now, delivering its last profile: a second
/// `init` must stop it before starting its own, since both would share the process's one
/// `SIGPROF` timer, sample queue and labels (the old one's stop would switch the new one off).
pub(crate) fn stop_installed_profiler() {
    let (profiler, timeout) = match lock().as_mut() {
        Some(installed) => (installed.profiler.take(), installed.timeout),
        None => return,
    };
    if let Some(profiler) = profiler {
        profiler.stop(timeout);
    }
}

/// Makes `pipelines` the ones every exit path flushes. Pipelines installed earlier (a second
/// `init`) are shut down first, so nothing they buffered is lost.
pub(crate) fn register(pipelines: Pipelines) {
    let previous = lock().replace(pipelines);
    if let Some(previous) = previous {
        shut_down(previous);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Pipelines>> {
    crate::sync::lock(&INSTALLED)
}

/// Flushes and shuts down whatever is installed, once; later calls return at once.
pub(crate) fn shutdown_installed() {
    crate::trace::installed::uninstall();
    crate::metrics::backend::uninstall();
    let pipelines = lock().take();
    if let Some(pipelines) = pipelines {
        shut_down(pipelines);
    }
}

/// Shuts the providers down in parallel, each on its own OS thread, and waits at most
/// `timeout` for all of them.
///
/// Own threads because a provider's shutdown blocks until its exporter answers: on the
/// thread of a `current_thread` tokio runtime that would starve the runtime it waits for.
/// A provider still busy at the deadline is abandoned (its thread ends with the process).
fn shut_down(pipelines: Pipelines) {
    let Pipelines {
        tracer,
        meter,
        logger,
        prometheus,
        profiler,
        timeout,
    } = pipelines;
    let deadline = Instant::now() + timeout;
    let (done, results) = mpsc::channel::<(&'static str, OTelSdkResult)>();
    let mut pending: Vec<&'static str> = Vec::new();
    let mut spawn = |name: &'static str, job: Box<dyn FnOnce() -> OTelSdkResult + Send>| {
        let done = done.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("otel-shutdown-{name}"))
            .spawn(move || {
                let _ = done.send((name, job()));
            });
        match spawned {
            Ok(_) => pending.push(name),
            Err(error) => warn_once(&format!("could not flush {name}: {error}")),
        }
    };
    if let Some(tracer) = tracer {
        spawn(
            "traces",
            Box::new(move || tracer.shutdown_with_timeout(timeout)),
        );
    }
    if let Some(meter) = meter {
        spawn(
            "metrics",
            Box::new(move || meter.shutdown_with_timeout(timeout)),
        );
    }
    if let Some(logger) = logger {
        spawn(
            "logs",
            Box::new(move || logger.shutdown_with_timeout(timeout)),
        );
    }
    if let Some(profiler) = profiler {
        spawn(
            "profiles",
            Box::new(move || {
                profiler.stop(timeout);
                Ok(())
            }),
        );
    }
    drop(done);
    let mut flushed = true;
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match results.recv_timeout(left) {
            Ok((name, result)) => {
                pending.retain(|pending| *pending != name);
                let counted_as = match name {
                    "traces" => "spans",
                    "metrics" => "metric exports",
                    "logs" => "log records",
                    other => other,
                };
                // A failed final export was said by its pipeline's ledger, with its cause.
                match result {
                    Err(error) if !crate::delivery::failures_said(counted_as) => {
                        warn_once(&format!("flushing {name} at shutdown failed: {error}"));
                    }
                    _ => {}
                }
            }
            Err(_) => {
                flushed = false;
                warn_once(&format!(
                    "the final flush of {} did not finish within the shutdown timeout of {}; \
                     what it still held is lost",
                    pending.join(" and "),
                    humantime::format_duration(timeout)
                ));
                break;
            }
        }
    }
    crate::delivery::summarize(flushed);
    crate::limits::summarize();
    if let Some(endpoint) = prometheus {
        endpoint.stop(deadline.saturating_duration_since(Instant::now()));
    }
}

/// Flushes all telemetry when dropped: at the end of `main`, on an early `return` or `?`, and
/// while a panic unwinds. Returned by [`Config::init`](crate::Config::init); `#[otel::main]`
/// holds it for the whole of `main`.
///
/// The flush is bounded by the configured `shutdown_timeout` and runs the three signals in
/// parallel, so exiting never hangs on an unreachable collector.
#[derive(Debug)]
#[must_use = "dropping the guard at once shuts telemetry down at once; bind it to a variable"]
pub struct ShutdownGuard {
    _private: (),
}

impl ShutdownGuard {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }

    /// Flushes and shuts down now, instead of at drop.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        shutdown_installed();
    }
}

/// Flushes all telemetry (bounded by the shutdown timeout), then exits the process with
/// `code`. Use it instead of [`std::process::exit`], which skips destructors and so would
/// lose whatever is still buffered.
///
/// ```no_run
/// # fn config_is_valid() -> bool { false }
/// if !config_is_valid() {
///     otel::exit(2);
/// }
/// ```
pub fn exit(code: i32) -> ! {
    shutdown_installed();
    std::process::exit(code)
}
