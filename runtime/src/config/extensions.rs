//! What a program adds to the providers in code, next to the exporters chosen by keys and
//! `OTEL_*`: span processors and exporters, a sampler, log processors, metric readers.
//!
//! Each addition is kept as a step applied to the SDK's provider builder, so any processor,
//! exporter or reader type works without boxing it into a trait object the SDK does not
//! accept.

use std::fmt;

use opentelemetry_sdk::logs::LoggerProviderBuilder;
use opentelemetry_sdk::metrics::MeterProviderBuilder;
use opentelemetry_sdk::trace::{ShouldSample, TracerProviderBuilder};

use super::resolve::BatchSettings;

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
