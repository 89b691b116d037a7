//! Per-call cost of measuring a call, every way of writing it, in one run on one machine: a
//! bare call; hand-written SDK code (instruments created once, a counter add and a histogram
//! record with one attribute); `#[otel::metric]` with the same two instruments; the bare
//! `#[otel::metric]` (RED metrics); autometrics' `#[autometrics]`; the `metrics` crate with
//! handles registered once (Prometheus recorder). And with no meter provider installed.
//!
//! ```text
//! cargo bench -p otel-benches --bench metric
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use otel::__private::install_meter_provider;
use otel_benches::*;

/// The same allocator as the span benchmark, for the same reason.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AMOUNT: u64 = 1250;

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    // Not a `&'static str`: the attribute value is a string the call receives.
    let kind = String::from("retail");
    let kind = kind.as_str();

    {
        let mut group = criterion.benchmark_group("metric_no_sdk");
        group.bench_function("bare", |b| {
            b.iter(|| bare(black_box(AMOUNT), black_box(kind)))
        });
        group.bench_function("otel_metric", |b| {
            b.iter(|| macro_metrics(black_box(AMOUNT), black_box(kind)))
        });
        group.bench_function("otel_metric_red", |b| {
            b.iter(|| macro_red(black_box(AMOUNT), black_box(kind)))
        });
        group.finish();
    }

    let provider = meter_provider();
    install_meter_provider(provider.clone());
    let hand = HandInstruments::new(&provider);
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let _ = metrics::set_global_recorder(recorder);
    let handles = MetricsHandles::new(kind);

    let mut group = criterion.benchmark_group("metric");
    group.bench_function("bare", |b| {
        b.iter(|| bare(black_box(AMOUNT), black_box(kind)))
    });
    group.bench_function("hand_written_sdk", |b| {
        b.iter(|| hand_metrics(&hand, black_box(AMOUNT), black_box(kind)))
    });
    group.bench_function("otel_metric", |b| {
        b.iter(|| macro_metrics(black_box(AMOUNT), black_box(kind)))
    });
    group.bench_function("otel_metric_red", |b| {
        b.iter(|| macro_red(black_box(AMOUNT), black_box(kind)))
    });
    group.bench_function("autometrics", |b| {
        b.iter(|| autometrics_red(black_box(AMOUNT), black_box(kind)))
    });
    group.bench_function("metrics_crate_cached_handles", |b| {
        b.iter(|| metrics_crate(&handles, black_box(AMOUNT), black_box(kind)))
    });
    group.finish();

    let _ = provider.shutdown();
    criterion.final_summary();
}
