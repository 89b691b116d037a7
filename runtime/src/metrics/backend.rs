//! The installed meter provider, behind a generation number: `0` while none is installed, so
//! the disabled check is one relaxed atomic load, and a changed number tells call sites their
//! cached instrument belongs to an older provider.

use std::sync::{Arc, RwLock};

use opentelemetry_sdk::metrics::SdkMeterProvider;

use crate::generation::Generation;

static GENERATION: Generation = Generation::new();
static PROVIDER: RwLock<Option<(u64, Arc<SdkMeterProvider>)>> = RwLock::new(None);

/// Makes `provider` the one every instrument call site records into from its next call.
pub(crate) fn install(provider: SdkMeterProvider) {
    let generation = GENERATION.allocate();
    *crate::sync::write(&PROVIDER) = Some((generation, Arc::new(provider)));
    GENERATION.publish(generation);
}

/// Stops recording: call sites take the disabled path from their next call.
pub(crate) fn uninstall() {
    GENERATION.clear();
    *crate::sync::write(&PROVIDER) = None;
}

/// The installed generation, `0` when metrics are off.
#[inline(always)]
pub(crate) fn generation() -> u64 {
    GENERATION.current()
}

/// The installed provider and its generation (read when a call site makes its instrument).
pub(crate) fn current() -> Option<(u64, Arc<SdkMeterProvider>)> {
    crate::sync::read(&PROVIDER).clone()
}
