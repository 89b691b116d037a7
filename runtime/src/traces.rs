//! The tracer provider: sampler, batch (OTLP) and simple (console) processors.

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor,
};

use crate::config::{Exporter, SamplerKind, Settings};
use crate::diagnostics::warn_once;
use crate::exporter::{console::ConsoleSpanExporter, otlp};

/// Builds the tracer provider, or `None` when traces are off.
pub(crate) fn provider(settings: &Settings, resource: Resource) -> Option<SdkTracerProvider> {
    let signal = &settings.traces;
    if !signal.is_enabled() {
        return None;
    }
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(sampler(settings.sampler.value, settings.sample_ratio.value));
    if signal.uses(Exporter::Otlp) {
        match otlp::span_exporter(signal) {
            Ok(exporter) => {
                let batch = &settings.span_batch;
                let config = BatchConfigBuilder::default()
                    .with_max_queue_size(batch.max_queue_size.value)
                    .with_max_export_batch_size(batch.max_export_batch_size.value)
                    .with_scheduled_delay(batch.schedule_delay.value)
                    .build();
                builder = builder.with_span_processor(
                    BatchSpanProcessor::builder(exporter)
                        .with_batch_config(config)
                        .build(),
                );
            }
            Err(error) => warn_once(&format!("the OTLP span exporter is off: {error}")),
        }
    }
    if signal.uses(Exporter::Console) {
        builder =
            builder.with_span_processor(SimpleSpanProcessor::new(ConsoleSpanExporter::default()));
    }
    Some(builder.build())
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
