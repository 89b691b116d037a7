//! Spans and metric points captured in-process, to assert on what your instrumentation
//! records.
//!
//! ```
//! #[otel::span(attributes(order.id = id))]
//! fn place(id: u64) -> Result<(), String> {
//!     if id == 0 { Err("empty order".into()) } else { Ok(()) }
//! }
//!
//! let capture = otel::testing::capture_spans();
//! let _ = place(0);
//! let span = capture.span("place");
//! assert_eq!(span.status, otel::opentelemetry::trace::Status::error("empty order"));
//! ```
//!
//! The first call installs a process-wide tracer provider (every span sampled) exporting into
//! memory, makes it the one `#[otel::span]`, the `tracing` bridge and
//! `opentelemetry::global` record into, and installs the panic hook. Each capture holds a
//! process-wide lock, so tests that capture run one at a time and see only their own spans.

use std::sync::{Mutex, MutexGuard, OnceLock};

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, PeriodicReader, SdkMeterProvider,
    Temporality,
};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracerProvider, SimpleSpanProcessor,
};

use crate::trace::installed;
use crate::trace::sampling::{Root, Sampling};
use crate::{metrics, panic_hook, subscriber};

/// A finished span, as exporters receive it.
pub use opentelemetry_sdk::trace::SpanData;

/// The spans finished since [`capture_spans`] returned this capture.
#[derive(Debug)]
pub struct SpanCapture {
    exporter: InMemorySpanExporter,
    _serial: MutexGuard<'static, ()>,
}

/// Starts capturing: clears what earlier captures saw and waits for any other capture in
/// this process to end.
pub fn capture_spans() -> SpanCapture {
    static SERIAL: Mutex<()> = Mutex::new(());
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    let serial = crate::sync::lock(&SERIAL);
    let exporter = EXPORTER.get_or_init(install).clone();
    exporter.reset();
    SpanCapture {
        exporter,
        _serial: serial,
    }
}

fn install() -> InMemorySpanExporter {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().build())
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    installed::install(
        provider.clone(),
        Some(Sampling::ParentBased(Root::AlwaysOn)),
        None,
    );
    subscriber::configure(Some(&provider), None, "trace", true);
    panic_hook::install();
    exporter
}

impl SpanCapture {
    /// Every span finished so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        let mut spans = self.exporter.get_finished_spans().unwrap_or_default();
        spans.sort_by_key(|span| span.end_time);
        spans
    }

    /// The one finished span named `name`.
    ///
    /// # Panics
    ///
    /// When there is no such span or more than one, listing the names that were captured.
    #[track_caller]
    pub fn span(&self, name: &str) -> SpanData {
        let spans = self.spans();
        let mut matching = spans.iter().filter(|span| span.name == name);
        match (matching.next(), matching.next()) {
            (Some(span), None) => span.clone(),
            (found, _) => {
                let names: Vec<&str> = spans.iter().map(|span| span.name.as_ref()).collect();
                let what = if found.is_some() {
                    "more than one span"
                } else {
                    "no span"
                };
                panic!("{what} named `{name}`; captured: {names:?}")
            }
        }
    }
}

/// The metric points recorded since [`capture_metrics`] returned this capture.
///
/// ```
/// #[otel::metric(counter = "orders.placed", attributes(order.kind = kind))]
/// fn place(kind: &str) {}
///
/// let capture = otel::testing::capture_metrics();
/// place("retail");
/// place("retail");
/// let point = capture.point("orders.placed");
/// assert_eq!(point.value, otel::testing::PointValue::Sum(2.0));
/// assert_eq!(point.attribute("order.kind").as_deref(), Some("retail"));
/// ```
#[derive(Debug)]
pub struct MetricCapture {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
    _serial: MutexGuard<'static, ()>,
}

/// One exported data point, flattened for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// The instrument name.
    pub name: String,
    /// The instrument unit (`""` when none).
    pub unit: String,
    /// The instrument description (`""` when none).
    pub description: String,
    /// The point's attributes.
    pub attributes: Vec<KeyValue>,
    /// The point's value.
    pub value: PointValue,
}

/// The value of a [`MetricPoint`], as `f64` whatever the instrument's number type.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    /// A counter's or up-down counter's sum.
    Sum(f64),
    /// A gauge's last value.
    Gauge(f64),
    /// A histogram's distribution.
    Histogram {
        /// Measurements recorded.
        count: u64,
        /// Their sum.
        sum: f64,
        /// The bucket boundaries.
        bounds: Vec<f64>,
        /// The count per bucket (one more than the boundaries).
        bucket_counts: Vec<u64>,
    },
}

impl MetricPoint {
    /// The attribute `key` as a string, if the point has it.
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }
}

/// Starts capturing metric points: the first call installs a process-wide meter provider
/// exporting into memory (delta temporality, so each capture sees only its own points) and
/// makes it the one `#[otel::metric]` and the metric macros record into. Each capture holds
/// a process-wide lock, so tests that capture run one at a time.
pub fn capture_metrics() -> MetricCapture {
    static SERIAL: Mutex<()> = Mutex::new(());
    static INSTALLED: OnceLock<(SdkMeterProvider, InMemoryMetricExporter)> = OnceLock::new();
    let serial = crate::sync::lock(&SERIAL);
    let (provider, exporter) = INSTALLED.get_or_init(|| {
        let exporter = InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Delta)
            .build();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        metrics::set_service_name("otel-testing");
        metrics::backend::install(provider.clone());
        (provider, exporter)
    });
    let capture = MetricCapture {
        provider: provider.clone(),
        exporter: exporter.clone(),
        _serial: serial,
    };
    // Whatever earlier code recorded is flushed and forgotten.
    let _ = capture.points();
    capture
}

impl MetricCapture {
    /// Every point recorded since the capture started or since the last call.
    pub fn points(&self) -> Vec<MetricPoint> {
        let _ = self.provider.force_flush();
        let exported = self.exporter.get_finished_metrics().unwrap_or_default();
        self.exporter.reset();
        let mut points = Vec::new();
        for resource in &exported {
            for scope in resource.scope_metrics() {
                for metric in scope.metrics() {
                    flatten(metric, &mut points);
                }
            }
        }
        points
    }

    /// The one point of instrument `name` since the capture started.
    ///
    /// # Panics
    ///
    /// When there is no such point or more than one, listing what was captured.
    #[track_caller]
    pub fn point(&self, name: &str) -> MetricPoint {
        let points = self.points();
        let mut matching = points.iter().filter(|point| point.name == name);
        match (matching.next(), matching.next()) {
            (Some(point), None) => point.clone(),
            (found, _) => {
                let what = if found.is_some() {
                    "more than one point"
                } else {
                    "no point"
                };
                panic!("{what} for `{name}`; captured: {points:#?}")
            }
        }
    }
}

fn flatten(metric: &opentelemetry_sdk::metrics::data::Metric, out: &mut Vec<MetricPoint>) {
    let point = |attributes: Vec<KeyValue>, value: PointValue| MetricPoint {
        name: metric.name().to_owned(),
        unit: metric.unit().to_owned(),
        description: metric.description().to_owned(),
        attributes,
        value,
    };
    macro_rules! points {
        ($data:expr) => {
            match $data {
                MetricData::Sum(sum) => {
                    for p in sum.data_points() {
                        out.push(point(
                            p.attributes().cloned().collect(),
                            PointValue::Sum(p.value() as f64),
                        ));
                    }
                }
                MetricData::Gauge(gauge) => {
                    for p in gauge.data_points() {
                        out.push(point(
                            p.attributes().cloned().collect(),
                            PointValue::Gauge(p.value() as f64),
                        ));
                    }
                }
                MetricData::Histogram(histogram) => {
                    for p in histogram.data_points() {
                        out.push(point(
                            p.attributes().cloned().collect(),
                            PointValue::Histogram {
                                count: p.count(),
                                sum: p.sum() as f64,
                                bounds: p.bounds().collect(),
                                bucket_counts: p.bucket_counts().collect(),
                            },
                        ));
                    }
                }
                MetricData::ExponentialHistogram(_) => {}
            }
        };
    }
    #[allow(clippy::cast_precision_loss)]
    match metric.data() {
        AggregatedMetrics::F64(data) => points!(data),
        AggregatedMetrics::U64(data) => points!(data),
        AggregatedMetrics::I64(data) => points!(data),
    }
}
