//! Which tracer provider `#[otel::span]` records into, found cheaply from every call.
//!
//! Spans are always started through the global tracer provider (`opentelemetry::global`),
//! whoever installed it. A generation number, `0` while nothing is known to record, lets a
//! call check "recording at all?" with one relaxed atomic load, and lets each call site cache
//! its tracer until the provider changes:
//!
//! - A provider `otel` installs ([`install`]: `#[otel::main]`, `otel::Config`,
//!   `otel::testing`) takes effect from the next call, through a new generation. Its tracers
//!   are used directly (no boxing) and its sampler's certain decisions are taken without
//!   building a span.
//! - A provider the application installs by hand with `opentelemetry::global` cannot announce
//!   itself: the global API has no hook and no identity. Each thread therefore looks at the
//!   global provider on its first call and then once every
//!   [`CHECK_EVERY`](crate::generation::CHECK_EVERY) calls; a provider
//!   that is not `otel`'s becomes a new generation. A global provider that turns out to record
//!   nothing (the no-op default, or one shut down) puts the calls back on the disabled path.

use std::cell::Cell;
use std::sync::{Arc, OnceLock, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, GlobalTracerProvider};
#[cfg(feature = "sdk")]
use opentelemetry::logs::LoggerProvider as _;
use opentelemetry::trace::TracerProvider;
#[cfg(feature = "sdk")]
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
#[cfg(feature = "sdk")]
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::outcome::ExceptionSignal;
use super::sampling::Sampling;
use crate::generation::Generation;

static GENERATION: Generation = Generation::new();
static INSTALLED: RwLock<Option<Arc<Installed>>> = RwLock::new(None);

thread_local! {
    /// Calls left before this thread looks at the global provider again; `0`: at the next.
    static UNTIL_CHECK: Cell<u32> = const { Cell::new(0) };
    /// Set by [`OwnProvider`] when a tracer is made from it: how a look at the global
    /// provider tells `otel`'s own from one installed by hand.
    static PROBED: Cell<u64> = const { Cell::new(0) };
}

/// What the spans of one generation are started through.
#[derive(Debug)]
pub(crate) struct Installed {
    pub(crate) generation: u64,
    pub(crate) source: Source,
    /// Where exceptions go when `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` asks for log records.
    #[cfg(feature = "sdk")]
    pub(crate) exception_logger: Option<SdkLogger>,
}

/// The provider of a generation.
#[derive(Debug)]
pub(crate) enum Source {
    /// A provider `otel` built: its sampler is known when it is a built-in one.
    #[cfg(feature = "sdk")]
    Own {
        provider: SdkTracerProvider,
        sampling: Option<Sampling>,
    },
    /// The global provider the application installed by hand.
    Global(GlobalTracerProvider),
}

/// The tracer a call site starts its spans with.
#[derive(Debug)]
pub(crate) enum SiteTracer {
    #[cfg(feature = "sdk")]
    Sdk(SdkTracer),
    Global(global::BoxedTracer),
}

impl Installed {
    /// The tracer for `scope`, and the sampler decisions known in advance.
    pub(crate) fn tracer(&self, scope: InstrumentationScope) -> (SiteTracer, Option<Sampling>) {
        match &self.source {
            #[cfg(feature = "sdk")]
            Source::Own { provider, sampling } => (
                SiteTracer::Sdk(provider.tracer_with_scope(scope)),
                *sampling,
            ),
            Source::Global(provider) => {
                (SiteTracer::Global(provider.tracer_with_scope(scope)), None)
            }
        }
    }
}

#[cfg(feature = "sdk")]
/// The global provider as `otel` installs it: the SDK's provider, which says which
/// generation it is whenever a tracer is made from it.
#[derive(Debug)]
struct OwnProvider {
    provider: SdkTracerProvider,
    generation: u64,
}

#[cfg(feature = "sdk")]
impl TracerProvider for OwnProvider {
    type Tracer = SdkTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> SdkTracer {
        PROBED.with(|probed| probed.set(self.generation));
        self.provider.tracer_with_scope(scope)
    }
}

/// Makes `provider` the global tracer provider and the one every call site records into from
/// its next call. `sampling`: its sampler, when it is a built-in one.
#[cfg(feature = "sdk")]
pub(crate) fn install(
    provider: SdkTracerProvider,
    sampling: Option<Sampling>,
    logger_provider: Option<&SdkLoggerProvider>,
) {
    let exception_logger = logger_provider
        .map(|provider| provider.logger_with_scope(InstrumentationScope::builder("otel").build()));
    // Under the lock: generations are published in the order they are numbered.
    let mut slot = write();
    let generation = GENERATION.allocate();
    global::set_tracer_provider(OwnProvider {
        provider: provider.clone(),
        generation,
    });
    *slot = Some(Arc::new(Installed {
        generation,
        source: Source::Own { provider, sampling },
        exception_logger,
    }));
    GENERATION.publish(generation);
}

/// Stops recording: call sites take the disabled path from their next call (until a look at
/// the global provider finds one installed by hand).
#[cfg(feature = "sdk")]
pub(crate) fn uninstall() {
    let mut slot = write();
    GENERATION.clear();
    *slot = None;
}

/// The installed generation, `0` when nothing is known to record. The disabled path's cost.
#[inline(always)]
pub(crate) fn generation() -> u64 {
    GENERATION.current()
}

/// Whether this thread should look at the global provider now (`generation::check_due`).
#[inline(always)]
pub(crate) fn check_due() -> bool {
    crate::generation::check_due(&UNTIL_CHECK)
}

/// Looks at the global provider: a provider other than `otel`'s current one becomes a new
/// generation. Returns the generation to record in, `0` for none.
#[cold]
#[inline(never)]
pub(crate) fn check_global() -> u64 {
    let current = generation();
    let provider = global::tracer_provider();
    PROBED.with(|probed| probed.set(0));
    drop(provider.tracer_with_scope(InstrumentationScope::builder("otel").build()));
    let probed = PROBED.with(Cell::get);
    if probed != 0 {
        // `otel`'s own: the current generation, or one uninstalled at shutdown.
        return if probed == current { current } else { 0 };
    }
    let mut slot = write();
    let latest = generation();
    if latest != current {
        // Another thread (or an install) published while this one looked: theirs is as new.
        return latest;
    }
    let generation = GENERATION.allocate();
    *slot = Some(Arc::new(Installed {
        generation,
        source: Source::Global(provider),
        #[cfg(feature = "sdk")]
        exception_logger: None,
    }));
    GENERATION.publish(generation);
    generation
}

/// A span started in `generation` was a no-op: the global provider records nothing (the
/// default one, or one shut down). Back to the disabled path, unless something newer was
/// installed meanwhile.
#[cold]
pub(crate) fn records_nothing(generation: u64) {
    GENERATION.clear_if(generation);
}

/// What is installed (read off the per-call path: a site's first call in a generation,
/// exception log records).
pub(crate) fn current() -> Option<Arc<Installed>> {
    crate::sync::read(&INSTALLED).clone()
}

fn write() -> std::sync::RwLockWriteGuard<'static, Option<Arc<Installed>>> {
    crate::sync::write(&INSTALLED)
}

/// Where recorded errors go, from `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`, read once.
pub(crate) fn exceptions() -> ExceptionSignal {
    static SIGNAL: OnceLock<ExceptionSignal> = OnceLock::new();
    *SIGNAL.get_or_init(|| {
        ExceptionSignal::parse(std::env::var(ExceptionSignal::VARIABLE).ok().as_deref())
    })
}
