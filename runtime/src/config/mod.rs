//! What a program asks for: the [`Config`] builder that `#[otel::main]` expands to.
//!
//! A `Config` only records what the code said. [`Config::init`] resolves it against the
//! `OTEL_*` environment (environment > code > built-in default, per value) into the
//! [`Settings`] that are installed: `resolve.rs` for the whole, `signal.rs`, `endpoint.rs`,
//! `batch.rs`, `resource.rs` and `profiling.rs` for each concern, `settings.rs` for the
//! resolved types, `report.rs` for the debug report. `extensions.rs` holds what the code adds
//! to the providers.

mod batch;
pub(crate) mod endpoint;
mod env;
mod extensions;
mod profiling;
mod report;
mod resolve;
mod resource;
mod settings;
mod signal;
#[cfg(test)]
mod tests;
mod value;

use std::time::Duration;

pub(crate) use extensions::{Extensions, LogStep, MetricStep, TraceExtensions};
#[cfg(feature = "profiler")]
pub(crate) use settings::ProfilerSettings;
pub(crate) use settings::{BatchSettings, Settings, SignalSettings};
pub use value::{Compression, Exporter, ProfilerKind, Propagator, Protocol, SamplerKind};

/// The telemetry set-up of a program, as the code states it.
///
/// Every value is optional: what the code leaves unset comes from the standard `OTEL_*`
/// environment variables or a built-in default, and an environment variable always wins over
/// the code, so operators can reconfigure a binary without rebuilding it.
///
/// ```no_run
/// use std::time::Duration;
///
/// fn main() {
///     let _guard = otel::Config::new()
///         .service("payment-api")
///         .environment("staging")
///         .traces([otel::Exporter::Otlp, otel::Exporter::Console])
///         .protocol(otel::Protocol::Grpc)
///         .shutdown_timeout(Duration::from_secs(2))
///         .init();
///     // ... the program; telemetry is flushed when `_guard` is dropped.
/// }
/// ```
#[derive(Debug, Default)]
#[must_use = "a Config does nothing until `.init()` is called"]
pub struct Config {
    pub(crate) service: Option<String>,
    pub(crate) default_service: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) traces: Option<Vec<Exporter>>,
    pub(crate) metrics: Option<Vec<Exporter>>,
    pub(crate) logs: Option<Vec<Exporter>>,
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<Compression>,
    pub(crate) sampler: Option<SamplerKind>,
    pub(crate) sample_ratio: Option<f64>,
    pub(crate) propagators: Option<Vec<Propagator>>,
    pub(crate) export_interval: Option<Duration>,
    pub(crate) prometheus: Option<(String, u16)>,
    pub(crate) system_metrics: Option<bool>,
    pub(crate) profiler: Option<ProfilerKind>,
    pub(crate) profile_dir: Option<std::path::PathBuf>,
    pub(crate) runtime_metrics: Option<bool>,
    /// The commit and branch for the `build_info` metric.
    pub(crate) build_info: crate::metrics::build_info::BuildInfo,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) log_filter: Option<String>,
    pub(crate) flush_on_signal: Option<bool>,
    pub(crate) subscriber: Option<bool>,
    pub(crate) extensions: Extensions,
}

/// `Config`'s plain setters: each keeps the code's value of the key it is named after.
macro_rules! setters {
    ($($(#[$attr:meta])* $name:ident($($value:ident: $ty:ty),+) => $stored:expr;)*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, $($value: $ty),+) -> Self {
                self.$name = Some($stored);
                self
            }
        )*
    };
}

impl Config {
    /// An empty configuration: everything from the environment or the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// `service.name`. Overridden by `OTEL_SERVICE_NAME` and by `service.name` in
        /// `OTEL_RESOURCE_ATTRIBUTES`. `#[otel::main]` defaults it to the crate name.
        service(name: impl Into<String>) => name.into();

        /// The service name used when neither the code nor the environment names one.
        #[doc(hidden)]
        default_service(name: impl Into<String>) => name.into();

        /// `service.version`. `#[otel::main]` defaults it to the crate version.
        version(version: impl Into<String>) => version.into();

        /// `service.namespace`.
        namespace(namespace: impl Into<String>) => namespace.into();

        /// `deployment.environment.name`, such as `"production"`.
        environment(environment: impl Into<String>) => environment.into();

        /// Where spans go (`OTEL_TRACES_EXPORTER`). An empty list or [`Exporter::None`] turns
        /// tracing off.
        traces(exporters: impl IntoIterator<Item = Exporter>) => exporters.into_iter().collect();

        /// Where metrics go (`OTEL_METRICS_EXPORTER`).
        metrics(exporters: impl IntoIterator<Item = Exporter>) => exporters.into_iter().collect();

        /// Where log records go (`OTEL_LOGS_EXPORTER`).
        logs(exporters: impl IntoIterator<Item = Exporter>) => exporters.into_iter().collect();

        /// The OTLP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). For HTTP, `/v1/traces`,
        /// `/v1/metrics` and `/v1/logs` are appended per signal.
        endpoint(endpoint: impl Into<String>) => endpoint.into();

        /// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
        protocol(protocol: Protocol) => protocol;

        /// How long one OTLP export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`).
        timeout(timeout: Duration) => timeout;

        /// OTLP payload compression (`OTEL_EXPORTER_OTLP_COMPRESSION`).
        compression(compression: Compression) => compression;

        /// Which spans are recorded (`OTEL_TRACES_SAMPLER`).
        sampler(sampler: SamplerKind) => sampler;

        /// The ratio of the ratio-based samplers, from 0 to 1 (`OTEL_TRACES_SAMPLER_ARG`).
        sample_ratio(ratio: f64) => ratio;

        /// Context propagation formats (`OTEL_PROPAGATORS`).
        propagators(propagators: impl IntoIterator<Item = Propagator>) => propagators.into_iter().collect();

        /// How often metrics are pushed (`OTEL_METRIC_EXPORT_INTERVAL`).
        export_interval(interval: Duration) => interval;

        /// Where the Prometheus endpoint listens when metrics go to [`Exporter::Prometheus`]
        /// (default `localhost:9464`; `OTEL_EXPORTER_PROMETHEUS_HOST` and
        /// `OTEL_EXPORTER_PROMETHEUS_PORT` win).
        ///
        /// ```no_run
        /// let _guard = otel::Config::new()
        ///     .metrics([otel::Exporter::Prometheus, otel::Exporter::Otlp])
        ///     .prometheus("0.0.0.0", 9464)
        ///     .init();
        /// ```
        prometheus(host: impl Into<String>, port: u16) => (host.into(), port);

        /// Profiles the program's CPU, linked to its traces (feature `profiler`; Linux):
        /// [`ProfilerKind::Pyroscope`] pushes to `PYROSCOPE_SERVER_ADDRESS`,
        /// [`ProfilerKind::Local`] writes a pprof file and a flamegraph at shutdown.
        ///
        /// ```no_run
        /// let _guard = otel::Config::new()
        ///     .profiler(otel::ProfilerKind::Local)
        ///     .init();
        /// ```
        profiler(kind: ProfilerKind) => kind;

        /// Where [`ProfilerKind::Local`] writes its files (`OTEL_PROFILE_DIR` wins; default
        /// `./profiles`).
        profile_dir(dir: impl Into<std::path::PathBuf>) => dir.into();

        /// Records the semantic-convention `process.*` and `system.*` metrics (feature
        /// `system-metrics`; see [`system_metrics`](crate::system_metrics)). Off by default.
        system_metrics(enabled: bool) => enabled;

        /// Records the tokio runtime's metrics (feature `runtime-metrics`; see
        /// `otel::runtime_metrics`) for the runtime `init` runs in, or with `#[otel::main]` the
        /// one `main` runs in. Off by default.
        runtime_metrics(enabled: bool) => enabled;

        /// The longest the final flush may take when the program exits (default 5 s). All
        /// signals are flushed in parallel within this one bound.
        shutdown_timeout(timeout: Duration) => timeout;

        /// Which `tracing` events become log records, as an `EnvFilter` directive such as
        /// `"info,my_crate=debug"` (`RUST_LOG` wins; default `info`).
        log_filter(filter: impl Into<String>) => filter.into();

        /// On SIGINT or SIGTERM, flush telemetry and then end the process as the signal would
        /// have (default off). Leave it off when the program handles those signals itself: its
        /// own shutdown returns from `main` and flushes through the guard.
        flush_on_signal(enabled: bool) => enabled;

        /// Whether to install `otel`'s `tracing` subscriber as the global one (default on). Turn
        /// it off to compose your own subscriber (a JSON formatter, say) with
        /// [`tracing_layer`](crate::tracing_layer), which carries the same bridge.
        subscriber(install: bool) => install;
    }

    /// One more resource attribute. `OTEL_RESOURCE_ATTRIBUTES` wins for the same key.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// The commit the program was built from, for the `build_info` metric (empty when not
    /// set). `#[otel::main]` takes it from the build environment: the first of
    /// `OTEL_BUILD_COMMIT`, `VERGEN_GIT_SHA`, `GIT_COMMIT` and `GITHUB_SHA` set when the
    /// crate was compiled.
    ///
    /// ```no_run
    /// let _guard = otel::Config::new()
    ///     .commit(option_env!("GIT_COMMIT").unwrap_or_default())
    ///     .branch(option_env!("GIT_BRANCH").unwrap_or_default())
    ///     .init();
    /// ```
    pub fn commit(mut self, commit: impl Into<String>) -> Self {
        self.build_info.commit = commit.into();
        self
    }

    /// The branch the program was built from, for the `build_info` metric. `#[otel::main]`
    /// takes the first of `OTEL_BUILD_BRANCH`, `VERGEN_GIT_BRANCH`, `GIT_BRANCH` and
    /// `GITHUB_REF_NAME` set at compile time.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.build_info.branch = branch.into();
        self
    }

    /// The first commit and branch set among what the build environment offered.
    #[doc(hidden)]
    pub fn build_env<const C: usize, const B: usize>(
        self,
        commits: [Option<&str>; C],
        branches: [Option<&str>; B],
    ) -> Self {
        let first = |values: &[Option<&str>]| {
            values
                .iter()
                .flatten()
                .map(|value| value.trim())
                .find(|value| !value.is_empty())
                .unwrap_or_default()
                .to_owned()
        };
        self.commit(first(&commits)).branch(first(&branches))
    }

    /// Resolves this configuration against the environment, installs the global tracer, meter
    /// and logger providers, the propagators and the `tracing` subscriber, and returns the
    /// guard that flushes everything when dropped.
    ///
    /// Never panics and never fails: a value that cannot be used is reported once on stderr
    /// and replaced by its default; a pipeline that cannot be built is reported and left out.
    pub fn init(self) -> crate::ShutdownGuard {
        crate::init::install(self)
    }
}
