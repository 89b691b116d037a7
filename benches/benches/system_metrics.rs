//! One collection of every `otel::system_metrics` instrument (the `process.*` and `system.*`
//! metrics) and of `otel::runtime_metrics`, through a manual reader on the calling thread, so
//! the time measured is the reading of `/proc` and sysinfo plus the SDK's aggregation.
//! After criterion's figure it prints the CPU time (user + system) per collection over a run
//! of collections, and how many data points one collection delivers.
//!
//! ```text
//! cargo bench -p otel-benches --bench system_metrics
//! ```

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use criterion::Criterion;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};

/// A manual reader the bench keeps a handle to after giving it to the provider.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// Data points in one collection.
fn points(rm: &ResourceMetrics) -> usize {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    fn count<T>(data: &MetricData<T>) -> usize {
        match data {
            MetricData::Gauge(g) => g.data_points().count(),
            MetricData::Sum(s) => s.data_points().count(),
            MetricData::Histogram(h) => h.data_points().count(),
            MetricData::ExponentialHistogram(h) => h.data_points().count(),
        }
    }
    rm.scope_metrics()
        .flat_map(|scope| scope.metrics())
        .map(|metric| match metric.data() {
            AggregatedMetrics::F64(data) => count(data),
            AggregatedMetrics::U64(data) => count(data),
            AggregatedMetrics::I64(data) => count(data),
        })
        .sum()
}

/// This thread's CPU time so far (user + system), from `/proc/thread-self/stat`.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let reader = SharedReader(Arc::new(ManualReader::builder().build()));
    let provider = SdkMeterProvider::builder()
        .with_reader(reader.clone())
        .build();
    otel::system_metrics::register(&provider);
    otel::runtime_metrics::register(&provider, runtime.handle().clone());

    let mut rm = ResourceMetrics::default();
    let mut group = criterion.benchmark_group("system_metrics");
    group.bench_function("one_collection", |b| {
        b.iter(|| {
            reader.collect(&mut rm).expect("a collection");
        })
    });
    group.finish();
    criterion.final_summary();

    let collections = 500u32;
    let (cpu_before, wall_before) = (thread_cpu(), Instant::now());
    for _ in 0..collections {
        reader.collect(&mut rm).expect("a collection");
    }
    let (cpu, wall) = (thread_cpu() - cpu_before, wall_before.elapsed());
    println!(
        "system_metrics: {collections} collections, {:.3} ms CPU (user + system) and {:.3} ms \
         wall each, {} data points per collection",
        cpu.as_secs_f64() * 1000.0 / f64::from(collections),
        wall.as_secs_f64() * 1000.0 / f64::from(collections),
        points(&rm),
    );
    let _ = provider.shutdown();
}
