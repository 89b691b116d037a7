//! The installed provider's span processors, shared between the provider and the
//! `#[otel::span]` recording path.
//!
//! The SDK keeps a provider's processors to itself, so the processors are registered through
//! [`SpanProcessors::register`]: the provider gets a forwarding handle, and the recording path
//! keeps the same processor to hand its finished spans to directly. SDK spans (the `tracing`
//! bridge, the OpenTelemetry API) and `#[otel::span]` spans then meet in one batch queue, one
//! exporter, one flush (for OTLP, the [`BatchSpanProcessor`](super::batch::BatchSpanProcessor)
//! whose exports the collector thread runs).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor, TracerProviderBuilder};

use super::collector;

/// The processors finished `#[otel::span]` spans go to, in registration order.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanProcessors(Vec<Arc<dyn SpanProcessor>>);

impl SpanProcessors {
    /// Adds `processor` to `builder` and keeps it for the recording path. `resource` must be
    /// the one the provider is built with: the processor is given it here, because once
    /// shared it can no longer be changed.
    pub(crate) fn register(
        &mut self,
        builder: TracerProviderBuilder,
        mut processor: impl SpanProcessor + 'static,
        resource: &Resource,
    ) -> TracerProviderBuilder {
        processor.set_resource(resource);
        let processor: Arc<dyn SpanProcessor> = Arc::new(processor);
        self.0.push(processor.clone());
        builder.with_span_processor(Forward(processor))
    }

    /// Hands a finished span to every processor, as the SDK's own span end does.
    pub(crate) fn on_end(&self, span: SpanData) {
        match self.0.as_slice() {
            [] => {}
            [only] => only.on_end(span),
            [all @ .., last] => {
                for processor in all {
                    processor.on_end(span.clone());
                }
                last.on_end(span);
            }
        }
    }
}

/// What the provider holds: the shared processor. `on_start` is forwarded for SDK spans;
/// `#[otel::span]` spans, which are not SDK spans, only reach `on_end`, which is all the
/// batch and simple processors use.
#[derive(Debug)]
struct Forward(Arc<dyn SpanProcessor>);

impl SpanProcessor for Forward {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }

    /// `#[otel::span]` spans still on their way to the processor reach it first.
    fn force_flush(&self) -> OTelSdkResult {
        collector::drain();
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        collector::drain();
        self.0.shutdown_with_timeout(timeout)
    }

    /// Already given by [`SpanProcessors::register`]: the provider's call, made while it is
    /// built, carries the same resource.
    fn set_resource(&mut self, _resource: &Resource) {}
}
