//! The resolved configuration: each value with where it came from ([`Source`]), the
//! per-signal OTLP settings, the batch limits, the profiler's settings.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::value::{Compression, Exporter, ProfilerKind, Propagator, Protocol, SamplerKind};

/// Where a resolved value came from, for the debug report and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The named environment variable.
    Env(String),
    /// `#[otel::main]` or the [`Config`] builder.
    Code,
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "from {name}"),
            Self::Code => f.write_str("from code"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

impl<T> Resolved<T> {
    pub(crate) fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// One signal's exporter settings.
#[derive(Debug, Clone)]
pub(crate) struct SignalSettings {
    pub(crate) exporters: Resolved<Vec<Exporter>>,
    pub(crate) protocol: Resolved<Protocol>,
    /// The full URL the exporter sends to (for HTTP, with `/v1/<signal>` appended).
    pub(crate) endpoint: Resolved<String>,
    pub(crate) headers: Resolved<Vec<(String, String)>>,
    pub(crate) timeout: Resolved<Duration>,
    pub(crate) compression: Resolved<Compression>,
    /// A PEM file of CA certificates to trust for TLS.
    pub(crate) certificate: Option<Resolved<PathBuf>>,
}

impl SignalSettings {
    pub(crate) fn uses(&self, exporter: Exporter) -> bool {
        self.exporters.value.contains(&exporter)
    }

    pub(crate) fn is_enabled(&self) -> bool {
        Exporter::active(&self.exporters.value).next().is_some()
    }
}

/// A credential: its `Debug` form never shows it.
#[derive(Clone, PartialEq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The profiler and where its profiles go (`PYROSCOPE_*`, `OTEL_PROFILE_DIR`).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "profiler"), allow(dead_code))]
pub(crate) struct ProfilerSettings {
    pub(crate) kind: Resolved<ProfilerKind>,
    /// The Pyroscope server's base URL.
    pub(crate) server: Resolved<String>,
    pub(crate) auth_token: Option<Secret>,
    /// User and password.
    pub(crate) basic_auth: Option<(String, Secret)>,
    pub(crate) tenant: Option<String>,
    /// Samples per second of CPU time.
    pub(crate) sample_rate: Resolved<u32>,
    /// Where the local profiler writes its files.
    pub(crate) dir: Resolved<PathBuf>,
}

/// Batch processor limits (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs).
#[derive(Debug, Clone)]
pub(crate) struct BatchSettings {
    pub(crate) schedule_delay: Resolved<Duration>,
    pub(crate) max_queue_size: Resolved<usize>,
    pub(crate) max_export_batch_size: Resolved<usize>,
}

/// Everything that gets installed, fully resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `OTEL_SDK_DISABLED`: install nothing.
    pub(crate) disabled: Resolved<bool>,
    /// The resource, in order; later entries have already overridden earlier ones.
    pub(crate) resource: Vec<(String, Resolved<String>)>,
    pub(crate) traces: SignalSettings,
    pub(crate) metrics: SignalSettings,
    pub(crate) logs: SignalSettings,
    /// The built-in sampler and its ratio (unused when the code set its own sampler).
    pub(crate) sampler: Resolved<SamplerKind>,
    pub(crate) sample_ratio: Resolved<f64>,
    pub(crate) propagators: Resolved<Vec<Propagator>>,
    /// The batch processors' limits: `OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs.
    pub(crate) span_batch: BatchSettings,
    pub(crate) log_batch: BatchSettings,
    /// How often metrics are pushed.
    pub(crate) export_interval: Resolved<Duration>,
    /// Where the Prometheus endpoint listens, `host:port`.
    pub(crate) prometheus_host: Resolved<String>,
    pub(crate) prometheus_port: Resolved<u16>,
    /// The opt-in instruments: process and system, and the tokio runtime's.
    pub(crate) system_metrics: Resolved<bool>,
    pub(crate) runtime_metrics: Resolved<bool>,
    pub(crate) profiler: ProfilerSettings,
    /// The bound on the final flush of all signals.
    pub(crate) shutdown_timeout: Resolved<Duration>,
    /// Which `tracing` events and spans the bridge takes.
    pub(crate) log_filter: Resolved<String>,
    /// Flush on SIGINT/SIGTERM, then end as the signal would.
    pub(crate) flush_on_signal: Resolved<bool>,
    /// Whether `otel`'s `tracing` subscriber is installed as the global one.
    pub(crate) subscriber: Resolved<bool>,
    /// `OTEL_LOG_LEVEL=debug`: print the effective configuration.
    pub(crate) debug_report: bool,
    /// Credentials found while resolving, which no output may show.
    pub(crate) secrets: Vec<String>,
}

impl<T> Resolved<T> {
    /// The value borrowed, with its source.
    pub(crate) fn as_ref(&self) -> Resolved<&T> {
        Resolved::new(&self.value, self.source.clone())
    }
}

impl<T> Resolved<&T> {
    /// The borrowed value turned into another, with its source.
    pub(crate) fn map<U>(self, f: impl FnOnce(&T) -> U) -> Resolved<U> {
        Resolved::new(f(self.value), self.source)
    }
}

/// Headers, displayed by key only: their values are secrets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeaderList(pub(crate) Vec<(String, String)>);

impl fmt::Display for HeaderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are secrets: only their keys are ever shown.
        let keys: Vec<&str> = self.0.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "[{}]", keys.join(", "))
    }
}
