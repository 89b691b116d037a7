//! The library on otel's facade inside an application that set up the OpenTelemetry SDK by
//! hand (no `#[otel::main]`, no `otel::Config`): its spans and its counter arrive in the
//! application's providers. Run alone (`cargo test -p otel-test-library`) otel is built
//! without its `sdk` feature, which is what a published library gets.

use opentelemetry::global;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_test_library::{NotFound, fetch, load};

/// The sum of the `orders.loaded` points the application's exporter received.
fn orders_loaded(exporter: &InMemoryMetricExporter) -> Option<u64> {
    let batches = exporter.get_finished_metrics().ok()?;
    let mut total = None;
    for batch in &batches {
        for scope in batch.scope_metrics() {
            for metric in scope.metrics() {
                if metric.name() != "orders.loaded" {
                    continue;
                }
                if let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() {
                    total = Some(sum.data_points().map(|point| point.value()).sum());
                }
            }
        }
    }
    total
}

fn span<'a>(spans: &'a [SpanData], name: &str, order: i64) -> &'a SpanData {
    spans
        .iter()
        .find(|span| {
            span.name == name
                && span.attributes.iter().any(|attribute| {
                    attribute.key.as_str() == "order.id"
                        && attribute.value == opentelemetry::Value::I64(order)
                })
        })
        .unwrap_or_else(|| panic!("no `{name}` span for order {order} in {spans:#?}"))
}

#[test]
fn a_library_records_into_an_sdk_the_application_set_up_by_hand() {
    // Before the application installs anything, the library's functions run and record
    // nothing (the global providers are the API's no-ops).
    assert_eq!(load(4).ok(), Some(8));

    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());

    // A thread that has not called the library yet finds the new providers on its first
    // call (a thread already calling looks again within 1,024 calls).
    std::thread::spawn(|| {
        assert_eq!(load(7).ok(), Some(14));
        assert!(matches!(load(0), Err(NotFound)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        assert_eq!(runtime.block_on(fetch(3)).ok(), Some(6));
    })
    .join()
    .expect("the library's calls");

    let finished = spans.get_finished_spans().expect("the finished spans");
    let loaded = span(&finished, "load", 7);
    assert_eq!(loaded.span_kind, SpanKind::Client);
    assert_eq!(loaded.status, Status::Unset);
    let failed = span(&finished, "load", 0);
    assert_eq!(failed.status, Status::error("order not found"));
    assert!(
        failed.events.iter().any(|event| event.name == "exception"),
        "the error's exception event: {failed:#?}"
    );
    let fetched = span(&finished, "fetch", 3);
    let inner = span(&finished, "load", 3);
    assert_eq!(inner.parent_span_id, fetched.span_context.span_id());
    assert_eq!(
        inner.span_context.trace_id(),
        fetched.span_context.trace_id()
    );
    assert_eq!(finished.len(), 4, "one span per call made after the set-up");

    meter_provider.force_flush().expect("the metrics flushed");
    assert_eq!(
        orders_loaded(&metrics),
        Some(3),
        "`orders.loaded` counts the calls made after the set-up"
    );
}
