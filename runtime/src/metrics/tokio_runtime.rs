//! `runtime_metrics = true`: the tokio runtime's stable metrics, as observable instruments.
//!
//! tokio's stable API gives the worker count, the alive tasks, the global queue depth, and per
//! worker the busy time and park count; the blocking pool's size needs `--cfg tokio_unstable`
//! and is not recorded.

use opentelemetry::metrics::MeterProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Registers the metrics of the runtime `handle` belongs to with `provider`, under the scope
/// `otel.runtime_metrics`: `tokio.workers`, `tokio.tasks.alive`, `tokio.global_queue.depth`,
/// `tokio.worker.busy_time` (seconds, all workers together) and `tokio.worker.park_count`,
/// each with `tokio.runtime.flavor`.
///
/// `#[otel::main(runtime_metrics = true)]` calls it for `main`'s runtime; call it yourself for
/// another runtime:
///
/// ```no_run
/// # async fn serve() {
/// let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// otel::runtime_metrics::register(&provider, tokio::runtime::Handle::current());
/// # }
/// ```
pub fn register(provider: &(impl MeterProvider + ?Sized), handle: Handle) {
    let meter = provider.meter_with_scope(
        InstrumentationScope::builder("otel.runtime_metrics")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    );
    let flavor = KeyValue::new(
        "tokio.runtime.flavor",
        match handle.runtime_flavor() {
            RuntimeFlavor::CurrentThread => "current_thread",
            _ => "multi_thread",
        },
    );
    let gauges: [RuntimeGauge; 3] = [
        (
            "tokio.workers",
            "{worker}",
            "The number of worker threads of the runtime.",
            |h| h.metrics().num_workers(),
        ),
        (
            "tokio.tasks.alive",
            "{task}",
            "The number of tasks alive in the runtime.",
            |h| h.metrics().num_alive_tasks(),
        ),
        (
            "tokio.global_queue.depth",
            "{task}",
            "The number of tasks in the runtime's global queue.",
            |h| h.metrics().global_queue_depth(),
        ),
    ];
    for (name, unit, description, value) in gauges {
        let (handle, flavor) = (handle.clone(), flavor.clone());
        meter
            .i64_observable_up_down_counter(name)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |observer| {
                let value = i64::try_from(value(&handle)).unwrap_or(i64::MAX);
                observer.observe(value, std::slice::from_ref(&flavor));
            })
            .build();
    }
    #[cfg(target_has_atomic = "64")]
    register_worker_totals(&meter, handle, flavor);
}

/// Busy time and park counts, which tokio keeps only where 64-bit atomics exist.
#[cfg(target_has_atomic = "64")]
fn register_worker_totals(meter: &opentelemetry::metrics::Meter, handle: Handle, flavor: KeyValue) {
    let (busy_handle, busy_flavor) = (handle.clone(), flavor.clone());
    meter
        .f64_observable_counter("tokio.worker.busy_time")
        .with_unit("s")
        .with_description("The time the runtime's workers spent busy, all workers together.")
        .with_callback(move |observer| {
            let metrics = busy_handle.metrics();
            let busy: f64 = (0..metrics.num_workers())
                .map(|worker| metrics.worker_total_busy_duration(worker).as_secs_f64())
                .sum();
            observer.observe(busy, std::slice::from_ref(&busy_flavor));
        })
        .build();
    meter
        .u64_observable_counter("tokio.worker.park_count")
        .with_unit("{park}")
        .with_description("The times the runtime's workers parked, all workers together.")
        .with_callback(move |observer| {
            let metrics = handle.metrics();
            let parks: u64 = (0..metrics.num_workers())
                .map(|worker| metrics.worker_park_count(worker))
                .sum();
            observer.observe(parks, std::slice::from_ref(&flavor));
        })
        .build();
}

/// The provider `runtime_metrics = true` asked runtime metrics for, until a runtime is
/// registered with it.
static WANTED: std::sync::Mutex<Option<opentelemetry_sdk::metrics::SdkMeterProvider>> =
    std::sync::Mutex::new(None);

/// `init` with `runtime_metrics`: registers the current runtime now when there is one, else
/// when `main`'s async body starts ([`observe_current`]).
pub(crate) fn want(provider: opentelemetry_sdk::metrics::SdkMeterProvider) {
    *crate::sync::lock(&WANTED) = Some(provider);
    observe_current();
}

/// Registers the current runtime with the provider that wants it, once.
pub(crate) fn observe_current() {
    let Ok(handle) = Handle::try_current() else {
        return;
    };
    let wanted = crate::sync::lock(&WANTED).take();
    if let Some(provider) = wanted {
        register(&provider, handle);
    }
}

/// An instrument read from one figure: name, unit, description, and how to read it.
type RuntimeGauge = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Handle) -> usize,
);
