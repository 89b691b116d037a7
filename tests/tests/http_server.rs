//! `otel::http::ServerLayer` on a real axum server on a loopback port, called with real HTTP
//! requests: span names by route template, the semantic-convention attributes, the incoming
//! `traceparent` continued, the `traceresponse` header, excluded URLs, 5xx against 4xx, a
//! handler panic, malformed headers, and the metric points with their labels.

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use otel::opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use otel::opentelemetry::{Value, global};
use otel::testing::{PointValue, SpanData, capture_metrics, capture_spans};

#[otel::span]
async fn load_item(id: u32) -> Result<String, String> {
    if id == 0 {
        Err("no item 0".to_owned())
    } else {
        Ok(format!("item {id}"))
    }
}

async fn item(axum::extract::Path(id): axum::extract::Path<u32>) -> Result<String, StatusCode> {
    load_item(id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

async fn panics() -> &'static str {
    panic!("handler panicked on purpose")
}

fn app() -> Router {
    routes().layer(otel::http::ServerLayer::new().exclude("/health$"))
}

fn routes() -> Router {
    Router::new()
        .route("/items/{id}", get(item))
        .route("/health", get(|| async { "ok" }))
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route("/panics", get(panics))
        .route(
            "/with-headers",
            get(|| async {
                (
                    [("x-served-by", "node-1"), ("set-cookie", "session=abc")],
                    "ok",
                )
            }),
        )
}

/// Serves [`app`] on a free loopback port in a runtime of its own.
fn serve() -> (SocketAddr, tokio::runtime::Runtime) {
    serve_app(app())
}

fn serve_app(app: Router) -> (SocketAddr, tokio::runtime::Runtime) {
    let (runtime, listener, address) = support::loopback::listen(2);
    runtime.spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    (address, runtime)
}

fn get_url(url: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let client = reqwest::blocking::Client::new();
    let mut request = client.get(url).header("user-agent", "otel-test/1.0");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().expect("a response")
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|value| value.to_string())
}

#[test]
fn requests_become_server_spans_named_by_route_with_http_attributes() {
    let spans = capture_spans();
    let (address, _runtime) = serve();
    let response = get_url(&format!("http://{address}/items/7?token=secret"), &[]);
    assert_eq!(response.status(), 200);
    let trace_response = response
        .headers()
        .get("traceresponse")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .expect("a traceresponse header");

    let server = spans.span("GET /items/{id}");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.status, Status::Unset);
    assert_eq!(text(&server, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(text(&server, "http.route").as_deref(), Some("/items/{id}"));
    assert_eq!(text(&server, "url.path").as_deref(), Some("/items/7"));
    assert_eq!(text(&server, "url.scheme").as_deref(), Some("http"));
    assert_eq!(
        attribute(&server, "url.query"),
        None,
        "queries only when opted in"
    );
    assert_eq!(
        attribute(&server, "http.response.status_code"),
        Some(Value::I64(200))
    );
    assert_eq!(
        text(&server, "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(
        text(&server, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attribute(&server, "server.port"),
        Some(Value::I64(i64::from(address.port())))
    );
    assert_eq!(
        text(&server, "client.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        text(&server, "user_agent.original").as_deref(),
        Some("otel-test/1.0")
    );
    assert_eq!(
        trace_response,
        format!(
            "00-{}-{}-01",
            server.span_context.trace_id(),
            server.span_context.span_id()
        )
    );

    // The handler's own span is a child of the server span.
    let inner = spans.span("load_item");
    assert_eq!(inner.parent_span_id, server.span_context.span_id());
    assert_eq!(
        inner.span_context.trace_id(),
        server.span_context.trace_id()
    );
}

#[test]
fn an_incoming_traceparent_is_continued_and_a_malformed_one_starts_a_new_trace() {
    let spans = capture_spans();
    let (address, _runtime) = serve();
    global::set_text_map_propagator(
        otel::opentelemetry::propagation::TextMapCompositePropagator::new(vec![Box::new(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        )]),
    );
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = get_url(
        &format!("http://{address}/items/1"),
        &[("traceparent", parent)],
    );
    assert_eq!(response.status(), 200);
    let server = spans.span("GET /items/{id}");
    assert_eq!(
        server.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(server.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert!(server.parent_span_is_remote);

    let spans = {
        drop(spans);
        capture_spans()
    };
    let response = get_url(
        &format!("http://{address}/items/2"),
        &[("traceparent", "00-not-a-trace-01"), ("baggage", "%%%;;;=")],
    );
    assert_eq!(
        response.status(),
        200,
        "malformed context is no client error"
    );
    let server = spans.span("GET /items/{id}");
    assert!(server.span_context.is_valid());
    assert_eq!(
        server.parent_span_id,
        otel::opentelemetry::trace::SpanId::INVALID
    );
}

/// `record_handler_errors(true)`: the `Err` an annotated fn returned, which the handler turned
/// into a 500, is on the server span too (as an exception escaping a Python handler is); a
/// 4xx or a success after a handled error records nothing there.
#[test]
fn a_handlers_error_behind_a_5xx_is_recorded_on_the_server_span_when_asked() {
    let spans = capture_spans();
    let (address, _runtime) = serve_app(
        routes()
            .route(
                "/recovers",
                get(|| async {
                    let _ = load_item(0).await;
                    "served from cache"
                }),
            )
            .route(
                "/not-found",
                get(|| async { load_item(0).await.map_err(|_| StatusCode::NOT_FOUND) }),
            )
            .layer(otel::http::ServerLayer::new().record_handler_errors(true)),
    );
    assert_eq!(
        get_url(&format!("http://{address}/items/0"), &[]).status(),
        500
    );
    let server = spans.span("GET /items/{id}");
    assert_eq!(server.status, Status::error("no item 0"));
    let exception = server
        .events
        .iter()
        .find(|event| event.name == "exception")
        .unwrap_or_else(|| panic!("no exception event: {:?}", server.events));
    let value = |key: &str| {
        exception
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(value("exception.message").as_deref(), Some("no item 0"));
    assert_eq!(
        value("exception.type").as_deref(),
        Some("alloc::string::String")
    );
    // Still on the fn's own span as well.
    assert!(
        spans
            .span("load_item")
            .events
            .iter()
            .any(|event| event.name == "exception")
    );

    for (path, status) in [("/recovers", 200), ("/not-found", 404)] {
        assert_eq!(
            get_url(&format!("http://{address}{path}"), &[]).status(),
            status
        );
        let server = spans.span(&format!("GET {path}"));
        assert!(server.events.is_empty(), "{path}: {:?}", server.events);
        assert!(!matches!(server.status, Status::Error { .. }), "{path}");
    }
}

#[test]
fn server_errors_fail_the_span_client_errors_do_not_and_panics_are_recorded() {
    let spans = capture_spans();
    let (address, _runtime) = serve();

    assert_eq!(
        get_url(&format!("http://{address}/items/0"), &[]).status(),
        500
    );
    let failed = spans.span("GET /items/{id}");
    assert!(matches!(failed.status, Status::Error { .. }));
    assert_eq!(text(&failed, "error.type").as_deref(), Some("500"));
    assert!(
        failed.events.is_empty(),
        "the exception stays on load_item's span unless asked: {:?}",
        failed.events
    );

    assert_eq!(
        get_url(&format!("http://{address}/teapot"), &[]).status(),
        418
    );
    let teapot = spans.span("GET /teapot");
    assert_eq!(teapot.status, Status::Unset);
    assert_eq!(attribute(&teapot, "error.type"), None);

    // A panicking handler ends its connection; the runtime drops the request's future
    // right after, so the span may end a moment after the client saw the connection close.
    let client = reqwest::blocking::Client::new();
    let _ = client.get(format!("http://{address}/panics")).send();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !spans.spans().iter().any(|span| span.name == "GET /panics")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let panicked = spans.span("GET /panics");
    assert!(matches!(panicked.status, Status::Error { .. }));
    assert_eq!(text(&panicked, "error.type").as_deref(), Some("panic"));
    assert!(
        panicked
            .events
            .iter()
            .any(|event| event.name == "exception")
    );
}

#[test]
fn excluded_urls_leave_no_span_and_no_metric() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, _runtime) = serve();
    assert_eq!(
        get_url(&format!("http://{address}/health"), &[]).status(),
        200
    );
    assert!(spans.spans().is_empty(), "{:#?}", spans.spans());
    let points = metrics.points();
    // Durations are deltas, so any point would be this request's; the in-flight counter is
    // cumulative and may still report earlier tests' requests, all ended.
    assert!(
        points
            .iter()
            .all(|point| point.name != "http.server.request.duration"
                && (point.name != "http.server.active_requests"
                    || point.value == PointValue::Sum(0.0))),
        "{points:#?}"
    );

    // The query is the client's to write: it cannot pass a traced route for `/health`.
    assert_eq!(
        get_url(&format!("http://{address}/items/7?/health"), &[]).status(),
        200
    );
    let evading = spans.span("GET /items/{id}");
    assert_eq!(text(&evading, "url.path").as_deref(), Some("/items/7"));
}

/// 10,000 distinct paths: half match a route template, half match no route.
const DISTINCT_PATHS: u32 = 10_000;

#[test]
fn duration_and_active_requests_by_route_template_not_by_path() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, _runtime) = serve();
    let client = reqwest::blocking::Client::new();
    let get = |path: String| {
        client
            .get(format!("http://{address}{path}"))
            .send()
            .expect("a response")
            .status()
    };
    for id in 1..=DISTINCT_PATHS / 2 {
        assert_eq!(get(format!("/items/{id}")), 200);
        assert_eq!(get(format!("/no/such/route/{id}")), 404);
    }
    let names: std::collections::BTreeSet<_> =
        spans.spans().into_iter().map(|span| span.name).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["GET", "GET /items/{id}", "load_item"],
        "span names by template; unknown routes are named by the method alone"
    );
    let points = metrics.points();
    let durations: Vec<_> = points
        .iter()
        .filter(|point| point.name == "http.server.request.duration")
        .collect();
    assert_eq!(
        durations.len(),
        2,
        "one series per route and status: {durations:#?}"
    );
    let items = durations
        .iter()
        .find(|point| point.attribute("http.route").as_deref() == Some("/items/{id}"))
        .expect("the route's series");
    assert_eq!(items.unit, "s");
    assert_eq!(
        items.attribute("http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        items.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(items.attribute("url.scheme").as_deref(), Some("http"));
    let PointValue::Histogram { count, bounds, .. } = &items.value else {
        panic!("a histogram: {items:#?}");
    };
    assert_eq!(*count, u64::from(DISTINCT_PATHS / 2));
    assert_eq!(bounds.first(), Some(&0.005));
    let unknown = durations
        .iter()
        .find(|point| point.attribute("http.route").is_none())
        .expect("unmatched paths fold into one series");
    assert_eq!(
        unknown.attribute("http.response.status_code").as_deref(),
        Some("404")
    );

    let active = points
        .iter()
        .find(|point| point.name == "http.server.active_requests")
        .expect("the in-flight counter");
    assert_eq!(active.value, PointValue::Sum(0.0), "every request ended");
}

#[otel::span(kind = client)]
fn call_item(address: SocketAddr) -> u16 {
    let mut headers = axum::http::HeaderMap::new();
    otel::propagation::inject_headers(&mut headers);
    reqwest::blocking::Client::new()
        .get(format!("http://{address}/items/3"))
        .headers(headers)
        .send()
        .expect("a response")
        .status()
        .as_u16()
}

#[test]
fn a_context_injected_by_the_caller_is_the_server_spans_parent() {
    let spans = capture_spans();
    let (address, _runtime) = serve();
    global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    assert_eq!(call_item(address), 200);
    let client = spans.span("call_item");
    let server = spans.span("GET /items/{id}");
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert_eq!(
        server.span_context.trace_id(),
        client.span_context.trace_id()
    );
    assert!(server.parent_span_is_remote);

    // The same through a plain map, as message headers carry it.
    let sent =
        otel::opentelemetry::Context::new().with_remote_span_context(client.span_context.clone());
    let mut carried = std::collections::HashMap::new();
    otel::propagation::inject_context(&sent, &mut carried);
    assert!(carried.contains_key("traceparent"), "{carried:?}");
    let received = otel::propagation::extract(&carried);
    let received = received.span().span_context().clone();
    assert_eq!(received.trace_id(), client.span_context.trace_id());
    assert_eq!(received.span_id(), client.span_context.span_id());
    assert!(received.is_remote());
}

// ---------------------------------------------------------------------------------------------
// Calls out: reqwest through the middleware and through `otel::http::send`.

#[otel::span]
async fn checkout(address: SocketAddr) -> (u16, u16) {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(otel::http::ClientMiddleware)
        .build();
    let through_middleware = client
        .get(format!("http://user:secret@{address}/items/4"))
        .send()
        .await
        .expect("a response")
        .status()
        .as_u16();
    let through_send =
        otel::http::send(reqwest::Client::new().get(format!("http://{address}/teapot")))
            .await
            .expect("a response")
            .status()
            .as_u16();
    (through_middleware, through_send)
}

#[test]
fn client_spans_carry_the_trace_to_the_server_and_record_their_duration() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (address, runtime) = serve();
    global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    assert_eq!(runtime.block_on(checkout(address)), (200, 418));

    let caller = spans.span("checkout");
    let clients: Vec<SpanData> = spans
        .spans()
        .into_iter()
        .filter(|span| span.span_kind == SpanKind::Client)
        .collect();
    assert_eq!(clients.len(), 2, "{clients:#?}");
    for client in &clients {
        assert_eq!(client.name, "GET");
        assert_eq!(client.parent_span_id, caller.span_context.span_id());
        assert_eq!(text(client, "server.address").as_deref(), Some("127.0.0.1"));
        assert_eq!(
            attribute(client, "server.port"),
            Some(Value::I64(i64::from(address.port())))
        );
        let full = text(client, "url.full").expect("url.full");
        assert!(
            !full.contains("secret") && !full.contains("user@"),
            "{full}"
        );
    }
    let (ok, teapot): (Vec<&SpanData>, Vec<&SpanData>) = clients
        .iter()
        .partition(|span| attribute(span, "http.response.status_code") == Some(Value::I64(200)));
    assert_eq!(ok[0].status, Status::Unset);
    assert_eq!(text(teapot[0], "error.type").as_deref(), Some("418"));
    assert!(
        matches!(teapot[0].status, Status::Error { .. }),
        "4xx fails a client span"
    );

    // Each server span is the child of the client span that called it: one trace.
    for (client, route) in [(ok[0], "GET /items/{id}"), (teapot[0], "GET /teapot")] {
        let server = spans.span(route);
        assert_eq!(server.parent_span_id, client.span_context.span_id());
        assert_eq!(
            server.span_context.trace_id(),
            caller.span_context.trace_id()
        );
    }

    let durations: Vec<_> = metrics
        .points()
        .into_iter()
        .filter(|point| point.name == "http.client.request.duration")
        .collect();
    assert_eq!(durations.len(), 2, "{durations:#?}");
    for point in &durations {
        assert_eq!(point.unit, "s");
        assert_eq!(
            point.attribute("server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert!(matches!(
            point.value,
            PointValue::Histogram { count: 1, .. }
        ));
    }
}

#[test]
fn a_failed_connection_is_a_client_error_not_a_panic() {
    let spans = capture_spans();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("its address")
        .port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(otel::http::send(
        reqwest::Client::new().get(format!("http://127.0.0.1:{port}/")),
    ));
    assert!(result.is_err());
    let client = spans.span("GET");
    assert_eq!(text(&client, "error.type").as_deref(), Some("connect"));
    assert!(matches!(client.status, Status::Error { .. }));
}

/// Requests a client dressed as gRPC (`content-type: application/grpc`) to paths of its
/// choosing, on an app that serves no gRPC: one `rpc.server.duration` series, not one per path.
#[test]
fn clients_cannot_mint_rpc_series_with_grpc_content_types() {
    // Held for the test's length, so no other test sees these requests' spans.
    let _spans = capture_spans();
    let metrics = capture_metrics();
    let (address, _runtime) = serve();
    let client = reqwest::blocking::Client::new();
    for i in 0..300 {
        let response = client
            .post(format!("http://{address}/x{i}/m{i}"))
            .header("content-type", "application/grpc")
            .send()
            .expect("a response");
        assert!(!response.status().is_success());
    }
    let points: Vec<_> = metrics
        .points()
        .into_iter()
        .filter(|point| point.name == "rpc.server.duration")
        .collect();
    let methods: std::collections::BTreeSet<_> = points
        .iter()
        .map(|point| {
            (
                point.attribute("rpc.service"),
                point.attribute("rpc.method"),
            )
        })
        .collect();
    assert_eq!(
        methods,
        [(Some("_OTHER".to_owned()), Some("_OTHER".to_owned()))]
            .into_iter()
            .collect(),
        "{} points",
        points.len()
    );
}

/// A body whose second half comes `BODY_DELAY` after its head.
struct SlowBody {
    sent: u8,
    delay: std::pin::Pin<Box<tokio::time::Sleep>>,
}

const BODY_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

impl http_body::Body for SlowBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        task: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        match self.sent {
            0 => {
                self.sent = 1;
                Poll::Ready(Some(Ok(http_body::Frame::data("head ".into()))))
            }
            1 => {
                std::task::ready!(self.delay.as_mut().poll(task));
                self.sent = 2;
                Poll::Ready(Some(Ok(http_body::Frame::data("tail".into()))))
            }
            _ => Poll::Ready(None),
        }
    }
}

/// The server span and `http.server.request.duration` end when the body does, not when the
/// handler returned its head; the duration is measured on the monotonic clock.
#[test]
fn a_streamed_response_is_timed_to_the_end_of_its_body() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let app = routes()
        .route(
            "/slow-body",
            get(|| async {
                axum::body::Body::new(SlowBody {
                    sent: 0,
                    delay: Box::pin(tokio::time::sleep(BODY_DELAY)),
                })
            }),
        )
        .layer(otel::http::ServerLayer::new());
    let (address, _runtime) = serve_app(app);
    let response = get_url(&format!("http://{address}/slow-body"), &[]);
    assert_eq!(response.text().expect("the body"), "head tail");
    let server = spans.span("GET /slow-body");
    let took = server
        .end_time
        .duration_since(server.start_time)
        .expect("ends after it starts");
    assert!(took >= BODY_DELAY, "the span took {took:?}");
    let point = metrics
        .points()
        .into_iter()
        .find(|point| {
            point.name == "http.server.request.duration"
                && point.attribute("http.route").as_deref() == Some("/slow-body")
        })
        .expect("a duration point");
    match point.value {
        PointValue::Histogram { sum, .. } => {
            assert!(sum >= BODY_DELAY.as_secs_f64(), "recorded {sum} s");
            assert!(
                (sum - took.as_secs_f64()).abs() < 0.001,
                "{sum} s, span {took:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The caller gives up on a request (a timeout drops the future): the client span ends
/// cancelled with `error.type`, and the duration is recorded.
#[test]
fn a_client_call_dropped_by_its_caller_is_recorded_cancelled() {
    let spans = capture_spans();
    let metrics = capture_metrics();
    let app = routes()
        .route(
            "/never",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .layer(otel::http::ServerLayer::new());
    let (address, runtime) = serve_app(app);
    let timed_out = runtime.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(200),
            otel::http::send(reqwest::Client::new().get(format!("http://{address}/never"))),
        )
        .await
    });
    assert!(timed_out.is_err(), "the caller gave up");
    let client = spans
        .spans()
        .into_iter()
        .find(|span| span.span_kind == SpanKind::Client)
        .expect("the client span ended");
    assert_eq!(
        attribute(&client, "rust.future.cancelled"),
        Some(Value::Bool(true))
    );
    assert_eq!(text(&client, "error.type").as_deref(), Some("cancelled"));
    assert!(matches!(client.status, Status::Error { .. }));
    let point = metrics
        .points()
        .into_iter()
        .find(|point| point.name == "http.client.request.duration")
        .expect("a duration point");
    assert_eq!(point.attribute("error.type").as_deref(), Some("cancelled"));
}

#[test]
fn listed_headers_are_recorded_and_credentials_redacted() {
    let spans = capture_spans();
    let layer = otel::http::ServerLayer::new()
        .capture_request_headers(["x-request-id", "Authorization", "accept"])
        .capture_response_headers(["x-served-by", "set-cookie"]);
    let (address, _runtime) = serve_app(routes().layer(layer));
    let response = get_url(
        &format!("http://{address}/with-headers"),
        &[
            ("x-request-id", "req-7"),
            ("authorization", "Bearer secret-token"),
            ("x-not-listed", "nope"),
        ],
    );
    assert_eq!(response.status(), 200);
    let server = spans.span("GET /with-headers");
    assert_eq!(
        text(&server, "http.request.header.x-request-id").as_deref(),
        Some(r#"["req-7"]"#)
    );
    assert_eq!(
        text(&server, "http.request.header.authorization").as_deref(),
        Some(r#"["[REDACTED]"]"#)
    );
    assert_eq!(attribute(&server, "http.request.header.x-not-listed"), None);
    assert_eq!(
        text(&server, "http.response.header.x-served-by").as_deref(),
        Some(r#"["node-1"]"#)
    );
    assert_eq!(
        text(&server, "http.response.header.set-cookie").as_deref(),
        Some(r#"["[REDACTED]"]"#)
    );
    assert!(
        server
            .attributes
            .iter()
            .all(|kv| !kv.value.to_string().contains("secret")),
        "{:#?}",
        server.attributes
    );
}

/// What a client writes (its user agent, the path, a forwarded address, the `Host`) is cut to
/// 2,048 characters on the server span when no `OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT` says
/// otherwise: one request cannot put 300 KB into a span.
#[test]
fn values_a_client_writes_are_bounded_on_the_server_span() {
    let spans = capture_spans();
    let (address, _runtime) = serve();
    let huge = "u".repeat(300_000);
    let path = format!("/items/{}", "7".repeat(20_000));
    let response = reqwest::blocking::Client::new()
        .get(format!("http://{address}{path}"))
        .header("user-agent", huge.as_str())
        .header(
            "x-forwarded-for",
            format!("{}, 10.0.0.1", "f".repeat(50_000)),
        )
        .send()
        .expect("a response");
    assert!(response.status().is_client_error(), "{}", response.status());
    let server = spans
        .spans()
        .into_iter()
        .find(|span| span.span_kind == SpanKind::Server)
        .expect("a server span");
    for key in ["user_agent.original", "url.path", "client.address"] {
        let value = text(&server, key).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(value.chars().count(), 2048, "{key}");
    }
}

#[test]
fn non_utf8_and_huge_header_values_neither_fail_the_request_nor_panic() {
    let spans = capture_spans();
    let layer = otel::http::ServerLayer::new().capture_request_headers(["x-big", "x-latin1"]);
    let (address, _runtime) = serve_app(routes().layer(layer));
    let latin1 = reqwest::header::HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed");
    let big = "x".repeat(60_000);
    let response = reqwest::blocking::Client::new()
        .get(format!("http://{address}/items/5"))
        .header("user-agent", latin1.clone())
        .header("x-latin1", latin1)
        .header("x-big", big.as_str())
        .header(
            "traceparent",
            reqwest::header::HeaderValue::from_bytes(b"00-\xff\xfe-garbage-01").expect("bytes"),
        )
        .send()
        .expect("a response");
    assert_eq!(response.status(), 200);
    let server = spans.span("GET /items/{id}");
    // Not text: left out rather than guessed, or kept lossily when asked for by name.
    assert_eq!(attribute(&server, "user_agent.original"), None);
    assert_eq!(
        text(&server, "http.request.header.x-latin1").as_deref(),
        Some("[\"caf\u{fffd}\"]")
    );
    // Cut to 2,048 characters, the default for what a client sent.
    assert_eq!(
        text(&server, "http.request.header.x-big").map(|value| value.len()),
        Some(2048 + 4)
    );
    assert_eq!(
        server.parent_span_id,
        otel::opentelemetry::trace::SpanId::INVALID
    );
}
