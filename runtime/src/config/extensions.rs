//! What a program adds to the providers in code, next to the exporters chosen by keys and
//! `OTEL_*`: span processors and exporters, a sampler, log processors, metric readers.
//!
//! Each addition is kept as a step applied to the SDK's provider builder, so any processor,
//! exporter or reader type works without boxing it into a trait object the SDK does not
//! accept.

use std::fmt;

use opentelemetry_sdk::logs::{LogProcessor, LoggerProviderBuilder};
use opentelemetry_sdk::metrics::MeterProviderBuilder;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::trace::{ShouldSample, SpanExporter, SpanProcessor, TracerProviderBuilder};

use super::Config;
use super::settings::BatchSettings;

/// One addition to the tracer provider; the batch settings are the resolved `OTEL_BSP_*`.
pub(crate) type SpanStep =
    Box<dyn FnOnce(TracerProviderBuilder, &BatchSettings) -> TracerProviderBuilder + Send>;
/// One addition to the meter provider.
pub(crate) type MetricStep = Box<dyn FnOnce(MeterProviderBuilder) -> MeterProviderBuilder + Send>;
/// One addition to the logger provider; the batch settings are the resolved `OTEL_BLRP_*`.
pub(crate) type LogStep =
    Box<dyn FnOnce(LoggerProviderBuilder, &BatchSettings) -> LoggerProviderBuilder + Send>;

/// Additions to the tracer provider.
#[derive(Default)]
pub(crate) struct TraceExtensions {
    /// Span processors and exporters, in the order they were added.
    pub(crate) steps: Vec<SpanStep>,
    /// Replaces the configured sampler.
    pub(crate) sampler: Option<Box<dyn ShouldSample>>,
}

impl TraceExtensions {
    pub(crate) fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Everything added in code.
#[derive(Default)]
pub(crate) struct Extensions {
    pub(crate) traces: TraceExtensions,
    pub(crate) metrics: Vec<MetricStep>,
    pub(crate) logs: Vec<LogStep>,
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("span_processors_and_exporters", &self.traces.steps.len())
            .field("sampler", &self.traces.sampler)
            .field("metric_readers", &self.metrics.len())
            .field("log_processors_and_exporters", &self.logs.len())
            .finish()
    }
}

/// The builder methods that add to the providers.
impl Config {
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
}
