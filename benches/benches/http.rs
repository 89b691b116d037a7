//! Per-request cost of HTTP server instrumentation, through an in-process axum service (no
//! network), in one run: the service uninstrumented, behind `otel::http::ServerLayer`, and
//! behind tower-http's `TraceLayer` with tracing-opentelemetry (its default `new_for_http`
//! spans). Every instrumented case records into one provider with the SDK's own
//! `BatchSpanProcessor` on a discarding exporter; `ServerLayer` also records its two metrics
//! into a meter provider with a discarding periodic reader, which `TraceLayer` does not do.
//!
//! ```text
//! cargo bench -p otel-benches --bench http
//! ```

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::Criterion;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel::__private::{SamplerKind, install_meter_provider, install_tracer_provider};
use otel_benches::{meter_provider, sdk_batch_processor};
use tower_service::Service as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn routes() -> Router {
    Router::new().route("/items/{id}", get(|| async { "an item" }))
}

fn request() -> Request<Body> {
    Request::builder()
        .uri("/items/7")
        .header("host", "shop.local:8080")
        .header("user-agent", "bench/1.0")
        .body(Body::empty())
        .expect("a request")
}

/// One request through `router`, to the end of its response.
fn call(runtime: &tokio::runtime::Runtime, router: &mut Router) {
    let response = runtime
        .block_on(router.call(request()))
        .expect("a response");
    black_box(response);
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let provider = SdkTracerProvider::builder()
        .with_span_processor(sdk_batch_processor())
        .build();
    install_tracer_provider(provider.clone(), SamplerKind::AlwaysOn);
    let meters = meter_provider();
    opentelemetry::global::set_meter_provider(meters.clone());
    install_meter_provider(meters.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")));
    let dispatch = tracing::Dispatch::new(subscriber);

    let mut group = criterion.benchmark_group("http_request");
    let mut bare = routes();
    group.bench_function("uninstrumented", |b| b.iter(|| call(&runtime, &mut bare)));
    let mut ours = routes().layer(otel::http::ServerLayer::new());
    group.bench_function("otel_server_layer", |b| {
        b.iter(|| call(&runtime, &mut ours))
    });
    let mut tower_http = routes().layer(tower_http::trace::TraceLayer::new_for_http());
    group.bench_function("tower_http_trace_layer", |b| {
        tracing::dispatcher::with_default(&dispatch, || b.iter(|| call(&runtime, &mut tower_http)))
    });
    group.finish();
    criterion.final_summary();
    let _ = provider.shutdown();
    let _ = meters.shutdown();
}
