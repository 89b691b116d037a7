//! `#[otel::span]` behaviour, asserted on the spans captured in-process: names, parents,
//! kinds, attributes, events and status, for every fn shape and runtime flavour.

use std::fmt;
use std::time::Duration;

use otel::opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use otel::opentelemetry::{Context, KeyValue, Value, global};
use otel::testing::{SpanData, capture_spans};

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn string(span: &SpanData, key: &str) -> String {
    match attribute(span, key) {
        Some(value) => value.as_str().into_owned(),
        None => panic!(
            "span `{}` has no attribute `{key}`: {:?}",
            span.name, span.attributes
        ),
    }
}

fn event<'a>(span: &'a SpanData, name: &str) -> &'a otel::opentelemetry::trace::Event {
    span.events
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| {
            panic!(
                "span `{}` has no `{name}` event: {:?}",
                span.name, span.events
            )
        })
}

fn event_attribute(event: &otel::opentelemetry::trace::Event, key: &str) -> Option<String> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

fn assert_child(child: &SpanData, parent: &SpanData) {
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id(),
        "`{}` is in the trace of `{}`",
        child.name,
        parent.name
    );
    assert_eq!(
        child.parent_span_id,
        parent.span_context.span_id(),
        "`{}` is a child of `{}`",
        child.name,
        parent.name
    );
}

// ---------------------------------------------------------------------------------------------
// The functions under test.

#[derive(Debug)]
struct Request {
    amount: f64,
    currency: &'static str,
}

#[derive(Debug)]
struct Declined {
    cause: std::io::Error,
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card declined")
    }
}

impl std::error::Error for Declined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

type Outcome<T> = Result<T, Declined>;

#[otel::span(kind = client, attributes(payment.amount = req.amount, "payment.currency" = %req.currency, request = ?req, card))]
fn charge(req: &Request, card: &str) -> Outcome<u32> {
    if card == "0000" {
        return Err(Declined {
            cause: std::io::Error::other("issuer unavailable"),
        });
    }
    Ok(7)
}

#[otel::span]
fn checkout(card: &str) -> anyhow::Result<u32> {
    let receipt = charge(
        &Request {
            amount: 12.5,
            currency: "EUR",
        },
        card,
    )?;
    Ok(receipt)
}

#[otel::span(name = "lookup", error_if = |e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound, ret)]
fn find(missing: bool) -> std::io::Result<&'static str> {
    if missing {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such item",
        ))
    } else {
        Ok("found")
    }
}

#[otel::span]
fn panics() {
    panic!("inventory corrupted");
}

struct Cart {
    items: Vec<u32>,
}

impl Cart {
    #[otel::span(attributes(count = self.items.len()))]
    fn total(&self) -> u32 {
        self.items.iter().sum()
    }

    #[otel::span]
    fn first_mut(&mut self) -> &mut u32 {
        &mut self.items[0]
    }

    #[otel::span]
    fn new() -> Self {
        Cart { items: vec![1, 2] }
    }
}

#[otel::span(kind = server)]
async fn handle(card: &'static str) -> Result<u32, Declined> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let n = charge(
        &Request {
            amount: 3.0,
            currency: "USD",
        },
        card,
    )?;
    tokio::task::yield_now().await;
    Ok(n)
}

#[otel::span]
async fn sleeps_forever() {
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[otel::span]
fn returns_future(n: u32) -> impl std::future::Future<Output = u32> {
    async move {
        tokio::task::yield_now().await;
        leaf(n)
    }
}

#[otel::span]
fn leaf(n: u32) -> u32 {
    n + 1
}

#[otel::span(root)]
fn detached() {}

#[otel::span]
fn add_from_body() {
    otel::current_span::set_attribute("cart.size", 3);
    otel::current_span::add_event("cache.miss", [KeyValue::new("key", "cart:1")]);
}

/// Returns its own context, which outlives the call.
#[otel::span]
fn keeps_its_context() -> Context {
    otel::current_span::set_attribute("during.call", true);
    Context::current()
}

#[tracing::instrument]
fn tracing_inside() {
    leaf(1);
}

#[otel::span]
fn otel_around_tracing() {
    tracing_inside();
}

trait Store {
    async fn load(&self, key: u32) -> u32;
}

struct Memory;

impl Store for Memory {
    #[otel::span]
    async fn load(&self, key: u32) -> u32 {
        leaf(key)
    }
}

#[async_trait::async_trait]
trait AsyncStore {
    async fn fetch(&self, key: u32) -> Result<u32, Declined>;
}

#[async_trait::async_trait]
impl AsyncStore for Memory {
    #[otel::span]
    async fn fetch(&self, key: u32) -> Result<u32, Declined> {
        tokio::task::yield_now().await;
        Ok(leaf(key))
    }
}

// ---------------------------------------------------------------------------------------------
// Sync.

#[test]
fn sync_span_with_attributes_and_static_code_location() {
    let capture = capture_spans();
    assert_eq!(
        charge(
            &Request {
                amount: 9.5,
                currency: "EUR"
            },
            "4242"
        )
        .ok(),
        Some(7)
    );
    let span = capture.span("charge");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attribute(&span, "payment.amount"), Some(Value::F64(9.5)));
    assert_eq!(string(&span, "payment.currency"), "EUR");
    assert_eq!(
        string(&span, "request"),
        "Request { amount: 9.5, currency: \"EUR\" }"
    );
    assert_eq!(string(&span, "card"), "4242");
    assert_eq!(string(&span, "code.function.name"), "span::charge");
    assert_eq!(string(&span, "code.file.path"), "tests/tests/span.rs");
    assert!(matches!(attribute(&span, "code.line.number"), Some(Value::I64(n)) if n > 0));
    assert_eq!(
        span.status,
        Status::Unset,
        "success leaves the status unset"
    );
    assert!(span.events.is_empty());
    assert_eq!(span.instrumentation_scope.name(), "otel-tests");
}

#[test]
fn error_sets_status_error_type_and_exception_event_with_cause() {
    let capture = capture_spans();
    assert!(checkout("0000").is_err());
    let charge = capture.span("charge");
    let checkout = capture.span("checkout");
    assert_child(&charge, &checkout);

    assert_eq!(charge.status, Status::error("card declined"));
    assert_eq!(string(&charge, "error.type"), "span::Declined");
    let exception = event(&charge, "exception");
    assert_eq!(
        event_attribute(exception, "exception.type").as_deref(),
        Some("span::Declined")
    );
    assert_eq!(
        event_attribute(exception, "exception.message").as_deref(),
        Some("card declined")
    );
    let stacktrace = event_attribute(exception, "exception.stacktrace").unwrap_or_default();
    assert!(
        stacktrace.contains("Caused by: issuer unavailable"),
        "{stacktrace}"
    );

    // `?` turned it into an anyhow::Error, recorded again on the caller.
    assert_eq!(checkout.status, Status::error("card declined"));
    assert_eq!(string(&checkout, "error.type"), "anyhow::Error");
}

#[test]
fn error_if_filters_errors_and_ret_records_the_ok_value() {
    let capture = capture_spans();
    assert!(find(true).is_err());
    assert!(find(false).is_ok());
    let spans = capture.spans();
    assert_eq!(spans.len(), 2);
    let (missing, found) = (&spans[0], &spans[1]);
    assert_eq!(missing.name, "lookup");
    assert_eq!(missing.status, Status::Unset, "NotFound does not count");
    assert!(missing.events.is_empty());
    assert_eq!(string(found, "rust.return.value"), "\"found\"");
}

#[test]
fn panic_sets_error_status_and_exception_event_then_unwinds() {
    let capture = capture_spans();
    let unwound = std::panic::catch_unwind(panics);
    assert!(unwound.is_err(), "the panic continues");
    let span = capture.span("panics");
    assert_eq!(span.status, Status::error("inventory corrupted"));
    let exception = event(&span, "exception");
    assert_eq!(
        event_attribute(exception, "exception.type").as_deref(),
        Some("panic")
    );
    assert_eq!(
        event_attribute(exception, "exception.message").as_deref(),
        Some("inventory corrupted")
    );
}

#[test]
fn methods_are_named_type_then_method() {
    let capture = capture_spans();
    let mut cart = Cart::new();
    *cart.first_mut() += 1;
    assert_eq!(cart.total(), 4);
    let total = capture.span("Cart::total");
    assert_eq!(attribute(&total, "count"), Some(Value::I64(2)));
    assert_eq!(string(&total, "code.function.name"), "span::Cart::total");
    capture.span("Cart::new");
    capture.span("Cart::first_mut");
}

#[test]
fn body_helpers_add_attributes_and_events() {
    let capture = capture_spans();
    add_from_body();
    let span = capture.span("add_from_body");
    assert_eq!(attribute(&span, "cart.size"), Some(Value::I64(3)));
    assert_eq!(
        event_attribute(event(&span, "cache.miss"), "key").as_deref(),
        Some("cart:1")
    );
}

#[otel::span]
fn recorded_through_the_api() {
    otel::opentelemetry::trace::get_active_span(|span| {
        span.set_attribute(KeyValue::new("api.attribute", 7));
        span.add_event("api.event", vec![KeyValue::new("api.key", "value")]);
        span.update_name("renamed_through_the_api");
        span.set_status(Status::Ok);
    });
}

#[test]
fn the_opentelemetry_api_records_on_the_current_otel_span() {
    let capture = capture_spans();
    recorded_through_the_api();
    let span = capture.span("renamed_through_the_api");
    assert_eq!(attribute(&span, "api.attribute"), Some(Value::I64(7)));
    assert_eq!(
        event_attribute(event(&span, "api.event"), "api.key").as_deref(),
        Some("value")
    );
    assert_eq!(span.status, Status::Ok);
    assert_eq!(span.instrumentation_scope.name(), env!("CARGO_PKG_NAME"));
    assert_eq!(
        span.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(span.end_time >= span.start_time);
}

#[test]
fn root_starts_a_new_trace_linked_to_the_current_one() {
    let capture = capture_spans();
    let tracer = global::tracer("test");
    tracer.in_span("outer", |_| detached());
    let outer = capture.span("outer");
    let detached = capture.span("detached");
    assert_ne!(
        detached.span_context.trace_id(),
        outer.span_context.trace_id()
    );
    assert_eq!(detached.links.len(), 1);
    assert_eq!(
        detached.links[0].span_context.span_id(),
        outer.span_context.span_id()
    );
}

/// A message as a batch consumer receives it: the context its producer sent along.
struct Message {
    origin: otel::opentelemetry::Context,
}

/// Fan-in: one span for the batch, linked to every message's producer (and nothing for a
/// message that came without a context).
#[otel::span(kind = consumer, links = batch.iter().map(|message| &message.origin))]
fn consume_batch(batch: &[Message]) -> usize {
    batch.len()
}

/// A retry linked to the attempt before it, as a new trace. (`&previous`: the expression
/// takes what it uses by value, as a closure would.)
#[otel::span(root, links = [&previous])]
async fn retry(previous: otel::opentelemetry::trace::SpanContext) {
    // And one more added from the body.
    otel::current_span::add_link(otel::opentelemetry::trace::Link::new(
        previous,
        vec![KeyValue::new("link.reason", "backoff")],
        0,
    ));
}

#[test]
fn links_name_the_spans_of_a_batch_and_of_an_earlier_attempt() {
    let capture = capture_spans();
    let tracer = global::tracer("test");
    let producers: Vec<_> = (0..3)
        .map(|n| tracer.start(format!("produce {n}")))
        .collect();
    let mut batch: Vec<Message> = producers
        .into_iter()
        .map(|span| Message {
            origin: Context::new().with_span(span),
        })
        .collect();
    batch.push(Message {
        origin: Context::new(),
    });
    assert_eq!(consume_batch(&batch), 4);
    let consume = capture.span("consume_batch");
    let linked: Vec<_> = consume
        .links
        .iter()
        .map(|link| link.span_context.span_id())
        .collect();
    let produced: Vec<_> = batch
        .iter()
        .take(3)
        .map(|message| message.origin.span().span_context().span_id())
        .collect();
    assert_eq!(linked, produced, "one link per producer, in order");
    assert_eq!(consume.span_kind, SpanKind::Consumer);

    let attempt = consume.span_context.clone();
    let runtime = &runtimes()[1].1;
    tracer.in_span("caller", |_| runtime.block_on(retry(attempt.clone())));
    let caller = capture.span("caller");
    let retry = capture.span("retry");
    assert_ne!(
        retry.span_context.trace_id(),
        caller.span_context.trace_id()
    );
    let links: Vec<_> = retry
        .links
        .iter()
        .map(|link| (link.span_context.span_id(), link.attributes.clone()))
        .collect();
    assert_eq!(
        links,
        vec![
            (caller.span_context.span_id(), vec![]),
            (attempt.span_id(), vec![]),
            (
                attempt.span_id(),
                vec![KeyValue::new("link.reason", "backoff")]
            ),
        ],
        "`root`'s link to the caller first, then `links`, then the body's"
    );
}

// ---------------------------------------------------------------------------------------------
// Mixed nesting.

#[test]
fn nests_with_the_opentelemetry_api_both_ways() {
    let capture = capture_spans();
    let tracer = global::tracer("test");
    tracer.in_span("api.outer", |_| {
        otel_api_inside();
    });
    let outer = capture.span("api.outer");
    let ours = capture.span("otel_api_inside");
    let inner = capture.span("api.inner");
    assert_child(&ours, &outer);
    assert_child(&inner, &ours);
}

#[otel::span]
fn otel_api_inside() {
    global::tracer("test").in_span("api.inner", |cx| {
        assert!(cx.span().span_context().is_sampled());
    });
}

#[test]
fn nests_with_tracing_instrument_both_ways() {
    let capture = capture_spans();
    let outer = tracing::info_span!("tracing.outer");
    outer.in_scope(otel_around_tracing);
    drop(outer);
    let tracing_outer = capture.span("tracing.outer");
    let ours = capture.span("otel_around_tracing");
    let tracing_inner = capture.span("tracing_inside");
    let leaf = capture.span("leaf");
    assert_child(&ours, &tracing_outer);
    assert_child(&tracing_inner, &ours);
    assert_child(&leaf, &tracing_inner);
    for (child, parent) in [
        (&ours, &tracing_outer),
        (&tracing_inner, &ours),
        (&leaf, &tracing_inner),
    ] {
        assert!(
            child.start_time >= parent.start_time && child.end_time <= parent.end_time,
            "{} must run within {}",
            child.name,
            parent.name
        );
    }
}

/// Sleeps `duration` inside its span; returns the time the body took on the monotonic clock.
#[otel::span]
fn waits(duration: Duration) -> Duration {
    let started = std::time::Instant::now();
    std::thread::sleep(duration);
    started.elapsed()
}

/// The span's recorded duration is bracketed by the monotonic clock: no shorter than its body,
/// no longer than the call seen from outside, each within 1 ms. On an idle machine the bracket
/// is a few microseconds wide; a loaded one (the test suite runs in parallel on two cores) may
/// preempt the thread between the outer reading and the span's start, which widens the bracket
/// but not the check: a clock that drifts from `Instant` by 1 ms in 5 s still falls outside.
#[test]
fn times_are_wall_clock_times_and_a_5s_duration_matches_the_monotonic_clock() {
    let capture = capture_spans();
    let before = std::time::SystemTime::now();
    let started = std::time::Instant::now();
    let body = waits(Duration::from_secs(5));
    let call = started.elapsed();
    let after = std::time::SystemTime::now();
    let span = capture.span("waits");
    assert!(span.start_time >= before && span.end_time <= after);
    let recorded = span
        .end_time
        .duration_since(span.start_time)
        .expect("ends after it starts");
    let tolerance = Duration::from_millis(1);
    assert!(
        recorded + tolerance >= body && recorded <= call + tolerance,
        "recorded {recorded:?}; the body took {body:?} and the call {call:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Async.

fn runtimes() -> Vec<(&'static str, tokio::runtime::Runtime)> {
    vec![
        (
            "multi_thread",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        ),
        (
            "current_thread",
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
        ),
    ]
}

#[test]
fn async_span_parent_at_call_time_and_children_across_awaits() {
    for (flavour, runtime) in runtimes() {
        let capture = capture_spans();
        let tracer = global::tracer("test");
        let outer = tracer.start("request");
        let cx = Context::current_with_span(outer);
        // Created under `request`, then spawned: the parent is taken at call time.
        let future = {
            let _attached = cx.clone().attach();
            handle("4242")
        };
        let result = runtime.block_on(async { tokio::spawn(future).await });
        assert_eq!(result.ok().and_then(Result::ok), Some(7), "{flavour}");
        cx.span().end();

        let request = capture.span("request");
        let handle = capture.span("handle");
        let charge = capture.span("charge");
        assert_child(&handle, &request);
        assert_child(&charge, &handle);
        assert_eq!(handle.span_kind, SpanKind::Server);
        assert_eq!(handle.status, Status::Unset, "{flavour}");
        assert!(attribute(&handle, "rust.future.cancelled").is_none());
    }
}

// Spawned work: `otel::spawn`, `spawn_blocking`, `JoinSet` with `in_current_trace`, and a
// span per task, nested two deep, on a multi-thread runtime.

use otel::task::TraceFutureExt as _;

#[otel::span]
async fn fan_out() -> usize {
    // Each task calls annotated fns from inside its body, where only the carried context
    // makes them children (an annotated fn called here would take its parent right away).
    let nested = otel::spawn(async { spawns_again().await });
    let blocking = otel::spawn_blocking(blocking_leaf);
    // An annotated fn's span starts when it is called: an `async` block defers the call into
    // the task's span.
    let own_span = otel::spawn(async { async_leaf(1).await }.in_span("refresh_task"));
    let mut set = tokio::task::JoinSet::new();
    for n in 0..3 {
        set.spawn(async move { async_leaf(n).await }.in_current_trace());
    }
    set.spawn_blocking(otel::task::in_current_trace(blocking_leaf));
    let mut done = nested.await.unwrap_or(0) + blocking.await.unwrap_or(0);
    done += own_span.await.unwrap_or(0);
    while let Some(joined) = set.join_next().await {
        done += joined.unwrap_or(0);
    }
    done
}

#[otel::span]
async fn spawns_again() -> usize {
    // Polled on another worker, spawning once more.
    tokio::task::yield_now().await;
    otel::spawn(async { async_leaf(9).await })
        .await
        .unwrap_or(0)
}

#[otel::span]
async fn async_leaf(n: u32) -> usize {
    tokio::task::yield_now().await;
    n as usize + 1
}

#[otel::span]
fn blocking_leaf() -> usize {
    1
}

#[test]
fn spawned_tasks_and_blocking_work_stay_in_the_spawners_trace() {
    let capture = capture_spans();
    let runtime = &runtimes()[0].1;
    assert_eq!(runtime.block_on(fan_out()), 10 + 1 + 2 + 1 + 2 + 3 + 1);
    let spans = capture.spans();
    let root = capture.span("fan_out");
    assert_eq!(
        spans.len(),
        1 + 1 + 1 + 2 + 1 + 1 + 3,
        "fan_out, spawns_again and its leaf, two blocking leaves, the task span and its leaf, \
         three JoinSet leaves: {:#?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for span in &spans {
        assert_eq!(
            span.span_context.trace_id(),
            root.span_context.trace_id(),
            "{} left the trace",
            span.name
        );
    }
    let again = capture.span("spawns_again");
    assert_child(&again, &root);
    let children_of = |parent: &SpanData, name: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.parent_span_id == parent.span_context.span_id())
            .count()
    };
    assert_eq!(children_of(&again, "async_leaf"), 1, "the nested spawn");
    assert_eq!(
        children_of(&root, "blocking_leaf"),
        2,
        "spawn_blocking, JoinSet"
    );
    assert_eq!(children_of(&root, "async_leaf"), 3, "the JoinSet");
    let task = capture.span("refresh_task");
    assert_child(&task, &root);
    assert_eq!(
        children_of(&task, "async_leaf"),
        1,
        "inside the task's span"
    );
    assert!(task.end_time >= task.start_time);
}

#[test]
fn an_aborted_task_ends_its_span_as_cancelled() {
    let capture = capture_spans();
    let runtime = &runtimes()[0].1;
    runtime.block_on(async {
        let task = otel::spawn(async { sleeps_forever().await }.in_span("stuck_task"));
        tokio::time::sleep(Duration::from_millis(5)).await;
        task.abort();
        assert!(task.await.is_err_and(|e| e.is_cancelled()));
    });
    let task = capture.span("stuck_task");
    assert_eq!(
        attribute(&task, "rust.future.cancelled"),
        Some(Value::Bool(true))
    );
    assert_child(&capture.span("sleeps_forever"), &task);
}

#[test]
fn async_error_is_recorded_when_the_future_completes() {
    let capture = capture_spans();
    let runtime = &runtimes()[1].1;
    assert!(runtime.block_on(handle("0000")).is_err());
    let handle = capture.span("handle");
    assert_eq!(handle.status, Status::error("card declined"));
    event(&handle, "exception");
}

#[test]
fn async_span_dropped_before_completion_is_cancelled() {
    let capture = capture_spans();
    let runtime = &runtimes()[0].1;
    runtime.block_on(async {
        let timed_out = tokio::time::timeout(Duration::from_millis(5), sleeps_forever()).await;
        assert!(timed_out.is_err());
    });
    let span = capture.span("sleeps_forever");
    assert_eq!(
        attribute(&span, "rust.future.cancelled"),
        Some(Value::Bool(true))
    );
}

#[test]
fn fn_returning_impl_future_covers_the_future() {
    let capture = capture_spans();
    let runtime = &runtimes()[0].1;
    assert_eq!(runtime.block_on(returns_future(1)), 2);
    let outer = capture.span("returns_future");
    let leaf = capture.span("leaf");
    assert_child(&leaf, &outer);
}

#[test]
fn trait_async_fns_native_and_async_trait() {
    let capture = capture_spans();
    let runtime = &runtimes()[1].1;
    assert_eq!(runtime.block_on(Memory.load(1)), 2);
    assert_eq!(runtime.block_on(Memory.fetch(2)).ok(), Some(3));
    let load = capture.span("Memory::load");
    let fetch = capture.span("Memory::fetch");
    let leaves: Vec<SpanData> = capture
        .spans()
        .into_iter()
        .filter(|s| s.name == "leaf")
        .collect();
    assert_eq!(leaves.len(), 2);
    assert_child(&leaves[0], &load);
    assert_child(&leaves[1], &fetch);
}

#[test]
fn logs_inside_a_span_carry_its_trace() {
    let capture = capture_spans();
    let trace_id = logs_trace_id();
    let span = capture.span("logs_trace_id");
    assert_eq!(
        trace_id.as_deref(),
        Some(span.span_context.trace_id().to_string().as_str())
    );
}

#[otel::span]
fn logs_trace_id() -> Option<String> {
    otel::current_span::trace_id()
}

#[otel::span]
async fn panics_in_task() {
    tokio::task::yield_now().await;
    panic!("worker crashed");
}

#[test]
fn async_panic_is_recorded_on_the_span_and_the_task_fails() {
    let capture = capture_spans();
    let runtime = &runtimes()[0].1;
    let joined = runtime.block_on(async { tokio::spawn(panics_in_task()).await });
    assert!(joined.is_err_and(|e| e.is_panic()));
    let span = capture.span("panics_in_task");
    assert_eq!(span.status, Status::error("worker crashed"));
    assert_eq!(
        event_attribute(event(&span, "exception"), "exception.type").as_deref(),
        Some("panic")
    );
    // The runtime drops the panicked future after the unwinding: that is no cancellation.
    assert_eq!(attribute(&span, "rust.future.cancelled"), None);

    // A task's own span too.
    let capture = {
        drop(capture);
        capture_spans()
    };
    let joined = runtime.block_on(async {
        otel::spawn(async { panics_in_task().await }.in_span("crashing_task")).await
    });
    assert!(joined.is_err_and(|e| e.is_panic()));
    let task = capture.span("crashing_task");
    assert_eq!(attribute(&task, "rust.future.cancelled"), None);
}

#[test]
fn under_an_unsampled_parent_nothing_below_records_and_the_trace_continues() {
    use otel::opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    let capture = capture_spans();
    let remote = SpanContext::new(
        TraceId::from(0x5a5a_u128),
        SpanId::from(0x7b7b_u64),
        TraceFlags::default(),
        true,
        TraceState::default(),
    );
    let cx = Context::new().with_remote_span_context(remote);
    let seen = {
        let _attached = cx.attach();
        otel_around_tracing();
        logs_trace_id()
    };
    assert!(
        capture.spans().is_empty(),
        "the unsampled decision holds for every span below: {:?}",
        capture.spans()
    );
    assert_eq!(
        seen.as_deref(),
        Some("00000000000000000000000000005a5a"),
        "the trace id still propagates"
    );
}

#[test]
fn a_span_ends_once_with_its_call_and_ignores_writes_after() {
    let capture = capture_spans();
    let kept = keeps_its_context();
    let span = kept.span();
    assert!(!span.is_recording(), "ended when the call returned");
    span.set_attribute(KeyValue::new("after.call", true));
    span.add_event("after.call", Vec::new());
    span.set_status(Status::error("too late"));
    span.end();
    let spans = capture.spans();
    let recorded: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "keeps_its_context")
        .collect();
    assert_eq!(recorded.len(), 1, "exported once: {spans:?}");
    assert_eq!(
        attribute(recorded[0], "during.call"),
        Some(Value::Bool(true))
    );
    assert_eq!(attribute(recorded[0], "after.call"), None);
    assert!(recorded[0].events.is_empty());
    assert_eq!(recorded[0].status, Status::Unset);
}

#[test]
fn spans_ended_on_threads_that_have_exited_are_all_delivered() {
    let capture = capture_spans();
    // More spans than one thread's queue holds between two collector passes, on threads
    // that are gone by the time the capture reads them.
    let threads: Vec<_> = (0..4)
        .map(|n| std::thread::spawn(move || (0..600).map(|i| leaf(n * 1000 + i)).sum::<u32>()))
        .collect();
    for thread in threads {
        thread.join().expect("the thread ran");
    }
    let spans = capture.spans();
    assert_eq!(
        spans.iter().filter(|span| span.name == "leaf").count(),
        2400
    );
    let mut ids: Vec<_> = spans
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    ids.sort_unstable_by_key(|id| u64::from_be_bytes(id.to_bytes()));
    ids.dedup();
    assert_eq!(ids.len(), 2400, "every span once");
    assert!(
        spans
            .windows(2)
            .all(|pair| pair[0].end_time <= pair[1].end_time),
        "in the order they ended"
    );
}

// ---------------------------------------------------------------------------------------------
// `parent = ...`: a consumer continues the producer's trace.

#[otel::span(kind = consumer, parent = producer)]
fn consume(producer: &Context, message: &str) -> usize {
    leaf(1);
    message.len()
}

#[otel::span(kind = consumer, parent = producer.clone())]
async fn consume_async(producer: Context, message: String) -> usize {
    message.len()
}

#[test]
fn parent_starts_the_span_under_the_given_context_not_the_current_one() {
    let capture = capture_spans();
    let tracer = global::tracer("test");
    // The producer's span has ended by the time its message is consumed.
    let producer = tracer.in_span("producer", |cx| cx.clone());
    producer.span().end();
    tracer.in_span("unrelated", |_| {
        assert_eq!(consume(&producer, "four"), 4);
        assert_eq!(
            futures_poll(consume_async(producer.clone(), "five!".to_owned())),
            5
        );
    });
    let producer_span = capture.span("producer");
    for name in ["consume", "consume_async"] {
        let consumer = capture.span(name);
        assert_eq!(consumer.span_kind, SpanKind::Consumer);
        assert_child(&consumer, &producer_span);
    }
    // Inside, the consumer is the current span.
    assert_child(&capture.span("leaf"), &capture.span("consume"));
}

fn futures_poll<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// A value whose `Display` panics, as a buggy one in the program might.
struct Explosive;

impl fmt::Display for Explosive {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display panicked on purpose")
    }
}

#[otel::span(attributes(order = %Explosive, count = 1))]
fn with_explosive_display() -> u32 {
    7
}

#[otel::span(attributes(first = items[0], fifth = items[4]))]
fn with_explosive_expression(items: &[u32]) -> usize {
    items.len()
}

#[test]
fn a_panicking_attribute_never_stops_the_function() {
    let spans = capture_spans();
    assert_eq!(with_explosive_display(), 7, "the body ran");
    assert_eq!(with_explosive_expression(&[3, 4]), 2, "the body ran");

    let display = spans.span("with_explosive_display");
    let value = attribute;
    assert_eq!(value(&display, "order"), Some(Value::from("<panicked>")));
    assert_eq!(value(&display, "count"), Some(Value::I64(1)));
    assert_eq!(display.status, Status::Unset, "not the function's failure");

    let expression = spans.span("with_explosive_expression");
    assert_eq!(
        value(&expression, "first"),
        Some(Value::I64(3)),
        "made before the panic"
    );
    assert_eq!(
        value(&expression, "otel.attribute.panicked"),
        Some(Value::from("<panicked>"))
    );
    assert_eq!(value(&expression, "fifth"), None);
}
