//! `system_metrics = true`: the semantic-convention `process.*` and `system.*` metrics, as
//! observable instruments read on each collection.
//!
//! The instruments of one source (the process, the CPUs, memory, network interfaces, disks)
//! share one reading per collection: a `Source` is read again when one of its instruments
//! is observed a second time, which is the next collection, so nothing is read that no
//! instrument asks for and nothing is read twice for one export. Process and CPU-mode figures
//! come from `/proc` (procfs, Linux); memory, network, disk and file-system figures from
//! sysinfo, on every platform it supports.

mod host;
#[cfg(target_os = "linux")]
mod process;

use std::sync::{Arc, Mutex};

use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::MeterProvider;

/// Registers every process and system instrument with `provider`, under the scope
/// `otel.system_metrics`. They are observed on each collection of each reader for as long as
/// the provider lives.
///
/// `#[otel::main(system_metrics = true)]` and [`Config::system_metrics`](crate::Config::system_metrics)
/// call it for the provider `otel` installs; call it yourself for a provider of your own:
///
/// ```no_run
/// let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// otel::system_metrics::register(&provider);
/// ```
pub fn register(provider: &(impl MeterProvider + ?Sized)) {
    let meter = provider.meter_with_scope(
        InstrumentationScope::builder("otel.system_metrics")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    );
    #[cfg(target_os = "linux")]
    process::register(&meter);
    host::register(&meter);
}

/// One source of figures, read at most once per collection.
pub(crate) struct Source<S> {
    state: Mutex<Reading<S>>,
}

struct Reading<S> {
    sample: S,
    /// The instruments observed since the last reading, one bit each.
    observed: u64,
}

/// How a source reads itself.
pub(crate) trait Sample: Send + 'static {
    fn read(&mut self);
}

impl<S: Sample> Source<S> {
    pub(crate) fn new(sample: S) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Reading {
                sample,
                // Every bit set: the first observation reads.
                observed: u64::MAX,
            }),
        })
    }

    /// Runs `observe` on a reading that is fresh for this collection: read again when the
    /// instrument numbered `instrument` (below 64) was already observed since the last one.
    pub(crate) fn with(&self, instrument: u32, observe: impl FnOnce(&S)) {
        let mut state = crate::sync::lock(&self.state);
        let bit = 1u64 << instrument;
        if state.observed & bit != 0 {
            state.sample.read();
            state.observed = 0;
        }
        state.observed |= bit;
        observe(&state.sample);
    }
}

/// The meter's instruments of one source are numbered in registration order.
pub(crate) struct Numbering(u32);

impl Numbering {
    pub(crate) fn new() -> Self {
        Self(0)
    }

    pub(crate) fn next(&mut self) -> u32 {
        let number = self.0;
        self.0 += 1;
        number
    }
}
