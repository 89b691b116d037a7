//! Per-call cost of a span, every way of writing it, measured in one run on one machine:
//! a bare call, hand-written SDK code (tracer cached, two attributes), `#[otel::span]`,
//! `#[tracing::instrument]` through tracing-opentelemetry on the same provider, and fastrace
//! `#[trace]` with its OpenTelemetry reporter. Cases: sampled (batch processor, discarding
//! exporter), the `Err` path, an async fn polled twice, unsampled (`AlwaysOff`), and no SDK
//! installed. `hand_written_sdk_with_code_location` is the hand-written span carrying what
//! `#[otel::span]` adds to every span (`code.function.name`, `code.file.path`,
//! `code.line.number`): the same information, written by hand.
//!
//! Every case records into one provider with the SDK's own `BatchSpanProcessor` (its own export
//! thread, the queue large enough that nothing is dropped while criterion measures), as
//! hand-written SDK code runs without `otel`; `#[otel::span]` reaches it through the global
//! provider, as in an application.
//!
//! ```text
//! cargo bench -p otel-benches      # with RUST_BACKTRACE unset
//! ```

use std::borrow::Cow;
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use fastrace::collector::{Config as FastraceConfig, SpanContext as FastraceContext};
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use otel::__private::{SamplerKind, install_tracer_provider, uninstall_tracer_provider};
use otel_benches::*;
use tracing_subscriber::layer::SubscriberExt as _;

/// mimalloc for every case: with glibc's allocator, the export thread freeing spans the
/// calling thread allocated makes runs of the same case land up to 2.5x apart. One allocator
/// for all cases keeps the ratios comparable.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AMOUNT: u64 = 1250;
const CURRENCY: &str = "EUR";

/// One provider, the global one for `#[otel::span]`, with a tracing dispatcher on it.
struct Setup {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    dispatch: tracing::Dispatch,
    /// The sampler, as `otel` knows it when it installs the provider.
    kind: SamplerKind,
    /// Whether the sampler records anything.
    sampled: bool,
}

impl Setup {
    fn new(sampler: Sampler, kind: SamplerKind) -> Self {
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_span_processor(sdk_batch_processor())
            .build();
        install_tracer_provider(provider.clone(), kind);
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")));
        Setup {
            sampled: kind != SamplerKind::AlwaysOff,
            kind,
            tracer: provider.tracer("hand"),
            dispatch: tracing::Dispatch::new(subscriber),
            provider,
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        uninstall_tracer_provider();
        let _ = self.provider.shutdown();
    }
}

/// fastrace records only under a root span: one root per measured batch, its spans reported
/// after the clock stops.
fn fastrace_batch(iters: u64, mut call: impl FnMut()) -> Duration {
    let root = fastrace::Span::root("bench", FastraceContext::random());
    let guard = root.set_local_parent();
    let start = Instant::now();
    for _ in 0..iters {
        call();
    }
    let elapsed = start.elapsed();
    drop(guard);
    drop(root);
    elapsed
}

/// The sync cases. Under a sampler that records, fastrace runs under a root span; under one
/// that drops everything, fastrace's equivalent is no root span, so `#[trace]` records nothing.
fn sync_cases(group: &mut BenchmarkGroup<'_, WallTime>, setup: &Setup) {
    group.bench_function("bare", |b| {
        b.iter(|| bare(black_box(AMOUNT), black_box(CURRENCY)))
    });
    group.bench_function("hand_written_sdk", |b| {
        b.iter(|| hand(&setup.tracer, black_box(AMOUNT), black_box(CURRENCY)))
    });
    group.bench_function("hand_written_sdk_with_code_location", |b| {
        b.iter(|| hand_with_code_location(&setup.tracer, black_box(AMOUNT), black_box(CURRENCY)))
    });
    group.bench_function("otel_span", |b| {
        b.iter(|| macro_span(black_box(AMOUNT), black_box(CURRENCY)))
    });
    // The same provider installed by the application itself with `opentelemetry::global`, as
    // when an annotated library runs in an application that set up OpenTelemetry without us.
    group.bench_function("otel_span_hand_installed_provider", |b| {
        opentelemetry::global::set_tracer_provider(setup.provider.clone());
        b.iter(|| macro_span(black_box(AMOUNT), black_box(CURRENCY)));
        install_tracer_provider(setup.provider.clone(), setup.kind);
    });
    group.bench_function("tracing_instrument", |b| {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            b.iter(|| tracing_span(black_box(AMOUNT), black_box(CURRENCY)))
        })
    });
    group.bench_function("fastrace_trace", |b| {
        if setup.sampled {
            b.iter_custom(|iters| {
                fastrace_batch(iters, || {
                    black_box(fastrace_span(black_box(AMOUNT), black_box(CURRENCY)));
                })
            })
        } else {
            b.iter(|| fastrace_span(black_box(AMOUNT), black_box(CURRENCY)))
        }
    });
}

fn err_cases(group: &mut BenchmarkGroup<'_, WallTime>, setup: &Setup) {
    group.bench_function("bare", |b| b.iter(|| bare_err(black_box(AMOUNT))));
    group.bench_function("hand_written_sdk", |b| {
        b.iter(|| hand_err(&setup.tracer, black_box(AMOUNT)))
    });
    group.bench_function("otel_span", |b| b.iter(|| macro_err(black_box(AMOUNT))));
    group.bench_function("tracing_instrument_err", |b| {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            b.iter(|| tracing_err(black_box(AMOUNT)))
        })
    });
    group.bench_function("fastrace_trace", |b| {
        b.iter_custom(|iters| {
            fastrace_batch(iters, || {
                let _ = black_box(fastrace_err(black_box(AMOUNT)));
            })
        })
    });
}

fn async_cases(group: &mut BenchmarkGroup<'_, WallTime>, setup: &Setup) {
    group.bench_function("bare", |b| {
        b.iter(|| poll_to_end(bare_async(black_box(AMOUNT), black_box(CURRENCY))))
    });
    group.bench_function("hand_written_sdk", |b| {
        b.iter(|| {
            poll_to_end(hand_async(
                &setup.tracer,
                black_box(AMOUNT),
                black_box(CURRENCY),
            ))
        })
    });
    group.bench_function("otel_span", |b| {
        b.iter(|| poll_to_end(macro_async(black_box(AMOUNT), black_box(CURRENCY))))
    });
    group.bench_function("tracing_instrument", |b| {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            b.iter(|| poll_to_end(tracing_async(black_box(AMOUNT), black_box(CURRENCY))))
        })
    });
    group.bench_function("fastrace_trace", |b| {
        b.iter_custom(|iters| {
            fastrace_batch(iters, || {
                black_box(poll_to_end(fastrace_async(
                    black_box(AMOUNT),
                    black_box(CURRENCY),
                )));
            })
        })
    });
}

/// Calls in a row for the delivery check.
const CALLS: u64 = 1_000_000;

/// What `CALLS` back-to-back calls delivered: the share of their spans that reached the
/// exporter, and the wall time from the first call until the last span was exported, per
/// span delivered. The benchmark calls as fast as it can, beyond what two cores can export: a
/// case that keeps its time down by losing spans, or by leaving work to other threads, shows
/// it here.
fn delivered(provider: &SdkTracerProvider, call: impl Fn()) -> (f64, f64) {
    let before = settle(provider);
    let start = Instant::now();
    for _ in 0..CALLS {
        call();
    }
    let _ = provider.force_flush();
    let elapsed = start.elapsed();
    let spans = settle(provider) - before;
    (
        spans as f64 / CALLS as f64,
        elapsed.as_nanos() as f64 / spans.max(1) as f64,
    )
}

/// The exported count once the batch processor has nothing left: flushed until the count
/// stops moving, so spans of the criterion runs or of the previous case never count for the
/// next one (a flush can return while the export thread still holds a batch).
fn settle(provider: &SdkTracerProvider) -> u64 {
    let mut last = EXPORTED.load(Ordering::Relaxed);
    loop {
        let _ = provider.force_flush();
        std::thread::sleep(Duration::from_millis(50));
        let now = EXPORTED.load(Ordering::Relaxed);
        if now == last {
            return now;
        }
        last = now;
    }
}

fn delivery_report(setup: &Setup) {
    let cases: [(&str, &SdkTracerProvider, &dyn Fn()); 6] = [
        ("sampled/hand_written_sdk", &setup.provider, &|| {
            black_box(hand(&setup.tracer, black_box(AMOUNT), black_box(CURRENCY)));
        }),
        ("sampled/otel_span", &setup.provider, &|| {
            black_box(macro_span(black_box(AMOUNT), black_box(CURRENCY)));
        }),
        ("sampled/tracing_instrument", &setup.provider, &|| {
            tracing::dispatcher::with_default(&setup.dispatch, || {
                black_box(tracing_span(black_box(AMOUNT), black_box(CURRENCY)));
            })
        }),
        ("sampled_err/hand_written_sdk", &setup.provider, &|| {
            let _ = black_box(hand_err(&setup.tracer, black_box(AMOUNT)));
        }),
        ("sampled_err/otel_span", &setup.provider, &|| {
            let _ = black_box(macro_err(black_box(AMOUNT)));
        }),
        (
            "sampled_err/tracing_instrument_err",
            &setup.provider,
            &|| {
                tracing::dispatcher::with_default(&setup.dispatch, || {
                    let _ = black_box(tracing_err(black_box(AMOUNT)));
                })
            },
        ),
    ];
    println!(
        "{CALLS} calls in a row: spans delivered to the exporter, wall time per span delivered"
    );
    for (name, provider, call) in cases {
        let (share, per_span) = delivered(provider, call);
        println!("  {name:40} {:6.2}%  {per_span:6.0} ns", 100.0 * share);
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    fastrace::set_reporter(
        fastrace_opentelemetry::OpenTelemetryReporter::new(
            Discard,
            Cow::Owned(Resource::builder_empty().build()),
            InstrumentationScope::builder("fastrace").build(),
        ),
        FastraceConfig::default(),
    );

    {
        // Nothing installed: `#[otel::span]` takes its disabled path, tracing has no
        // subscriber, fastrace has no parent span.
        let mut group = criterion.benchmark_group("no_sdk");
        group.bench_function("bare", |b| {
            b.iter(|| bare(black_box(AMOUNT), black_box(CURRENCY)))
        });
        group.bench_function("otel_span", |b| {
            b.iter(|| macro_span(black_box(AMOUNT), black_box(CURRENCY)))
        });
        group.bench_function("tracing_instrument", |b| {
            b.iter(|| tracing_span(black_box(AMOUNT), black_box(CURRENCY)))
        });
        group.bench_function("fastrace_trace", |b| {
            b.iter(|| fastrace_span(black_box(AMOUNT), black_box(CURRENCY)))
        });
        group.finish();
    }

    {
        let setup = Setup::new(Sampler::AlwaysOn, SamplerKind::AlwaysOn);
        let mut group = criterion.benchmark_group("sampled");
        sync_cases(&mut group, &setup);
        group.finish();
        let mut group = criterion.benchmark_group("sampled_err");
        err_cases(&mut group, &setup);
        group.finish();
        let mut group = criterion.benchmark_group("sampled_async_two_polls");
        async_cases(&mut group, &setup);
        group.finish();
        // Not under `--profile-time`: a profile of one case must not include the others.
        let args: Vec<String> = std::env::args().collect();
        if args.iter().any(|arg| arg == "--bench")
            && !args.iter().any(|arg| arg == "--profile-time")
        {
            delivery_report(&setup);
        }
    }

    {
        let setup = Setup::new(Sampler::AlwaysOff, SamplerKind::AlwaysOff);
        let mut group = criterion.benchmark_group("unsampled");
        sync_cases(&mut group, &setup);
        group.finish();
    }

    criterion.final_summary();
}
