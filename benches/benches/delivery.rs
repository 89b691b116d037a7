//! Delivery under load: how many spans reach a real OTLP/HTTP receiver when calls come at a
//! given rate, `#[otel::span]` (on a provider `otel` installed, and on one the application
//! installed through `opentelemetry::global`) against the same span written by hand with the
//! SDK, in one run.
//!
//! Each case builds a fresh provider as applications run it: the SDK's `BatchSpanProcessor`
//! (its defaults, or `OTEL_BSP_*`) on the OTLP/HTTP protobuf exporter, sending to a receiver
//! in this process on a loopback port that decodes every request and counts its spans. The
//! calls are paced: `threads` threads share the offered rate for a few seconds. After the
//! provider is shut down (which flushes), the report gives, per case, the spans offered, the
//! spans received, the spans the batch processor reported as dropped at shutdown (the SDK's
//! `BatchSpanProcessor.SpansDropped` warning), and any not accounted for by either.
//!
//! ```text
//! cargo bench -p otel-benches --bench delivery            # with RUST_BACKTRACE unset
//! RUST_BACKTRACE=1 cargo bench -p otel-benches --bench delivery
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider,
};
use otel::__private::{SamplerKind, install_tracer_provider, uninstall_tracer_provider};
use otel_benches::{hand_with_code_location, macro_span};
use prost::Message as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long each case offers its load.
const OFFERED_FOR: Duration = Duration::from_secs(3);
/// Offered rates, spans per second across all threads.
const RATES: [u64; 4] = [10_000, 30_000, 60_000, 100_000];
const THREADS: [u64; 2] = [1, 8];

/// Spans the receiver decoded.
static RECEIVED: AtomicU64 = AtomicU64::new(0);
/// Spans batch processors reported dropped at shutdown.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// How long the receiver takes to answer, in milliseconds: a slow collector.
static ANSWER_AFTER_MS: AtomicU64 = AtomicU64::new(0);

/// The OTLP/HTTP receiver: decodes each `ExportTraceServiceRequest` and counts its spans.
async fn receive(body: Bytes) -> Vec<u8> {
    if let Ok(request) = ExportTraceServiceRequest::decode(body) {
        let spans: usize = request
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum();
        RECEIVED.fetch_add(spans as u64, Ordering::Relaxed);
    }
    // Counted on arrival; a slow collector only answers late.
    let delay = ANSWER_AFTER_MS.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    // An empty `ExportTraceServiceResponse`: everything accepted.
    Vec::new()
}

fn start_receiver() -> SocketAddr {
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the receiver's runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let _ = sender.send(listener.local_addr().expect("its address"));
            let app = axum::Router::new().route("/v1/traces", post(receive));
            let _ = axum::serve(listener, app).await;
        });
    });
    address.recv().expect("the receiver started")
}

/// Counts the spans the SDK's batch processors say they dropped when shut down.
struct DroppedSpans;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for DroppedSpans {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().name() == "BatchSpanProcessor.SpansDropped" {
            event.record(&mut DroppedCount);
        }
    }
}

struct DroppedCount;

impl tracing::field::Visit for DroppedCount {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "dropped_span_count" {
            DROPPED.fetch_add(value, Ordering::Relaxed);
        }
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, value.unsigned_abs());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if let Ok(value) = format!("{value:?}").parse() {
            self.record_u64(field, value);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    HandWrittenSdk,
    /// `#[otel::span]` on a provider `otel` installed, as `#[otel::main]` does.
    OtelSpan,
    /// `#[otel::span]` on a provider the application installed through `opentelemetry::global`.
    OtelSpanHandInstalled,
}

#[derive(Debug, Clone, Copy)]
struct Outcome {
    offered: u64,
    received: u64,
    dropped: u64,
}

impl Path {
    const ALL: [Path; 3] = [
        Path::HandWrittenSdk,
        Path::OtelSpan,
        Path::OtelSpanHandInstalled,
    ];

    fn name(self) -> &'static str {
        match self {
            Path::HandWrittenSdk => "hand_written_sdk",
            Path::OtelSpan => "otel_span",
            Path::OtelSpanHandInstalled => "otel_span_by_hand",
        }
    }
}

impl Outcome {
    fn share(&self) -> f64 {
        100.0 * self.received as f64 / self.offered.max(1) as f64
    }
}

/// The provider an application builds: the SDK's batch processor on the OTLP/HTTP exporter,
/// with its default limits (or `OTEL_BSP_*`), or a queue of `queue` spans.
fn provider(endpoint: &str, queue: Option<usize>) -> SdkTracerProvider {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()
        .expect("an OTLP/HTTP exporter");
    let mut config = BatchConfigBuilder::default();
    if let Some(queue) = queue {
        config = config.with_max_queue_size(queue);
    }
    SdkTracerProvider::builder()
        .with_span_processor(
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(config.build())
                .build(),
        )
        .build()
}

/// How a case offers its calls.
#[derive(Debug, Clone, Copy)]
enum Load {
    /// Spans per second across all threads, for [`OFFERED_FOR`].
    Rate(u64),
    /// This many calls per thread, as fast as the thread can make them.
    Burst(u64),
}

/// `per_thread` calls per second on this thread for [`OFFERED_FOR`], in bursts every 500 µs.
/// Returns the calls made (fewer than offered when the thread cannot keep up).
fn paced(per_thread: f64, call: &(dyn Fn() + Sync)) -> u64 {
    let start = Instant::now();
    let mut made = 0u64;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= OFFERED_FOR {
            return made;
        }
        let due = (elapsed.as_secs_f64() * per_thread) as u64;
        while made < due {
            call();
            made += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Waits until the receiver's count stops moving: nothing new for 200 ms plus twice the
/// collector's answer time (an exporter sends its next batch only once the last is answered).
fn settled() -> u64 {
    let quiet = Duration::from_millis(200 + 2 * ANSWER_AFTER_MS.load(Ordering::Relaxed));
    let mut last = RECEIVED.load(Ordering::Relaxed);
    loop {
        std::thread::sleep(quiet);
        let now = RECEIVED.load(Ordering::Relaxed);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// One way of loading the pipeline.
#[derive(Debug, Clone)]
struct Scenario {
    threads: u64,
    load: Load,
    /// The batch queue, `None` for the SDK's default (2,048) or `OTEL_BSP_MAX_QUEUE_SIZE`.
    queue: Option<usize>,
    /// How long the collector takes to answer, in ms.
    answer_after_ms: u64,
    /// Runs per path, compared on their sum.
    runs: u64,
    label: String,
}

fn run(path: Path, scenario: &Scenario, endpoint: &str) -> Outcome {
    let (threads, load) = (scenario.threads, scenario.load);
    let provider = provider(endpoint, scenario.queue);
    let tracer: SdkTracer = provider.tracer("hand");
    match path {
        Path::HandWrittenSdk => {}
        Path::OtelSpan => {
            install_tracer_provider(provider.clone(), SamplerKind::ParentBasedAlwaysOn)
        }
        Path::OtelSpanHandInstalled => opentelemetry::global::set_tracer_provider(provider.clone()),
    }
    let received_before = settled();
    let dropped_before = DROPPED.load(Ordering::Relaxed);
    let call: &(dyn Fn() + Sync) = match path {
        Path::HandWrittenSdk => &|| {
            std::hint::black_box(hand_with_code_location(&tracer, 1250, "EUR"));
        },
        Path::OtelSpan | Path::OtelSpanHandInstalled => &|| {
            std::hint::black_box(macro_span(1250, "EUR"));
        },
    };
    let offered: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || match load {
                    Load::Rate(rate) => paced(rate as f64 / threads as f64, call),
                    Load::Burst(calls) => {
                        (0..calls).for_each(|_| call());
                        calls
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a load thread"))
            .sum()
    });
    if path != Path::HandWrittenSdk {
        uninstall_tracer_provider();
        opentelemetry::global::set_tracer_provider(
            opentelemetry::trace::noop::NoopTracerProvider::new(),
        );
    }
    // Shutdown exports everything still queued; a slow collector needs time for that.
    let _ = provider.shutdown_with_timeout(Duration::from_secs(120));
    Outcome {
        offered,
        received: settled() - received_before,
        dropped: DROPPED.load(Ordering::Relaxed) - dropped_before,
    }
}

fn main() {
    // `cargo bench` runs every bench target with `--bench`; nothing to do for `cargo test`.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let _ =
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(DroppedSpans));
    let address = start_receiver();
    let endpoint = format!("http://{address}/v1/traces");
    println!(
        "offered for {OFFERED_FOR:?} per case to an OTLP/HTTP receiver on {address}; \
         SDK BatchSpanProcessor defaults (or OTEL_BSP_*)"
    );
    println!(
        "{:>7} {:>28} {:>16} {:>9} {:>9} {:>8} {:>9} {:>11}",
        "threads", "load", "path", "offered", "received", "share", "dropped", "unaccounted"
    );
    let paced = |threads, rate| Scenario {
        threads,
        load: Load::Rate(rate),
        queue: None,
        answer_after_ms: 0,
        runs: 1,
        label: format!("{rate}/s"),
    };
    let mut scenarios: Vec<Scenario> = THREADS
        .into_iter()
        .flat_map(|threads| RATES.into_iter().map(move |rate| paced(threads, rate)))
        .collect();
    scenarios.extend([
        // The queue holds everything: both must deliver every span.
        Scenario {
            threads: 1,
            load: Load::Burst(100_000),
            queue: Some(1_000_000),
            answer_after_ms: 0,
            runs: 1,
            label: "burst 100000, queue 1M".to_owned(),
        },
        Scenario {
            threads: 1,
            load: Load::Rate(3_000),
            queue: Some(100_000),
            answer_after_ms: 2_000,
            runs: 1,
            label: "3000/s, 2 s answers, q 100k".to_owned(),
        },
        // Beyond the default queue: what gets through depends on when the export thread
        // runs, for every path alike; five runs each, reported as a range.
        Scenario {
            threads: 1,
            load: Load::Burst(100_000),
            queue: None,
            answer_after_ms: 0,
            runs: 5,
            label: "burst 100000, queue 2048".to_owned(),
        },
    ]);
    let mut verdicts = Vec::new();
    let mut ranges = Vec::new();
    for scenario in scenarios {
        let Scenario {
            threads,
            answer_after_ms,
            runs,
            ref label,
            ..
        } = scenario;
        ANSWER_AFTER_MS.store(answer_after_ms, Ordering::Relaxed);
        let mut outcomes = Vec::new();
        for path in (0..runs).flat_map(|_| Path::ALL) {
            let outcome = run(path, &scenario, &endpoint);
            let unaccounted = outcome
                .offered
                .saturating_sub(outcome.received + outcome.dropped);
            println!(
                "{threads:>7} {label:>28} {:>16} {:>9} {:>9} {:>7.2}% {:>9} {unaccounted:>11}",
                path.name(),
                outcome.offered,
                outcome.received,
                outcome.share(),
                outcome.dropped,
            );
            outcomes.push(outcome);
        }
        let total = |index: usize| {
            outcomes.iter().skip(index).step_by(Path::ALL.len()).fold(
                Outcome {
                    offered: 0,
                    received: 0,
                    dropped: 0,
                },
                |sum, run| Outcome {
                    offered: sum.offered + run.offered,
                    received: sum.received + run.received,
                    dropped: sum.dropped + run.dropped,
                },
            )
        };
        if runs > 1 {
            // Beyond the queue a flat-out caller races the export thread: the share differs
            // from run to run for the same pipeline, so the ranges are shown, not a verdict.
            for (index, path) in Path::ALL.into_iter().enumerate() {
                let shares: Vec<f64> = outcomes
                    .iter()
                    .skip(index)
                    .step_by(Path::ALL.len())
                    .map(Outcome::share)
                    .collect();
                let low = shares.iter().copied().fold(f64::INFINITY, f64::min);
                let high = shares.iter().copied().fold(0.0, f64::max);
                ranges.push(format!(
                    "{threads} thread(s), {label}: {} delivered {low:.1}% to {high:.1}% in {runs} runs, \
                     {:.1}% in all",
                    path.name(),
                    total(index).share()
                ));
            }
            continue;
        }
        let sdk = total(0);
        for (index, path) in Path::ALL.into_iter().enumerate().skip(1) {
            let ours = total(index);
            let holds = if sdk.received == sdk.offered {
                ours.received == ours.offered
            } else {
                ours.share() >= sdk.share()
            };
            verdicts.push((threads, label.clone(), path, holds));
        }
    }
    ANSWER_AFTER_MS.store(0, Ordering::Relaxed);
    for range in ranges {
        println!("{range}");
    }
    for (threads, label, path, holds) in verdicts {
        println!(
            "{threads} thread(s), {label}: {} delivered {} the SDK pipeline",
            path.name(),
            if holds {
                "as much as (or more than)"
            } else {
                "LESS than"
            }
        );
    }
}
