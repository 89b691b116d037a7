//! What macro expansions call. Not a public API: anything here may change in any release.

pub use crate::config::{Compression, Config, Exporter, Propagator, Protocol, SamplerKind};
pub use crate::guard::ShutdownGuard;
pub use crate::instrument::{
    CountValue, ErrorTypeOf, Finish, MeasureValue, Measured, MetricFuture, MetricGuard, MetricKind,
    MetricSite, RedSite, UpDownValue,
};
pub use crate::span::attributes::{
    StaticStr, attribute, attribute_debug, attribute_display, metric_attribute,
    metric_attribute_debug, metric_attribute_display,
};
pub use crate::span::outcome::{Outcome, Returned, error_counts};
pub use crate::span::{InstrumentedFuture, LiveSpan, SpanGuard, SpanSite};
pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::{Context, KeyValue};
pub use tokio;

/// The traits an expansion brings into scope (`use recorders::*`) so that method resolution
/// picks the right recording for the return type.
pub mod recorders {
    #[cfg(feature = "anyhow")]
    pub use crate::span::outcome::RecordAnyhow;
    pub use crate::span::outcome::{
        RecordBoxedError, RecordDebug, RecordDisplay, RecordNothing, RecordOpaqueError,
        RecordReturned, RecordReturnedOk, RecordStdError,
    };
}

/// `let __otel_guard = init(config);` at the top of an annotated `main`.
#[inline]
pub fn init(config: Config) -> ShutdownGuard {
    config.init()
}

/// Runs a body as a closure, so its `return`s and `?`s come back here. Taking `FnOnce` makes
/// the closure `FnOnce`, which lets it return borrows of what it captured (`&mut self.x`).
#[inline(always)]
pub fn call_once<R, F: FnOnce() -> R>(body: F) -> R {
    body()
}

/// The body of an instrumented fn as an `FnOnce` closure returning `R`: the expected type lets
/// `?` pick its error conversion, and `FnOnce` lets it return borrows of what it captured.
#[inline(always)]
pub fn body<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

/// Whether spans are recorded: the disabled path's only cost, one relaxed atomic load.
#[inline(always)]
pub fn spans_enabled() -> bool {
    crate::span::backend::generation() != 0
}

/// Runs an `async fn main` body when no runtime attribute is present: a multi-thread tokio
/// runtime, as `#[tokio::main]` would build.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        // Same contract as `#[tokio::main]`: without a runtime the program cannot start.
        .expect("failed building the tokio runtime for `#[otel::main] async fn main`");
    runtime.block_on(future)
}

/// Builds the provider of `builder` (its sampler already set, as `sampler` describes) with
/// `processor`, and makes `#[otel::span]` record into it. For the benchmarks, which compare
/// recording paths on one provider.
pub fn install_tracer_provider(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    processor: impl opentelemetry_sdk::trace::SpanProcessor + 'static,
    sampler: SamplerKind,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder().build();
    let mut processors = crate::span::processors::SpanProcessors::default();
    let provider = processors
        .register(
            builder.with_resource(resource.clone()),
            processor,
            &resource,
        )
        .build();
    crate::span::backend::install(
        crate::span::backend::Pipeline {
            provider: provider.clone(),
            processors,
            sampling: crate::span::sampling::Sampling::of(sampler),
            ratio: 1.0,
        },
        crate::span::outcome::ExceptionSignal::SpanEvent,
        None,
    );
    provider
}

/// The batch processor the OTLP pipeline uses, on `exporter`: batches of 512, exported at
/// least every 5 s, at most `max_queue_size` spans waiting. For the benchmarks.
pub fn batch_span_processor(
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    max_queue_size: usize,
) -> impl opentelemetry_sdk::trace::SpanProcessor {
    crate::span::batch::BatchSpanProcessor::new(
        exporter,
        crate::span::batch::BatchLimits {
            max_queue_size,
            max_export_batch_size: 512,
            scheduled_delay: std::time::Duration::from_secs(5),
        },
    )
}

/// Back to the disabled path, as before any `init`.
pub fn uninstall_tracer_provider() {
    crate::span::backend::uninstall();
}

/// Makes `#[otel::metric]` and the metric macros record into `provider`. For the benchmarks.
pub fn install_meter_provider(provider: opentelemetry_sdk::metrics::SdkMeterProvider) {
    crate::instrument::backend::install(provider);
}

/// An attribute list several instruments share, built only when metrics are recorded.
#[inline(always)]
pub fn attributes_if_enabled<const N: usize>(
    attributes: impl FnOnce() -> [KeyValue; N],
) -> Option<[KeyValue; N]> {
    (crate::instrument::backend::generation() != 0).then(attributes)
}
