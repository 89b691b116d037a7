//! gRPC through a real tonic server behind `otel::http::ServerLayer`, called over a real
//! loopback connection by a tonic client behind `otel::grpc::ClientLayer`: span names by
//! service and method, the RPC attributes, the status read from the trailers, which statuses
//! fail which side, the trace carried from client to server, and the RPC duration metrics.

mod support;

use std::net::SocketAddr;

use otel::opentelemetry::trace::{SpanKind, Status};
use otel::opentelemetry::{Value, global};
use otel::testing::{PointValue, SpanData, capture_metrics, capture_spans};
use otel_tests::payments;
use tower_layer::Layer as _;

/// Serves the payments service on a free loopback port in a runtime of its own.
fn serve() -> (SocketAddr, tokio::runtime::Runtime) {
    // What `#[otel::main]` installs by default.
    global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let (runtime, listener, address) = support::loopback::listen(2);
    runtime.spawn(payments::serve(listener));
    (address, runtime)
}

/// One call through a channel with `ClientLayer`, to the end of its response.
fn call(
    runtime: &tokio::runtime::Runtime,
    address: SocketAddr,
    method: &'static str,
    item: &str,
) -> Result<payments::Receipt, tonic::Status> {
    runtime.block_on(async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .expect("an endpoint");
        let channel = endpoint.connect().await.expect("a connection");
        let channel = otel::grpc::ClientLayer::new()
            .server(endpoint.uri())
            .layer(channel);
        payments::call(channel, method, item).await
    })
}

const CHARGE: &str = "/shop.v1.Payments/Charge";
const NAME: &str = "shop.v1.Payments/Charge";

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|value| value.to_string())
}

fn span_of_kind(spans: &[SpanData], name: &str, kind: SpanKind) -> SpanData {
    spans
        .iter()
        .find(|span| span.name == name && span.span_kind == kind)
        .cloned()
        .unwrap_or_else(|| {
            let seen: Vec<_> = spans.iter().map(|s| (&s.name, &s.span_kind)).collect();
            panic!("no {kind:?} span {name}; captured: {seen:?}")
        })
}

#[test]
fn a_call_is_one_trace_from_client_span_to_server_span_to_the_handler() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, runtime) = serve();
    let receipt = call(&runtime, address, CHARGE, "book").expect("a receipt");
    assert_eq!(receipt.id, "receipt-book-1250");

    let captured = spans.spans();
    let client = span_of_kind(&captured, NAME, SpanKind::Client);
    let server = span_of_kind(&captured, NAME, SpanKind::Server);
    let handler = spans.span("charge");
    assert_eq!(
        server.span_context.trace_id(),
        client.span_context.trace_id(),
        "the client's context travelled in the call's metadata"
    );
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);
    assert_eq!(handler.parent_span_id, server.span_context.span_id());

    for span in [&client, &server] {
        assert_eq!(text(span, "rpc.system").as_deref(), Some("grpc"));
        assert_eq!(
            text(span, "rpc.service").as_deref(),
            Some("shop.v1.Payments")
        );
        assert_eq!(text(span, "rpc.method").as_deref(), Some("Charge"));
        assert_eq!(
            attribute(span, "rpc.grpc.status_code"),
            Some(Value::I64(0)),
            "the OK status, read from the trailers"
        );
        assert_eq!(span.status, Status::Unset);
        assert_eq!(attribute(span, "error.type"), None);
        assert_eq!(
            attribute(span, "http.request.method"),
            None,
            "an RPC, not HTTP"
        );
    }
    assert_eq!(
        text(&client, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attribute(&client, "server.port"),
        Some(Value::I64(i64::from(address.port())))
    );
    assert_eq!(
        text(&server, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        text(&server, "network.protocol.version").as_deref(),
        Some("2")
    );
    assert!(
        client.start_time <= server.start_time && server.end_time <= client.end_time,
        "the server span lies within the client span"
    );

    let points = metrics.points();
    for name in ["rpc.server.duration", "rpc.client.duration"] {
        let point = points
            .iter()
            .find(|point| point.name == name)
            .unwrap_or_else(|| panic!("no {name} point; captured: {points:#?}"));
        assert_eq!(point.unit, "ms");
        assert_eq!(point.attribute("rpc.system").as_deref(), Some("grpc"));
        assert_eq!(
            point.attribute("rpc.service").as_deref(),
            Some("shop.v1.Payments")
        );
        assert_eq!(point.attribute("rpc.method").as_deref(), Some("Charge"));
        assert_eq!(
            point.attribute("rpc.grpc.status_code").as_deref(),
            Some("0")
        );
        match &point.value {
            PointValue::Histogram { count, sum, .. } => {
                assert_eq!(*count, 1, "{name}");
                assert!(*sum > 0.0 && *sum < 10_000.0, "{name}: {sum} ms");
            }
            other => panic!("{name} is a histogram, got {other:?}"),
        }
    }
    assert!(
        points
            .iter()
            .all(|point| !point.name.starts_with("http.server")),
        "a gRPC call records the RPC metrics, not the HTTP ones: {points:#?}"
    );
}

#[test]
fn the_callers_mistakes_fail_only_the_client_span() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, runtime) = serve();
    let status = call(&runtime, address, CHARGE, "missing").expect_err("NOT_FOUND");
    assert_eq!(status.code(), tonic::Code::NotFound);

    let captured = spans.spans();
    let client = span_of_kind(&captured, NAME, SpanKind::Client);
    let server = span_of_kind(&captured, NAME, SpanKind::Server);
    for span in [&client, &server] {
        assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(Value::I64(5)));
    }
    assert_eq!(
        server.status,
        Status::Unset,
        "NOT_FOUND is not the server's fault"
    );
    assert_eq!(attribute(&server, "error.type"), None);
    assert_eq!(client.status, Status::error("no such item"));
    assert_eq!(text(&client, "error.type").as_deref(), Some("NOT_FOUND"));

    let client_point = metrics.point("rpc.client.duration");
    assert_eq!(
        client_point.attribute("error.type").as_deref(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        client_point.attribute("rpc.grpc.status_code").as_deref(),
        Some("5")
    );
}

#[test]
fn server_faults_fail_both_spans_with_the_status_message() {
    let spans = capture_spans();
    let (address, runtime) = serve();
    let status = call(&runtime, address, CHARGE, "crash").expect_err("INTERNAL");
    assert_eq!(status.code(), tonic::Code::Internal);

    let captured = spans.spans();
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = span_of_kind(&captured, NAME, kind.clone());
        assert_eq!(
            attribute(&span, "rpc.grpc.status_code"),
            Some(Value::I64(13))
        );
        assert_eq!(
            span.status,
            Status::error("card processor down"),
            "{kind:?}"
        );
        assert_eq!(text(&span, "error.type").as_deref(), Some("INTERNAL"));
    }
}

#[test]
fn an_unknown_method_is_unimplemented() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, runtime) = serve();
    let status =
        call(&runtime, address, "/shop.v1.Payments/Refund", "book").expect_err("UNIMPLEMENTED");
    assert_eq!(status.code(), tonic::Code::Unimplemented);

    let captured = spans.spans();
    let server = span_of_kind(&captured, "shop.v1.Payments/Refund", SpanKind::Server);
    assert_eq!(text(&server, "rpc.method").as_deref(), Some("Refund"));
    assert_eq!(
        attribute(&server, "rpc.grpc.status_code"),
        Some(Value::I64(12)),
        "a trailers-only response: the status is in the headers"
    );
    assert_eq!(
        text(&server, "error.type").as_deref(),
        Some("UNIMPLEMENTED")
    );
    // A method no server answered names no series: the client chose it.
    let points = metrics.points();
    let point = points
        .iter()
        .find(|point| point.name == "rpc.server.duration")
        .unwrap_or_else(|| panic!("no rpc.server.duration: {points:#?}"));
    assert_eq!(point.attribute("rpc.method").as_deref(), Some("_OTHER"));
    assert_eq!(point.attribute("rpc.service").as_deref(), Some("_OTHER"));
}

#[test]
fn a_server_that_is_not_there_fails_the_client_span() {
    let spans = capture_spans();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // Connect lazily to a port nobody listens on: the call itself fails in the transport.
    let address: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address")
    };
    let status = runtime.block_on(async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .expect("an endpoint");
        let channel = otel::grpc::ClientLayer::new()
            .server(endpoint.uri())
            .layer(endpoint.connect_lazy());
        payments::call(channel, CHARGE, "book").await
    });
    assert!(status.is_err(), "nobody answers");

    let client = span_of_kind(&spans.spans(), NAME, SpanKind::Client);
    assert!(matches!(client.status, Status::Error { .. }));
    assert!(
        attribute(&client, "error.type").is_some(),
        "the transport error's type: {:?}",
        client.attributes
    );
}
