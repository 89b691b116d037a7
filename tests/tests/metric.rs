//! `#[otel::metric]` and the metric macros, asserted on the exported points: names, units,
//! descriptions, attributes, counts, sums, bucket boundaries, and the RED metrics' labels.

use std::time::Duration;

use otel::testing::{MetricCapture, MetricPoint, PointValue, capture_metrics};

fn points_named(capture: &MetricCapture, name: &str) -> Vec<MetricPoint> {
    capture
        .points()
        .into_iter()
        .filter(|p| p.name == name)
        .collect()
}

/// The first point of instrument `name`.
fn point<'a>(points: &'a [MetricPoint], name: &str) -> &'a MetricPoint {
    points
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no `{name}` in {points:#?}"))
}

fn histogram(point: &MetricPoint) -> (u64, f64, Vec<f64>) {
    match &point.value {
        PointValue::Histogram {
            count, sum, bounds, ..
        } => (*count, *sum, bounds.clone()),
        other => panic!("`{}` is not a histogram: {other:?}", point.name),
    }
}

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

#[otel::metric]
fn red(fail: bool) -> Result<u32, Declined> {
    if fail { Err(Declined) } else { Ok(1) }
}

#[otel::metric(counter = "orders.placed", unit = "{order}", description = "Orders placed", attributes(order.kind = kind))]
#[otel::metric(histogram = "orders.value", value = amount, unit = "USD", buckets = [10, 100, 1000], attributes(order.kind = kind))]
#[otel::metric(histogram = "orders.duration")]
#[otel::metric(counter = "orders.items", by = items)]
fn place(kind: &str, amount: f64, items: u32) {}

/// In flight until `done` is sent or dropped.
#[otel::metric(up_down_counter = "requests.in_flight")]
async fn in_flight(done: tokio::sync::oneshot::Receiver<()>) {
    let _ = done.await;
}

#[otel::span]
#[otel::metric]
async fn span_then_metric(fail: bool) -> Result<(), Declined> {
    tokio::task::yield_now().await;
    if fail { Err(Declined) } else { Ok(()) }
}

#[otel::metric]
#[otel::span]
async fn metric_then_span(fail: bool) -> Result<(), Declined> {
    tokio::task::yield_now().await;
    if fail { Err(Declined) } else { Ok(()) }
}

fn body_macros(queue: &str) {
    otel::counter!("jobs.enqueued", 2, queue = queue);
    otel::histogram!("jobs.size", 512u32, queue = %queue);
    otel::up_down_counter!("jobs.pending", -1, queue);
    otel::gauge!("jobs.workers", 4, pool = "default");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn red_metrics_are_named_and_labelled_as_autometrics() {
    let capture = capture_metrics();
    let _ = red(false);
    let _ = red(false);
    let _ = red(true);
    let points = capture.points();
    let calls: Vec<&MetricPoint> = points
        .iter()
        .filter(|p| p.name == "function.calls")
        .collect();
    assert_eq!(calls.len(), 2, "{points:#?}");
    let ok = calls
        .iter()
        .find(|p| p.attribute("result").as_deref() == Some("ok"))
        .expect("an ok point");
    let error = calls
        .iter()
        .find(|p| p.attribute("result").as_deref() == Some("error"))
        .expect("an error point");
    assert_eq!(ok.value, PointValue::Sum(2.0));
    assert_eq!(error.value, PointValue::Sum(1.0));
    for point in [ok, error] {
        assert_eq!(point.attribute("function").as_deref(), Some("red"));
        assert_eq!(point.attribute("module").as_deref(), Some("metric"));
        assert_eq!(
            point.attribute("service.name").as_deref(),
            Some("otel-testing")
        );
        assert_eq!(point.attribute("caller.function").as_deref(), Some(""));
        assert_eq!(point.attribute("caller.module").as_deref(), Some(""));
        assert_eq!(
            point.description,
            "Autometrics counter for tracking function calls"
        );
    }
    assert_eq!(
        error.attribute("error.type").as_deref(),
        Some("metric::Declined")
    );
    assert_eq!(ok.attribute("error.type"), None);

    let duration = points
        .iter()
        .find(|p| p.name == "function.calls.duration")
        .expect("the duration histogram");
    let (count, _, bounds) = histogram(duration);
    assert_eq!(count, 3);
    assert_eq!(duration.unit, "s");
    assert_eq!(
        bounds,
        vec![
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
        ]
    );
    let mut keys: Vec<&str> = duration
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["function", "module", "service.name"]);
}

#[test]
fn stacked_instruments_record_units_descriptions_buckets_and_attributes() {
    let capture = capture_metrics();
    place("retail", 42.0, 3);
    place("retail", 420.0, 2);
    let points = capture.points();
    let find = |name: &str| point(&points, name);
    let placed = find("orders.placed");
    assert_eq!(placed.value, PointValue::Sum(2.0));
    assert_eq!(placed.unit, "{order}");
    assert_eq!(placed.description, "Orders placed");
    assert_eq!(placed.attribute("order.kind").as_deref(), Some("retail"));

    let value = find("orders.value");
    assert_eq!(value.unit, "USD");
    match &value.value {
        PointValue::Histogram {
            count,
            sum,
            bounds,
            bucket_counts,
        } => {
            assert_eq!(*count, 2);
            assert_eq!(*sum, 462.0);
            assert_eq!(bounds, &vec![10.0, 100.0, 1000.0]);
            assert_eq!(bucket_counts, &vec![0, 1, 1, 0]);
        }
        other => panic!("{other:?}"),
    }

    let duration = find("orders.duration");
    assert_eq!(duration.unit, "s");
    assert_eq!(histogram(duration).0, 2);

    assert_eq!(find("orders.items").value, PointValue::Sum(5.0));
}

#[test]
fn in_flight_goes_up_during_the_call_and_down_on_completion_and_cancellation() {
    let capture = capture_metrics();
    let runtime = runtime();
    runtime.block_on(async {
        let (finish, done) = tokio::sync::oneshot::channel();
        let running = tokio::spawn(in_flight(done));
        // One thread: the sleep lets the spawned call start, and it cannot end before `finish`.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let during = points_named(&capture, "requests.in_flight");
        assert_eq!(during.len(), 1, "{during:#?}");
        assert_eq!(during[0].value, PointValue::Sum(1.0));
        let _ = finish.send(());
        running.await.expect("completes");
        // Cancelled: dropped by the timeout while it waits for a signal that never comes.
        let (_never, done) = tokio::sync::oneshot::channel::<()>();
        let _ = tokio::time::timeout(Duration::from_millis(5), in_flight(done)).await;
    });
    let after = points_named(&capture, "requests.in_flight");
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0].value, PointValue::Sum(0.0), "back to zero");
}

#[test]
fn metric_and_span_stack_in_either_order_on_async_fns() {
    let span_capture = otel::testing::capture_spans();
    let capture = capture_metrics();
    let runtime = runtime();
    runtime.block_on(async {
        let _ = span_then_metric(true).await;
        let _ = metric_then_span(false).await;
    });
    let calls = points_named(&capture, "function.calls");
    let result_of = |function: &str| {
        calls
            .iter()
            .find(|p| p.attribute("function").as_deref() == Some(function))
            .and_then(|p| p.attribute("result"))
    };
    assert_eq!(result_of("span_then_metric").as_deref(), Some("error"));
    assert_eq!(result_of("metric_then_span").as_deref(), Some("ok"));
    span_capture.span("span_then_metric");
    span_capture.span("metric_then_span");
}

#[test]
fn body_macros_record_with_their_attributes() {
    let capture = capture_metrics();
    body_macros("emails");
    let points = capture.points();
    let find = |name: &str| point(&points, name);
    assert_eq!(find("jobs.enqueued").value, PointValue::Sum(2.0));
    assert_eq!(
        find("jobs.enqueued").attribute("queue").as_deref(),
        Some("emails")
    );
    assert_eq!(histogram(find("jobs.size")).1, 512.0);
    assert_eq!(find("jobs.pending").value, PointValue::Sum(-1.0));
    assert_eq!(find("jobs.workers").value, PointValue::Gauge(4.0));
    assert_eq!(
        find("jobs.workers").attribute("pool").as_deref(),
        Some("default")
    );
}
