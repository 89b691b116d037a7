//! The installed meter provider, behind a generation number: `0` while none is installed, so
//! the disabled check is one relaxed atomic load, and a changed number tells call sites their
//! cached instrument belongs to an older provider.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use opentelemetry_sdk::metrics::SdkMeterProvider;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
static PROVIDER: RwLock<Option<(u64, Arc<SdkMeterProvider>)>> = RwLock::new(None);

/// Makes `provider` the one every instrument call site records into from its next call.
pub(crate) fn install(provider: SdkMeterProvider) {
    let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
    *PROVIDER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((generation, Arc::new(provider)));
    GENERATION.store(generation, Ordering::Release);
}

/// Stops recording: call sites take the disabled path from their next call.
pub(crate) fn uninstall() {
    GENERATION.store(0, Ordering::Release);
    *PROVIDER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

/// The installed generation, `0` when metrics are off.
#[inline(always)]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// The installed provider and its generation (read when a call site makes its instrument).
pub(crate) fn current() -> Option<(u64, Arc<SdkMeterProvider>)> {
    PROVIDER
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}
