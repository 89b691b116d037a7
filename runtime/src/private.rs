//! What macro expansions call. Not a public API: anything here may change in any release.

#[cfg(feature = "sdk")]
pub use crate::config::{
    Compression, Config, Exporter, ProfilerKind, Propagator, Protocol, SamplerKind,
};
#[cfg(feature = "sdk")]
pub use crate::guard::ShutdownGuard;
pub use crate::metrics::{
    CountValue, ErrorTypeOf, Finish, MeasureValue, Measured, MetricFuture, MetricGuard, MetricKind,
    MetricSite, RedSite, UpDownValue,
};
pub use crate::trace::attributes::{
    StaticStr, attribute, attribute_debug, attribute_display, metric_attribute,
    metric_attribute_debug, metric_attribute_display,
};
pub use crate::trace::links::collect as links;
pub use crate::trace::outcome::{Outcome, Returned, error_counts};
pub use crate::trace::{InstrumentedFuture, LiveSpan, SpanGuard, SpanSite, SpanSiteInfo};
pub use opentelemetry::trace::Link;
pub use opentelemetry::trace::SpanKind;
pub use opentelemetry::{Context, KeyValue};
#[cfg(feature = "sdk")]
pub use tokio;

/// The traits an expansion brings into scope (`use recorders::*`) so that method resolution
/// picks the right recording for the return type.
pub mod recorders {
    #[cfg(feature = "anyhow")]
    pub use crate::trace::outcome::RecordAnyhow;
    pub use crate::trace::outcome::{
        RecordBoxedError, RecordDebug, RecordDisplay, RecordNothing, RecordOpaqueError,
        RecordReturned, RecordReturnedOk, RecordStdError,
    };
}

/// `let __otel_guard = init(config);` at the top of an annotated `main`.
#[cfg(feature = "sdk")]
#[inline]
pub fn init(config: Config) -> ShutdownGuard {
    config.init()
}

/// What `parent = <expr>` accepts: a `Context`, or a reference to one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a context to start a span under",
    label = "not an `opentelemetry::Context`",
    note = "`parent` takes an `opentelemetry::Context` or a reference to one, such as \
            `parent = otel::propagation::extract(&message.headers)`"
)]
pub trait ParentContext {
    /// The context, owned.
    fn parent_context(&self) -> Context;
}

impl ParentContext for Context {
    #[inline]
    fn parent_context(&self) -> Context {
        self.clone()
    }
}

impl<T: ParentContext + ?Sized> ParentContext for &T {
    #[inline]
    fn parent_context(&self) -> Context {
        (**self).parent_context()
    }
}

/// `parent = <expr>`: the context an expression gives, owned or borrowed.
#[inline]
pub fn parent_context<C: ParentContext + ?Sized>(parent: &C) -> Context {
    parent.parent_context()
}

/// The body of an instrumented fn as an `FnOnce` closure returning `R`, called where the
/// expansion chooses (`body::<R, _>(move || ...)()` to run it at once): its `return`s and `?`s
/// come back there, the expected type lets `?` pick its error conversion, and `FnOnce` lets it
/// return borrows of what it captured (`&mut self.x`).
#[inline(always)]
pub fn body<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

/// Whether spans may be recorded: the disabled path's cost, one relaxed atomic load (and,
/// with nothing installed, a thread-local countdown to the next look at the global provider).
#[inline(always)]
pub fn spans_enabled() -> bool {
    crate::trace::enabled()
}

/// Runs an `async fn main` body when no runtime attribute is present: a multi-thread tokio
/// runtime, as `#[tokio::main]` would build.
#[cfg(feature = "sdk")]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        // Same contract as `#[tokio::main]`: without a runtime the program cannot start.
        .expect("failed building the tokio runtime for `#[otel::main] async fn main`");
    runtime.block_on(future)
}

/// Makes `provider` the global tracer provider, as `otel::Config::init` installs its own;
/// `sampler` describes its sampler (so its certain decisions are taken without building a
/// span). For the benchmarks, which compare recording paths on one provider.
#[cfg(feature = "sdk")]
pub fn install_tracer_provider(
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
    sampler: SamplerKind,
) {
    crate::trace::installed::install(
        provider,
        Some(crate::trace::sampling::Sampling::of(sampler)),
        None,
    );
}

/// Back to the disabled path, as before any `init`.
#[cfg(feature = "sdk")]
pub fn uninstall_tracer_provider() {
    crate::trace::installed::uninstall();
}

/// Makes `#[otel::metric]` and the metric macros record into `provider`. For the benchmarks.
#[cfg(feature = "sdk")]
pub fn install_meter_provider(provider: opentelemetry_sdk::metrics::SdkMeterProvider) {
    crate::metrics::backend::install(provider);
}

/// An attribute list several instruments share, built only when metrics are recorded.
#[inline(always)]
pub fn attributes_if_enabled<const N: usize>(
    attributes: impl FnOnce() -> [KeyValue; N],
) -> Option<[KeyValue; N]> {
    (crate::metrics::backend::generation() != 0).then(attributes)
}

/// `runtime_metrics = true`: called by `#[otel::main]` at the start of `main`'s async body,
/// inside the runtime, to record that runtime's metrics.
#[cfg(feature = "sdk")]
pub fn observe_runtime() {
    #[cfg(feature = "runtime-metrics")]
    crate::metrics::tokio_runtime::observe_current();
}

/// Defines `$name!()`, which a `#[otel::main]` expansion calls for a key or value that needs
/// the cargo feature `$feature` of this crate: empty when the feature is on, a compile error
/// saying what needs it (`$needs`, "the profiler needs") and naming the feature when it is
/// off (spanned on the key's value).
macro_rules! feature_gate {
    ($name:ident, $feature:tt, $needs:tt) => {
        #[cfg(feature = $feature)]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! $name {
            () => {};
        }

        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! $name {
            () => {
                ::core::compile_error!(::core::concat!(
                    $needs,
                    " the `",
                    $feature,
                    "` feature of otel: otel-compile = { version = \"...\", features = [\"",
                    $feature,
                    "\"] }"
                ));
            };
        }
    };
}

feature_gate!(
    __require_feature_prometheus,
    "prometheus",
    "Prometheus needs"
);
feature_gate!(
    __require_feature_system_metrics,
    "system-metrics",
    "system metrics need"
);
feature_gate!(
    __require_feature_runtime_metrics,
    "runtime-metrics",
    "runtime metrics need"
);
feature_gate!(__require_feature_profiler, "profiler", "the profiler needs");
feature_gate!(
    __require_feature_grpc,
    "grpc",
    "`protocol = \"grpc\"` needs"
);
feature_gate!(
    __require_feature_http_proto,
    "http-proto",
    "`protocol = \"http/protobuf\"` needs"
);
feature_gate!(
    __require_feature_http_json,
    "http-json",
    "`protocol = \"http/json\"` needs"
);
feature_gate!(
    __require_feature_console,
    "console",
    "the console exporter needs"
);
feature_gate!(__require_feature_tls, "tls", "an https:// endpoint needs");

/// `"otlp"` listed as an exporter: a compile error when no OTLP transport is compiled.
#[cfg(feature = "sdk")]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_feature_sdk {
    ($($body:tt)*) => { $($body)* };
}

#[cfg(not(feature = "sdk"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_feature_sdk {
    ($($body:tt)*) => {
        ::core::compile_error!(
            "`#[otel::main]` sets up the OpenTelemetry SDK, which needs the `sdk` feature of otel \
             (on by default; a library's `default-features = false` build leaves it out): \
             otel-compile = { version = \"...\", features = [\"sdk\"] }"
        )
    };
}

#[cfg(feature = "_otlp")]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_feature_otlp {
    () => {};
}

/// `"otlp"` listed as an exporter: a compile error when no OTLP transport is compiled.
#[cfg(not(feature = "_otlp"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_feature_otlp {
    () => {
        ::core::compile_error!(
            "OTLP export needs one of the `grpc`, `http-proto` or `http-json` features of otel: \
             otel-compile = { version = \"...\", features = [\"http-proto\"] }"
        );
    };
}
