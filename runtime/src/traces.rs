//! The tracer provider: sampler, batch (OTLP, exported by the span collector thread) and
//! simple (console) processors, shared with the `#[otel::span]` recording path.

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SimpleSpanProcessor};

use crate::config::{Exporter, SamplerKind, Settings};
use crate::diagnostics::warn_once;
use crate::exporter::{console::ConsoleSpanExporter, otlp};
use crate::span::backend::Pipeline;
use crate::span::batch::{BatchLimits, BatchSpanProcessor};
use crate::span::processors::SpanProcessors;
use crate::span::sampling::Sampling;

/// Builds the tracer provider, or `None` when traces are off.
pub(crate) fn pipeline(settings: &Settings, resource: Resource) -> Option<Pipeline> {
    let signal = &settings.traces;
    if !signal.is_enabled() {
        return None;
    }
    let mut processors = SpanProcessors::default();
    let (kind, ratio) = (settings.sampler.value, settings.sample_ratio.value);
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_sampler(sampler(kind, ratio));
    if signal.uses(Exporter::Otlp) {
        match otlp::span_exporter(signal) {
            Ok(exporter) => {
                let batch = &settings.span_batch;
                let limits = BatchLimits {
                    max_queue_size: batch.max_queue_size.value,
                    max_export_batch_size: batch.max_export_batch_size.value,
                    scheduled_delay: batch.schedule_delay.value,
                };
                builder = processors.register(
                    builder,
                    BatchSpanProcessor::new(exporter, limits),
                    &resource,
                );
            }
            Err(error) => warn_once(&format!("the OTLP span exporter is off: {error}")),
        }
    }
    if signal.uses(Exporter::Console) {
        builder = processors.register(
            builder,
            SimpleSpanProcessor::new(ConsoleSpanExporter::default()),
            &resource,
        );
    }
    Some(Pipeline {
        provider: builder.build(),
        processors,
        sampling: Sampling::of(kind),
        ratio,
    })
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
