//! Which meter provider `#[otel::metric]` and the metric macros record into, behind a
//! generation number: `0` while nothing is known to record, so the disabled check is one
//! relaxed atomic load, and a changed number tells call sites their cached instrument belongs
//! to an older provider.
//!
//! As for spans (`trace::installed`): a provider `otel` installs takes effect from the next
//! call; a global meter provider the application installed by hand is found by each thread on
//! its first call and then once every [`CHECK_EVERY`](crate::generation::CHECK_EVERY) calls,
//! so an annotated library records into whatever SDK the application set up.

use std::cell::Cell;
use std::sync::{Arc, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::global;
use opentelemetry::metrics::{Meter, MeterProvider};

use crate::generation::Generation;

type Provider = Arc<dyn MeterProvider + Send + Sync>;

static GENERATION: Generation = Generation::new();
static PROVIDER: RwLock<Option<(u64, Provider)>> = RwLock::new(None);

thread_local! {
    /// Calls left before this thread looks at the global provider again; `0`: at the next.
    static UNTIL_CHECK: Cell<u32> = const { Cell::new(0) };
    /// Set by [`OwnProvider`] when a meter is made from it: how a look at the global provider
    /// tells `otel`'s own from one installed by hand.
    static PROBED: Cell<u64> = const { Cell::new(0) };
}

/// The global provider as `otel` installs it: the SDK's, saying which generation it is
/// whenever a meter is made from it.
#[cfg(feature = "sdk")]
#[derive(Debug)]
struct OwnProvider {
    provider: opentelemetry_sdk::metrics::SdkMeterProvider,
    generation: u64,
}

#[cfg(feature = "sdk")]
impl MeterProvider for OwnProvider {
    fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        PROBED.with(|probed| probed.set(self.generation));
        self.provider.meter_with_scope(scope)
    }
}

/// Makes `provider` the global meter provider and the one every instrument call site records
/// into from its next call.
#[cfg(feature = "sdk")]
pub(crate) fn install(provider: opentelemetry_sdk::metrics::SdkMeterProvider) {
    // Under the lock: generations are published in the order they are numbered.
    let mut slot = crate::sync::write(&PROVIDER);
    let generation = GENERATION.allocate();
    global::set_meter_provider(OwnProvider {
        provider: provider.clone(),
        generation,
    });
    *slot = Some((generation, Arc::new(provider)));
    GENERATION.publish(generation);
}

/// Stops recording: call sites take the disabled path from their next call (until a look at
/// the global provider finds one installed by hand).
#[cfg(feature = "sdk")]
pub(crate) fn uninstall() {
    let mut slot = crate::sync::write(&PROVIDER);
    GENERATION.clear();
    *slot = None;
}

/// The generation to record in, `0` when metrics are off: one relaxed load, and on a thread's
/// first call and every [`CHECK_EVERY`](crate::generation::CHECK_EVERY)th a look at the global provider.
#[inline(always)]
pub(crate) fn generation() -> u64 {
    let current = GENERATION.current();
    if crate::generation::check_due(&UNTIL_CHECK) {
        check_global(current)
    } else {
        current
    }
}

/// Looks at the global provider: one other than `otel`'s current one becomes a new
/// generation.
#[cold]
#[inline(never)]
fn check_global(current: u64) -> u64 {
    let provider = global::meter_provider();
    // The API's default provider, a no-op, is a zero-sized type: recording into it would only
    // cost. (The API offers no other way to tell it apart; an SDK provider has state.)
    if std::mem::size_of_val(&*provider) == 0 {
        return current;
    }
    PROBED.with(|probed| probed.set(0));
    drop(provider.meter_with_scope(InstrumentationScope::builder("otel").build()));
    let probed = PROBED.with(Cell::get);
    if probed != 0 {
        // `otel`'s own: the current generation, or one uninstalled at shutdown.
        return if probed == current { current } else { 0 };
    }
    let mut slot = crate::sync::write(&PROVIDER);
    if let Some((generation, installed)) = &*slot
        && Arc::ptr_eq(installed, &provider)
    {
        return *generation;
    }
    let latest = GENERATION.current();
    if latest != current {
        // Another thread (or an install) published while this one looked: theirs is as new.
        return latest;
    }
    let generation = GENERATION.allocate();
    *slot = Some((generation, provider));
    GENERATION.publish(generation);
    generation
}

/// The provider of the current generation and its number (read when a call site makes its
/// instrument).
pub(crate) fn current() -> Option<(u64, Provider)> {
    crate::sync::read(&PROVIDER).clone()
}
