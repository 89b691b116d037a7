//! A library annotated with `#[otel::span]` (`otel-test-library`) inside applications that set
//! up OpenTelemetry themselves: a tracer provider built by hand and installed through
//! `opentelemetry::global`, and `otel::Config` with a processor, an exporter and a sampler of
//! the application's own. Every library span must arrive, under the right parent, seen by the
//! application's sampler and by its processor's `on_start`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry::trace::{Link, SpanKind, Status, TraceContextExt as _, TraceId, Tracer as _};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SamplingResult, SdkTracerProvider, ShouldSample,
    SimpleSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor,
};
use otel_test_library::{fetch, fetch_all, load};

/// One question to the sampler: span name, kind, start attributes.
type Asked = (String, SpanKind, Vec<KeyValue>);

/// What the application's sampler was asked.
#[derive(Debug, Clone, Default)]
struct CountingSampler {
    asked: Arc<Mutex<Vec<Asked>>>,
}

impl ShouldSample for CountingSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        lock(&self.asked).push((name.to_owned(), span_kind.clone(), attributes.to_vec()));
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn)).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

/// The names of the spans the application's processor saw start.
#[derive(Debug, Clone, Default)]
struct CountingProcessor {
    started: Arc<Mutex<Vec<String>>>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, _cx: &Context) {
        if let Some(data) = span.exported_data() {
            lock(&self.started).push(data.name.into_owned());
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// An exporter that keeps what it received through shutdown (the SDK's in-memory one clears
/// itself when shut down).
#[derive(Debug, Clone, Default)]
struct KeepingExporter {
    spans: Arc<Mutex<Vec<SpanData>>>,
}

impl SpanExporter for KeepingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        lock(&self.spans).extend(batch);
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The global provider is process-wide: one test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    lock(&SERIAL)
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|seen| *seen == name).count()
}

fn by_id(spans: &[SpanData]) -> HashMap<opentelemetry::trace::SpanId, &SpanData> {
    spans
        .iter()
        .map(|span| (span.span_context.span_id(), span))
        .collect()
}

fn order_id(span: &SpanData) -> Option<i64> {
    span.attributes
        .iter()
        .find_map(|kv| match (&kv.key, &kv.value) {
            (key, opentelemetry::Value::I64(id)) if key.as_str() == "order.id" => Some(*id),
            _ => None,
        })
}

/// Calls the library the ways an application does: inside its own API span, sync and async,
/// with tasks spawned on a multi-thread runtime.
fn call_the_library() {
    let tracer = global::tracer("application");
    tracer.in_span("request", |_| {
        assert_eq!(load(1).ok(), Some(2));
        assert!(load(0).is_err());
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cx = Context::current_with_span(tracer.start("batch"));
    // The span of an async fn starts when it is called, under the caller's current span.
    let future = {
        let _batch = cx.clone().attach();
        fetch_all(vec![3, 4, 0])
    };
    let results = runtime.block_on(future);
    cx.span().end();
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 2);
    assert_eq!(runtime.block_on(fetch(5)).ok(), Some(10));
}

/// Checks the span tree [`call_the_library`] records, and that the sampler and `on_start`
/// saw every library span.
fn check(spans: &[SpanData], sampler: &CountingSampler, processor: &CountingProcessor) {
    let ids = by_id(spans);
    let parent_of = |span: &SpanData| ids.get(&span.parent_span_id).map(|p| p.name.to_string());
    let named =
        |name: &str| -> Vec<&SpanData> { spans.iter().filter(|span| span.name == name).collect() };

    // Sync, inside the application's span.
    let loads = named("load");
    assert_eq!(loads.len(), 6, "every load span arrives: {spans:#?}");
    for id in [1, 0] {
        let span = loads
            .iter()
            .find(|span| order_id(span) == Some(id))
            .expect("load");
        assert_eq!(parent_of(span).as_deref(), Some("request"));
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(span.instrumentation_scope.name(), "otel-test-library");
    }
    let failed = loads
        .iter()
        .find(|span| order_id(span) == Some(0))
        .expect("load(0)");
    assert_eq!(failed.status, Status::error("order not found"));
    assert!(failed.events.iter().any(|event| event.name == "exception"));

    // Async and spawned: each fetch is a child of fetch_all, each load of its fetch.
    let fetch_all = named("fetch_all");
    assert_eq!(fetch_all.len(), 1);
    assert_eq!(parent_of(fetch_all[0]).as_deref(), Some("batch"));
    let fetches = named("fetch");
    assert_eq!(fetches.len(), 4);
    for fetch in &fetches {
        let expected = if order_id(fetch) == Some(5) {
            None
        } else {
            Some("fetch_all")
        };
        assert_eq!(parent_of(fetch).as_deref(), expected, "{fetch:#?}");
        let load = loads
            .iter()
            .find(|load| load.parent_span_id == fetch.span_context.span_id())
            .expect("a load under each fetch");
        assert_eq!(load.span_context.trace_id(), fetch.span_context.trace_id());
        assert!(load.start_time >= fetch.start_time && load.end_time <= fetch.end_time);
    }

    // The application's sampler and processor saw each library span.
    let asked = lock(&sampler.asked);
    let asked_names: Vec<String> = asked.iter().map(|(name, ..)| name.clone()).collect();
    let started = lock(&processor.started);
    for (name, expected) in [("load", 6), ("fetch", 4), ("fetch_all", 1)] {
        assert_eq!(
            count(&asked_names, name),
            expected,
            "sampler asked for {name}"
        );
        assert_eq!(count(&started, name), expected, "on_start for {name}");
    }
    let (_, kind, attributes) = asked
        .iter()
        .find(|(name, ..)| name == "load")
        .expect("load sampled");
    assert_eq!(*kind, SpanKind::Client);
    assert!(
        attributes.iter().any(|kv| kv.key.as_str() == "order.id"),
        "the sampler sees the start attributes: {attributes:?}"
    );
}

#[test]
fn library_spans_reach_a_provider_the_application_built_by_hand() {
    let _serial = serial();
    let exporter = InMemorySpanExporter::default();
    let sampler = CountingSampler::default();
    let processor = CountingProcessor::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler.clone())
        .with_span_processor(processor.clone())
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    global::set_tracer_provider(provider.clone());

    std::thread::spawn(call_the_library)
        .join()
        .expect("the calls");
    let _ = provider.force_flush();
    let spans = exporter.get_finished_spans().expect("spans");
    check(&spans, &sampler, &processor);
    let _ = provider.shutdown();
}

#[test]
fn library_spans_reach_otel_config_with_the_applications_processor_exporter_and_sampler() {
    let _serial = serial();
    let exporter = KeepingExporter::default();
    let sampler = CountingSampler::default();
    let processor = CountingProcessor::default();
    let guard = otel::Config::new()
        .service("foreign-provider-test")
        .traces([otel::Exporter::None])
        .metrics([otel::Exporter::None])
        .logs([otel::Exporter::None])
        .with_sampler(sampler.clone())
        .with_span_processor(processor.clone())
        .with_span_exporter(exporter.clone())
        .init();

    std::thread::spawn(call_the_library)
        .join()
        .expect("the calls");
    // The exporter sits behind the SDK's batch processor: shutdown delivers what it holds.
    guard.shutdown();
    let spans = lock(&exporter.spans).clone();
    check(&spans, &sampler, &processor);
}

#[test]
fn a_provider_installed_by_hand_after_the_first_call_is_picked_up() {
    let _serial = serial();
    global::set_tracer_provider(opentelemetry::trace::noop::NoopTracerProvider::new());
    // Calls before any provider: nothing records, nothing breaks.
    for _ in 0..10 {
        assert_eq!(load(1).ok(), Some(2));
    }

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    global::set_tracer_provider(provider.clone());

    // A thread that starts now records from its first call.
    std::thread::spawn(|| load(7)).join().expect("load").ok();
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(order_id(&spans[0]), Some(7));

    // This thread, which called before the provider existed, looks again within
    // `CHECK_EVERY` (1,024) calls, and records every call from then on.
    exporter.reset();
    for _ in 0..1100 {
        let _ = load(8);
    }
    let recorded = exporter.get_finished_spans().expect("spans").len();
    assert!(
        (1100 - 1024..=1100).contains(&recorded),
        "recorded {recorded} of 1,100"
    );
    let _ = provider.shutdown();
}

#[test]
fn threads_starting_together_on_a_provider_installed_by_hand_lose_no_span() {
    let _serial = serial();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    global::set_tracer_provider(provider.clone());
    const THREADS: usize = 16;
    const CALLS: usize = 2_000;
    // Each new thread looks at the global provider on its first call, all at once.
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for _ in 0..CALLS {
                    let _ = load(1);
                }
            });
        }
    });
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), THREADS * CALLS);
    let _ = provider.shutdown();
}

#[test]
fn database_spans_reach_a_provider_the_application_built_by_hand() {
    let _serial = serial();
    let redis_server = otel_local_servers::Redis::start().unwrap_or_else(|error| panic!("{error}"));
    let exporter = InMemorySpanExporter::default();
    let sampler = CountingSampler::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler.clone())
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    global::set_tracer_provider(provider.clone());

    let url = redis_server.url();
    let value = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let client = redis::Client::open(url).expect("a client");
            let connection = client
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            let mut cache = otel::redis::Connection::new(connection, client.get_connection_info());
            let value: Option<String> = redis::AsyncCommands::get(&mut cache, "absent")
                .await
                .expect("GET");
            value
        })
    })
    .join()
    .expect("the call");
    assert_eq!(value, None);
    let spans = exporter.get_finished_spans().expect("spans");
    let get = spans
        .iter()
        .find(|span| span.name == "GET")
        .unwrap_or_else(|| panic!("no GET span in {spans:#?}"));
    assert_eq!(get.span_kind, SpanKind::Client);
    let asked = lock(&sampler.asked);
    let (_, kind, attributes) = asked
        .iter()
        .find(|(name, ..)| name == "GET")
        .expect("the application's sampler saw the GET");
    assert_eq!(*kind, SpanKind::Client);
    assert!(
        attributes
            .iter()
            .any(|kv| kv.key.as_str() == "db.system.name" && kv.value.as_str() == "redis"),
        "{attributes:?}"
    );
    drop(asked);
    let _ = provider.shutdown();
}

/// The most crates a library depending on otel's facade may compile (itself not counted).
const FACADE_CRATE_BUDGET: usize = 30;

/// `cargo` as the test harness was run with, in the workspace.
fn cargo(args: &[&str]) -> std::process::Output {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace directory");
    std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace)
        .output()
        .unwrap_or_else(|error| panic!("cargo {args:?} could not run: {error}"))
}

/// The library's own tests (`tests/library/tests`), built as a library's users build it:
/// alone, so that otel is the facade (inside this workspace's build cargo unifies otel's
/// features with the applications'). In a target directory of their own, as a different
/// feature set of the same crates would otherwise rebuild over this build's.
#[test]
fn the_library_facade_compiles_few_crates_no_c_and_records_into_a_hand_built_sdk() {
    let tree = cargo(&[
        "tree",
        "-p",
        "otel-test-library",
        "-e",
        "normal,build",
        "--prefix",
        "none",
    ]);
    let listing = String::from_utf8_lossy(&tree.stdout);
    assert!(
        tree.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&tree.stderr)
    );
    // Each crate once per version, as cargo builds it: `name vX.Y.Z [(proc-macro)] [(*)]`.
    let crates: std::collections::BTreeSet<(&str, &str)> = listing
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .filter(|(name, _)| *name != "otel-test-library")
        .collect();
    assert!(
        crates.len() <= FACADE_CRATE_BUDGET,
        "the facade compiles {} crates, more than {FACADE_CRATE_BUDGET}: {crates:?}",
        crates.len()
    );
    let c_builds: Vec<_> = crates
        .iter()
        .filter(|(name, _)| ["cc", "cmake", "pkg-config"].contains(name) || name.ends_with("-sys"))
        .collect();
    assert!(c_builds.is_empty(), "the facade builds C: {c_builds:?}");
    assert!(
        !crates.iter().any(|(name, _)| *name == "opentelemetry_sdk"),
        "the facade compiles the SDK: {crates:?}"
    );

    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let facade_target = target.join("facade");
    let facade_target = facade_target.to_str().expect("a UTF-8 target directory");
    let tests = cargo(&[
        "test",
        "-p",
        "otel-test-library",
        "--target-dir",
        facade_target,
    ]);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&tests.stdout),
        String::from_utf8_lossy(&tests.stderr)
    );
    assert!(
        tests.status.success(),
        "the library's tests failed on the facade:\n{output}"
    );
    for test in [
        "a_library_records_into_an_sdk_the_application_set_up_by_hand ... ok",
        "test ui ... ok",
    ] {
        assert!(output.contains(test), "`{test}` missing from:\n{output}");
    }
}
