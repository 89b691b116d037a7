//! The functions the span benchmark calls, one per way of instrumenting the same work, and the
//! providers they record into. Kept out of the bench file so each variant is an ordinary,
//! separately compiled function (`#[inline(never)]`), as in a real program.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::{FutureExt as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SpanData, SpanExporter,
};

/// An exporter that drops every batch, counting its spans: the benchmark measures the calling
/// thread, not a network, and checks how many spans each case actually delivered.
#[derive(Debug, Default)]
pub struct Discard;

/// Spans [`Discard`] received.
pub static EXPORTED: AtomicU64 = AtomicU64::new(0);

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        EXPORTED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        black_box(batch);
        Ok(())
    }
}

/// Spans the batch queue holds: enough that the export thread keeps up and no span is dropped
/// by the queue, so every case pays for delivery, as in a service that is not overloaded (a
/// full queue would make the cheapest case the one that loses the most spans).
const QUEUE: usize = 1 << 16;

/// The SDK's own batch processor, with its own export thread, on [`Discard`]: what every case
/// records into, as hand-written SDK code runs without `otel`.
pub fn sdk_batch_processor() -> BatchSpanProcessor {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(QUEUE)
        .build();
    BatchSpanProcessor::builder(Discard)
        .with_batch_config(config)
        .build()
}

/// The error every `Err` case returns.
#[derive(Debug)]
pub struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}

impl Error for Declined {}

#[inline(never)]
fn work(amount: u64, currency: &str) -> u64 {
    black_box(amount) + black_box(currency.len() as u64)
}

#[inline(never)]
fn fail(amount: u64) -> Result<u64, Declined> {
    if black_box(amount) > 0 {
        Err(Declined)
    } else {
        Ok(0)
    }
}

/// A future that is pending once, then ready: two polls.
#[derive(Debug, Default)]
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            task.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Polls `future` to completion on this thread with a no-op waker.
pub fn poll_to_end<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut task = TaskContext::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut task) {
            return output;
        }
    }
}

// --- bare -------------------------------------------------------------------------------------

#[inline(never)]
pub fn bare(amount: u64, currency: &str) -> u64 {
    work(amount, currency)
}

#[inline(never)]
pub fn bare_err(amount: u64) -> Result<u64, Declined> {
    fail(amount)
}

#[inline(never)]
pub async fn bare_async(amount: u64, currency: &str) -> u64 {
    YieldOnce::default().await;
    work(amount, currency)
}

// --- hand-written SDK code: the tracer cached by the caller ---------------------------------------

fn hand_span(tracer: &SdkTracer, amount: u64, currency: &str) -> Context {
    let span = tracer
        .span_builder("hand")
        .with_attributes([
            KeyValue::new("payment.amount", amount as i64),
            KeyValue::new("payment.currency", currency.to_owned()),
        ])
        .start(tracer);
    Context::current_with_span(span)
}

#[inline(never)]
pub fn hand(tracer: &SdkTracer, amount: u64, currency: &str) -> u64 {
    let cx = hand_span(tracer, amount, currency);
    let _current = cx.clone().attach();
    let out = work(amount, currency);
    cx.span().end();
    out
}

/// The same span with the information `#[otel::span]` adds: the code location.
#[inline(never)]
pub fn hand_with_code_location(tracer: &SdkTracer, amount: u64, currency: &str) -> u64 {
    let span = tracer
        .span_builder("hand")
        .with_attributes([
            KeyValue::new(
                "code.function.name",
                "otel_benches::hand_with_code_location",
            ),
            KeyValue::new("code.file.path", file!()),
            KeyValue::new("code.line.number", i64::from(line!())),
            KeyValue::new("payment.amount", amount as i64),
            KeyValue::new("payment.currency", currency.to_owned()),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    let _current = cx.clone().attach();
    let out = work(amount, currency);
    cx.span().end();
    out
}

#[inline(never)]
pub fn hand_err(tracer: &SdkTracer, amount: u64) -> Result<u64, Declined> {
    let cx = hand_span(tracer, amount, "EUR");
    let _current = cx.clone().attach();
    let out = fail(amount);
    if let Err(error) = &out {
        let span = cx.span();
        let message = error.to_string();
        span.set_attribute(KeyValue::new(
            "error.type",
            std::any::type_name::<Declined>(),
        ));
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", std::any::type_name::<Declined>()),
                KeyValue::new("exception.message", message.clone()),
            ],
        );
        span.set_status(Status::error(message));
    }
    cx.span().end();
    out
}

#[inline(never)]
pub async fn hand_async(tracer: &SdkTracer, amount: u64, currency: &'static str) -> u64 {
    let cx = hand_span(tracer, amount, currency);
    let out = async move {
        YieldOnce::default().await;
        work(amount, currency)
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    out
}

// --- #[otel::span] ----------------------------------------------------------------------------

#[inline(never)]
#[otel::span(attributes(payment.amount = amount, payment.currency = currency))]
pub fn macro_span(amount: u64, currency: &str) -> u64 {
    work(amount, currency)
}

#[inline(never)]
#[otel::span(attributes(payment.amount = amount, payment.currency = "EUR"))]
pub fn macro_err(amount: u64) -> Result<u64, Declined> {
    fail(amount)
}

#[inline(never)]
#[otel::span(attributes(payment.amount = amount, payment.currency = currency))]
pub async fn macro_async(amount: u64, currency: &'static str) -> u64 {
    YieldOnce::default().await;
    work(amount, currency)
}

// --- #[tracing::instrument] through tracing-opentelemetry -------------------------------------

#[inline(never)]
#[tracing::instrument(skip_all, fields(payment.amount = amount, payment.currency = currency))]
pub fn tracing_span(amount: u64, currency: &str) -> u64 {
    work(amount, currency)
}

#[inline(never)]
#[tracing::instrument(skip_all, err, fields(payment.amount = amount, payment.currency = "EUR"))]
pub fn tracing_err(amount: u64) -> Result<u64, Declined> {
    fail(amount)
}

#[inline(never)]
#[tracing::instrument(skip_all, fields(payment.amount = amount, payment.currency = currency))]
pub async fn tracing_async(amount: u64, currency: &'static str) -> u64 {
    YieldOnce::default().await;
    work(amount, currency)
}

// --- fastrace #[trace] with its OpenTelemetry reporter ----------------------------------------

#[inline(never)]
#[fastrace::trace(properties = { "payment.amount": "{amount}", "payment.currency": "{currency}" })]
pub fn fastrace_span(amount: u64, currency: &str) -> u64 {
    work(amount, currency)
}

#[inline(never)]
#[fastrace::trace(properties = { "payment.amount": "{amount}", "payment.currency": "EUR" })]
pub fn fastrace_err(amount: u64) -> Result<u64, Declined> {
    fail(amount)
}

#[inline(never)]
#[fastrace::trace(properties = { "payment.amount": "{amount}", "payment.currency": "{currency}" })]
pub async fn fastrace_async(amount: u64, currency: &'static str) -> u64 {
    YieldOnce::default().await;
    work(amount, currency)
}

// --- metrics: the same counter and histogram, every way ------------------------------------------

/// A metric exporter that drops every collection.
#[derive(Debug, Default)]
pub struct DiscardMetrics;

impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for DiscardMetrics {
    async fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> OTelSdkResult {
        black_box(metrics);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        opentelemetry_sdk::metrics::Temporality::Cumulative
    }
}

/// A meter provider with a periodic reader on [`DiscardMetrics`].
pub fn meter_provider() -> opentelemetry_sdk::metrics::SdkMeterProvider {
    opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::PeriodicReader::builder(DiscardMetrics).build())
        .build()
}

/// Hand-written SDK code: instruments created once, a counter add and a histogram record with
/// one attribute.
#[derive(Debug)]
pub struct HandInstruments {
    orders: opentelemetry::metrics::Counter<u64>,
    values: opentelemetry::metrics::Histogram<f64>,
}

impl HandInstruments {
    pub fn new(provider: &opentelemetry_sdk::metrics::SdkMeterProvider) -> Self {
        use opentelemetry::metrics::MeterProvider as _;
        let meter = provider.meter("hand");
        HandInstruments {
            orders: meter.u64_counter("orders.placed").build(),
            values: meter.f64_histogram("orders.value").build(),
        }
    }
}

#[inline(never)]
pub fn hand_metrics(instruments: &HandInstruments, amount: u64, kind: &str) -> u64 {
    let attributes = [KeyValue::new("order.kind", kind.to_owned())];
    instruments.orders.add(1, &attributes);
    instruments.values.record(amount as f64, &attributes);
    work(amount, kind)
}

#[inline(never)]
#[otel::metric(counter = "orders.placed", attributes(order.kind = kind))]
#[otel::metric(histogram = "orders.value", value = amount, attributes(order.kind = kind))]
pub fn macro_metrics(amount: u64, kind: &str) -> u64 {
    work(amount, kind)
}

#[inline(never)]
#[otel::metric]
pub fn macro_red(amount: u64, kind: &str) -> Result<u64, Declined> {
    Ok(work(amount, kind))
}

#[inline(never)]
#[autometrics::autometrics]
pub fn autometrics_red(amount: u64, kind: &str) -> Result<u64, Declined> {
    Ok(work(amount, kind))
}

/// The `metrics` crate with handles registered once, as its docs recommend for hot paths.
#[derive(Debug)]
pub struct MetricsHandles {
    orders: metrics::Counter,
    values: metrics::Histogram,
}

impl MetricsHandles {
    pub fn new(kind: &str) -> Self {
        MetricsHandles {
            orders: metrics::counter!("orders_placed", "order.kind" => kind.to_owned()),
            values: metrics::histogram!("orders_value", "order.kind" => kind.to_owned()),
        }
    }
}

#[inline(never)]
pub fn metrics_crate(handles: &MetricsHandles, amount: u64, kind: &str) -> u64 {
    handles.orders.increment(1);
    handles.values.record(amount as f64);
    work(amount, kind)
}
