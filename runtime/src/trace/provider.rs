//! The tracer provider `otel` builds: the configured sampler (or the application's), the
//! SDK's `BatchSpanProcessor` for OTLP, a simple processor for the console, and whatever
//! processors and exporters the application added through [`Config`](crate::Config).

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanExporter,
};

use crate::config::{BatchSettings, Exporter, SamplerKind, Settings, TraceExtensions};
use crate::delivery::{CountedSpanExporter, CountedSpans, Ledger};
use crate::diagnostics::warn_once;
#[cfg(feature = "console")]
use crate::exporter::console::ConsoleSpanExporter;
#[cfg(feature = "_otlp")]
use crate::exporter::otlp;

use super::sampling::Sampling;

/// A built tracer provider, and its sampler's certain decisions when it is a built-in one.
#[derive(Debug)]
pub(crate) struct TracePipeline {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) sampling: Option<Sampling>,
}

/// Builds the tracer provider, or `None` when traces are off and nothing was added in code.
pub(crate) fn pipeline(
    settings: &Settings,
    resource: Resource,
    extensions: TraceExtensions,
) -> Option<TracePipeline> {
    let signal = &settings.traces;
    if !signal.is_enabled() && extensions.is_empty() {
        return None;
    }
    let TraceExtensions {
        steps,
        sampler: custom_sampler,
    } = extensions;
    let (kind, ratio) = (settings.sampler.value, settings.sample_ratio.value);
    let sampling = custom_sampler.is_none().then(|| Sampling::of(kind));
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    builder = match custom_sampler {
        Some(sampler) => builder.with_sampler(sampler),
        None => builder.with_sampler(sampler(kind, ratio)),
    };
    // Resolution lists OTLP only when a transport is compiled.
    #[cfg(feature = "_otlp")]
    if signal.uses(Exporter::Otlp) {
        match otlp::span_exporter(signal) {
            Ok(exporter) => {
                builder = builder.with_span_processor(batch(
                    exporter,
                    &settings.span_batch,
                    &signal.endpoint.value,
                ));
            }
            Err(error) => warn_once(&format!("the OTLP span exporter is off: {error}")),
        }
    }
    #[cfg(feature = "console")]
    if signal.uses(Exporter::Console) {
        builder = builder.with_span_processor(opentelemetry_sdk::trace::SimpleSpanProcessor::new(
            ConsoleSpanExporter::default(),
        ));
    }
    for step in steps {
        builder = step(builder, &settings.span_batch);
    }
    Some(TracePipeline {
        provider: builder.build(),
        sampling,
    })
}

/// The SDK's batch processor with the resolved `OTEL_BSP_*` limits, counting what it is
/// given and what its exports to `destination` deliver and lose (see [`crate::delivery`]).
/// (The SDK's builder also reads `OTEL_BSP_EXPORT_TIMEOUT` and
/// `OTEL_BSP_MAX_CONCURRENT_EXPORTS`, which this processor does not use; resolution warns.)
pub(crate) fn batch(
    exporter: impl SpanExporter + 'static,
    limits: &BatchSettings,
    destination: &str,
) -> CountedSpans<BatchSpanProcessor> {
    let ledger = Ledger::register("spans", destination);
    let exporter = CountedSpanExporter {
        inner: exporter,
        ledger: ledger.clone(),
    };
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(limits.max_queue_size.value)
        .with_scheduled_delay(limits.schedule_delay.value)
        .with_max_export_batch_size(limits.max_export_batch_size.value)
        .build();
    CountedSpans {
        inner: BatchSpanProcessor::builder(exporter)
            .with_batch_config(config)
            .build(),
        ledger,
    }
}

fn sampler(kind: SamplerKind, ratio: f64) -> Sampler {
    match kind {
        SamplerKind::AlwaysOn => Sampler::AlwaysOn,
        SamplerKind::AlwaysOff => Sampler::AlwaysOff,
        SamplerKind::TraceIdRatio => Sampler::TraceIdRatioBased(ratio),
        SamplerKind::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerKind::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerKind::ParentBasedTraceIdRatio => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
        }
    }
}
