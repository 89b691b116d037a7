//! What a program asks for: the [`Config`] builder that `#[otel::main]` expands to.
//!
//! A `Config` only records what the code said. [`Config::init`] resolves it against the
//! `OTEL_*` environment (environment > code > built-in default, per value; see
//! [`resolve`]) and installs the pipelines.

mod env;
mod extensions;
mod report;
pub(crate) mod resolve;
mod value;

use std::time::Duration;

use opentelemetry_sdk::logs::LogProcessor;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::trace::{ShouldSample, SpanExporter, SpanProcessor};

pub(crate) use extensions::{Extensions, LogStep, MetricStep, TraceExtensions};
pub(crate) use resolve::{BatchSettings, Settings, SignalSettings};
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
    pub(crate) build_info: crate::metrics::build_info::BuildInfo,
    pub(crate) system_metrics: Option<bool>,
    pub(crate) profiler: Option<ProfilerKind>,
    pub(crate) profile_dir: Option<std::path::PathBuf>,
    pub(crate) runtime_metrics: Option<bool>,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) log_filter: Option<String>,
    pub(crate) flush_on_signal: Option<bool>,
    pub(crate) subscriber: Option<bool>,
    pub(crate) extensions: Extensions,
}

impl Config {
    /// An empty configuration: everything from the environment or the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// `service.name`. Overridden by `OTEL_SERVICE_NAME` and by `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`. `#[otel::main]` defaults it to the crate name.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self
    }

    /// The service name used when neither the code nor the environment names one.
    #[doc(hidden)]
    pub fn default_service(mut self, name: impl Into<String>) -> Self {
        self.default_service = Some(name.into());
        self
    }

    /// `service.version`. `#[otel::main]` defaults it to the crate version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// `service.namespace`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// `deployment.environment.name`, such as `"production"`.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// One more resource attribute. `OTEL_RESOURCE_ATTRIBUTES` wins for the same key.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// Where spans go (`OTEL_TRACES_EXPORTER`). An empty list or [`Exporter::None`] turns
    /// tracing off.
    pub fn traces(mut self, exporters: impl IntoIterator<Item = Exporter>) -> Self {
        self.traces = Some(exporters.into_iter().collect());
        self
    }

    /// Where metrics go (`OTEL_METRICS_EXPORTER`).
    pub fn metrics(mut self, exporters: impl IntoIterator<Item = Exporter>) -> Self {
        self.metrics = Some(exporters.into_iter().collect());
        self
    }

    /// Where log records go (`OTEL_LOGS_EXPORTER`).
    pub fn logs(mut self, exporters: impl IntoIterator<Item = Exporter>) -> Self {
        self.logs = Some(exporters.into_iter().collect());
        self
    }

    /// The OTLP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`). For HTTP, `/v1/traces`,
    /// `/v1/metrics` and `/v1/logs` are appended per signal.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// How long one OTLP export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// OTLP payload compression (`OTEL_EXPORTER_OTLP_COMPRESSION`).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Which spans are recorded (`OTEL_TRACES_SAMPLER`).
    pub fn sampler(mut self, sampler: SamplerKind) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// The ratio of the ratio-based samplers, from 0 to 1 (`OTEL_TRACES_SAMPLER_ARG`).
    pub fn sample_ratio(mut self, ratio: f64) -> Self {
        self.sample_ratio = Some(ratio);
        self
    }

    /// Context propagation formats (`OTEL_PROPAGATORS`).
    pub fn propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        self.propagators = Some(propagators.into_iter().collect());
        self
    }

    /// How often metrics are pushed (`OTEL_METRIC_EXPORT_INTERVAL`).
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.export_interval = Some(interval);
        self
    }

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
    pub fn prometheus(mut self, host: impl Into<String>, port: u16) -> Self {
        self.prometheus = Some((host.into(), port));
        self
    }

    /// Profiles the program's CPU, linked to its traces (feature `profiler`; Linux):
    /// [`ProfilerKind::Pyroscope`] pushes to `PYROSCOPE_SERVER_ADDRESS`,
    /// [`ProfilerKind::Local`] writes a pprof file and a flamegraph at shutdown.
    ///
    /// ```no_run
    /// let _guard = otel::Config::new()
    ///     .profiler(otel::ProfilerKind::Local)
    ///     .init();
    /// ```
    pub fn profiler(mut self, kind: ProfilerKind) -> Self {
        self.profiler = Some(kind);
        self
    }

    /// Where [`ProfilerKind::Local`] writes its files (`OTEL_PROFILE_DIR` wins; default
    /// `./profiles`).
    pub fn profile_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.profile_dir = Some(dir.into());
        self
    }

    /// Records the semantic-convention `process.*` and `system.*` metrics (feature
    /// `system-metrics`; see [`system_metrics`](crate::system_metrics)). Off by default.
    pub fn system_metrics(mut self, enabled: bool) -> Self {
        self.system_metrics = Some(enabled);
        self
    }

    /// Records the tokio runtime's metrics (feature `runtime-metrics`; see
    /// `otel::runtime_metrics`) for the runtime `init` runs in, or with `#[otel::main]` the
    /// one `main` runs in. Off by default.
    pub fn runtime_metrics(mut self, enabled: bool) -> Self {
        self.runtime_metrics = Some(enabled);
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

    /// The longest the final flush may take when the program exits (default 5 s). All
    /// signals are flushed in parallel within this one bound.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Which `tracing` events become log records, as an `EnvFilter` directive such as
    /// `"info,my_crate=debug"` (`RUST_LOG` wins; default `info`).
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = Some(filter.into());
        self
    }

    /// On SIGINT or SIGTERM, flush telemetry and then end the process as the signal would
    /// have (default off). Leave it off when the program handles those signals itself: its
    /// own shutdown returns from `main` and flushes through the guard.
    pub fn flush_on_signal(mut self, enabled: bool) -> Self {
        self.flush_on_signal = Some(enabled);
        self
    }

    /// Whether to install `otel`'s `tracing` subscriber as the global one (default on). Turn
    /// it off to compose your own subscriber (a JSON formatter, say) with
    /// [`tracing_layer`](crate::tracing_layer), which carries the same bridge.
    pub fn subscriber(mut self, install: bool) -> Self {
        self.subscriber = Some(install);
        self
    }

    /// Adds a span processor to the tracer provider, after the ones the configured exporters
    /// use. Its `on_start` and `on_end` see every span: `#[otel::span]`'s, the `tracing`
    /// bridge's and the OpenTelemetry API's. Adding one turns the tracer provider on even
    /// when `traces = "none"`.
    ///
    /// ```no_run
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
    ///
    /// let spans = InMemorySpanExporter::default();
    /// let _guard = otel::Config::new()
    ///     .traces([otel::Exporter::None])
    ///     .with_span_processor(SimpleSpanProcessor::new(spans.clone()))
    ///     .init();
    /// ```
    pub fn with_span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.extensions
            .traces
            .steps
            .push(Box::new(move |builder, _| {
                builder.with_span_processor(processor)
            }));
        self
    }

    /// Adds a span exporter behind the SDK's `BatchSpanProcessor`, with the same `OTEL_BSP_*`
    /// limits as the OTLP exporter.
    ///
    /// ```no_run
    /// let _guard = otel::Config::new()
    ///     .with_span_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
    ///     .init();
    /// ```
    pub fn with_span_exporter(mut self, exporter: impl SpanExporter + 'static) -> Self {
        self.extensions
            .traces
            .steps
            .push(Box::new(move |builder, limits| {
                builder.with_span_processor(crate::trace::provider::batch(
                    exporter,
                    limits,
                    "the exporter added with Config::with_span_exporter",
                ))
            }));
        self
    }

    /// Replaces the configured sampler (`sampler`, `sample_ratio`, `OTEL_TRACES_SAMPLER`)
    /// with any `ShouldSample`. It sees every span's name, kind and start attributes,
    /// `#[otel::span]`'s included.
    ///
    /// ```no_run
    /// use opentelemetry_sdk::trace::Sampler;
    ///
    /// let _guard = otel::Config::new()
    ///     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1))))
    ///     .init();
    /// ```
    pub fn with_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.extensions.traces.sampler = Some(Box::new(sampler));
        self
    }

    /// Adds a log processor to the logger provider, after the ones the configured exporters
    /// use. Adding one turns the logger provider on even when `logs = "none"`.
    ///
    /// ```no_run
    /// use opentelemetry_sdk::logs::{InMemoryLogExporter, SimpleLogProcessor};
    ///
    /// let logs = InMemoryLogExporter::default();
    /// let _guard = otel::Config::new()
    ///     .with_log_processor(SimpleLogProcessor::new(logs.clone()))
    ///     .init();
    /// ```
    pub fn with_log_processor(mut self, processor: impl LogProcessor + 'static) -> Self {
        self.extensions.logs.push(Box::new(move |builder, _| {
            builder.with_log_processor(processor)
        }));
        self
    }

    /// Adds a metric reader to the meter provider, next to the configured exporters' periodic
    /// readers: a pull exporter, or a `PeriodicReader` on an exporter of your own. Adding one
    /// turns the meter provider on even when `metrics = "none"`.
    ///
    /// ```no_run
    /// use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader};
    ///
    /// let exporter = InMemoryMetricExporter::default();
    /// let _guard = otel::Config::new()
    ///     .with_metric_reader(PeriodicReader::builder(exporter.clone()).build())
    ///     .init();
    /// ```
    pub fn with_metric_reader(mut self, reader: impl MetricReader) -> Self {
        self.extensions
            .metrics
            .push(Box::new(move |builder| builder.with_reader(reader)));
        self
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
