//! The installed span backend. A generation number, `0` while nothing is installed, lets every
//! call site check "recording at all?" with one relaxed atomic load, and notice a newly
//! installed provider (tests, a second `init`) without being bound to the old one.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::LoggerProvider as _;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::trace::{Config, SdkTracerProvider, SpanLimits};

use super::outcome::ExceptionSignal;
use super::processors::SpanProcessors;
use super::sampling::Sampling;
use super::{clock, collector};

static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The installed [`Sampling`], readable without the lock on every call.
static SAMPLING: AtomicU8 = AtomicU8::new(0);
/// The installed [`ExceptionSignal`], read on every recorded error.
static EXCEPTIONS: AtomicU8 = AtomicU8::new(0);
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
static BACKEND: RwLock<Option<Arc<Backend>>> = RwLock::new(None);

/// A tracer provider as `#[otel::span]` records into it: its processors, shared with it, and
/// the sampler it was built with.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) processors: SpanProcessors,
    pub(crate) sampling: Sampling,
    /// The ratio of a `TraceIdRatio` sampler.
    pub(crate) ratio: f64,
}

/// What spans are recorded into.
#[derive(Debug)]
pub(crate) struct Backend {
    pub(crate) generation: u64,
    /// Kept so the provider (and its export thread) lives as long as spans record into it.
    _provider: SdkTracerProvider,
    pub(crate) processors: SpanProcessors,
    pub(crate) ratio: f64,
    /// The provider's limits: built without explicit ones, it reads them from the
    /// environment as [`Config::default`] does.
    pub(crate) limits: SpanLimits,
    /// Where exceptions go when `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` asks for log records.
    pub(crate) exception_logger: Option<SdkLogger>,
}

/// Makes `pipeline` the one every call site records into from its next call.
pub(crate) fn install(
    pipeline: Pipeline,
    exceptions: ExceptionSignal,
    logger_provider: Option<&SdkLoggerProvider>,
) {
    // Spans of the backend being replaced go to its processors first.
    collector::drain();
    clock::calibrate();
    let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
    let exception_logger = logger_provider
        .map(|provider| provider.logger_with_scope(InstrumentationScope::builder("otel").build()));
    let sampling = pipeline.sampling;
    let backend = Arc::new(Backend {
        generation,
        _provider: pipeline.provider,
        processors: pipeline.processors,
        ratio: pipeline.ratio,
        limits: Config::default().span_limits,
        exception_logger,
    });
    SAMPLING.store(sampling.to_u8(), Ordering::Relaxed);
    EXCEPTIONS.store(exceptions as u8, Ordering::Relaxed);
    *write() = Some(backend);
    GENERATION.store(generation, Ordering::Release);
}

/// Stops recording: call sites take the disabled path from their next call. Spans that
/// ended before are delivered, while their backend can still be found.
pub(crate) fn uninstall() {
    GENERATION.store(0, Ordering::Release);
    collector::drain();
    collector::report_dropped();
    *write() = None;
}

/// The installed generation, `0` when spans are off. The disabled path's only cost.
#[inline(always)]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// The installed sampler's certain decisions.
#[inline]
pub(crate) fn sampling() -> Sampling {
    Sampling::from_u8(SAMPLING.load(Ordering::Relaxed))
}

/// Where recorded errors go.
#[inline]
pub(crate) fn exceptions() -> ExceptionSignal {
    ExceptionSignal::from_u8(EXCEPTIONS.load(Ordering::Relaxed))
}

/// The installed backend (read off the per-call path: a site's first call, errors).
pub(crate) fn current() -> Option<Arc<Backend>> {
    BACKEND
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn write() -> std::sync::RwLockWriteGuard<'static, Option<Arc<Backend>>> {
    BACKEND
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
