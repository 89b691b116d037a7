//! What the profiler costs, in one run: `#[otel::span]` (sync, and async polled twice) with
//! the profiler off and then on (`profiler = "local"` at 100 Hz, labels set on every span and
//! poll), and the throughput of a CPU-bound loop on every core without and with the profiler
//! sampling it, in five interleaved pairs of 2 s runs (the median pair is the figure). Spans go to one provider with the SDK's own `BatchSpanProcessor` on a
//! discarding exporter, as in the span benchmark.
//!
//! ```text
//! cargo bench -p otel-benches --bench profiler
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::Criterion;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel::__private::{SamplerKind, install_tracer_provider};
use otel_benches::{macro_async, macro_span, poll_to_end, sdk_batch_processor};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AMOUNT: u64 = 1250;
const CURRENCY: &str = "EUR";

fn cases(criterion: &mut Criterion, profiler: &str) {
    let mut group = criterion.benchmark_group(format!("profiler_{profiler}"));
    group.bench_function("otel_span", |b| {
        b.iter(|| macro_span(black_box(AMOUNT), black_box(CURRENCY)))
    });
    group.bench_function("otel_span_async_two_polls", |b| {
        b.iter(|| poll_to_end(macro_async(black_box(AMOUNT), black_box(CURRENCY))))
    });
    group.finish();
}

/// Iterations of a CPU-bound loop completed by one thread per core in `for_how_long`.
fn throughput(for_how_long: Duration) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..std::thread::available_parallelism().map_or(2, |n| n.get()))
        .map(|_| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut value = 0u64;
                let mut rounds = 0;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10_000 {
                        value = black_box(value.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                    rounds += 1;
                }
                done.fetch_add(rounds, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(for_how_long);
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }
    done.load(Ordering::Relaxed)
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(sdk_batch_processor())
        .build();
    install_tracer_provider(provider.clone(), SamplerKind::AlwaysOn);

    cases(&mut criterion, "off");
    let profiling = || {
        otel::Config::new()
            .traces([otel::Exporter::None])
            .metrics([otel::Exporter::None])
            .logs([otel::Exporter::None])
            .profiler(otel::ProfilerKind::Local)
            .profile_dir(std::env::temp_dir().join("otel-profiler-bench"))
            .init()
    };
    let guard = profiling();
    // `init` with no trace exporter leaves the bench's provider installed.
    install_tracer_provider(provider.clone(), SamplerKind::AlwaysOn);
    cases(&mut criterion, "on");
    criterion.final_summary();
    drop(guard);

    let busy = Duration::from_secs(2);
    let mut losses = Vec::new();
    for _ in 0..5 {
        let without = throughput(busy);
        let guard = profiling();
        let with = throughput(busy);
        drop(guard);
        losses.push((1.0 - with as f64 / without as f64) * 100.0);
    }
    let _ = provider.shutdown();
    let mut sorted = losses.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "profiler: a CPU-bound loop on every core, {busy:?} without then {busy:?} with the \
         profiler at 100 Hz, five times: {} % fewer rounds with it; median {:.2} %",
        losses
            .iter()
            .map(|loss| format!("{loss:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        sorted[sorted.len() / 2]
    );
}
