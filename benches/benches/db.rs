//! Per-operation cost of the data-tier wrappers over a loopback round trip, in one run: a
//! trivial PostgreSQL query (`SELECT $1::int`, one row) through a plain sqlx pool, through
//! the same pool with a hand-written SDK client span around it, and through `otel::sqlx::Pool`;
//! a Redis `GET` through a plain multiplexed connection, with a hand-written span, and through
//! `otel::redis::Connection`. The servers are real (`otel-local-servers` starts Debian's
//! PostgreSQL and Redis on loopback ports). Spans go to the SDK's own `BatchSpanProcessor` on
//! a discarding exporter and the wrappers' duration points to a discarding periodic reader;
//! after the groups, each case's spans delivered to the exporter are printed.
//!
//! The round trips vary by several microseconds from run to run on a small machine, more
//! than the instrumentation costs; the `redis_get_in_process` group therefore also runs the
//! three Redis cases against a connection that answers in process (no network, no runtime),
//! which measures what each adds by itself, and first, before any provider is installed,
//! the plain connection against `otel::redis` with telemetry off.
//!
//! ```text
//! cargo bench -p otel-benches --bench db
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::Criterion;
use opentelemetry::trace::{
    FutureExt as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use otel::__private::{SamplerKind, install_meter_provider, install_tracer_provider};
use otel_benches::{EXPORTED, meter_provider, sdk_batch_processor};
use otel_local_servers::{Postgres, Redis};

/// Calls made in the current case, to compare with the spans it delivered.
static CALLS: AtomicU64 = AtomicU64::new(0);

fn counted<T>(output: T) -> T {
    CALLS.fetch_add(1, Ordering::Relaxed);
    output
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The attributes a hand-written span would carry: what `otel::sqlx` records for this query.
fn postgres_attributes(port: u16) -> Vec<KeyValue> {
    vec![
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("db.namespace", "postgres"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", i64::from(port)),
        KeyValue::new("db.operation.name", "SELECT"),
        KeyValue::new("db.query.summary", "SELECT"),
        KeyValue::new("db.query.text", "SELECT $1::int"),
    ]
}

fn redis_attributes(port: u16) -> Vec<KeyValue> {
    vec![
        KeyValue::new("db.system.name", "redis"),
        KeyValue::new("db.namespace", "0"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", i64::from(port)),
        KeyValue::new("db.operation.name", "GET"),
        KeyValue::new("db.query.text", "GET ?"),
    ]
}

async fn select<'e, E: sqlx::Executor<'e, Database = sqlx::Postgres>>(executor: E) -> i32 {
    let (value,): (i32,) = sqlx::query_as("SELECT $1::int")
        .bind(7)
        .fetch_one(executor)
        .await
        .expect("SELECT");
    value
}

/// A redis connection that answers every command at once, in process.
#[derive(Clone)]
struct Answering;

impl redis::aio::ConnectionLike for Answering {
    fn req_packed_command<'a>(
        &'a mut self,
        _: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async { Ok(redis::Value::BulkString(b"value".to_vec())) })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        _: &'a redis::Pipeline,
        _: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move { Ok(vec![redis::Value::Okay; count]) })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// A client span written by hand with the SDK around `work`, as a user without `otel` would.
async fn hand_span<T>(
    tracer: &SdkTracer,
    name: &'static str,
    attributes: &[KeyValue],
    work: impl Future<Output = T>,
) -> T {
    let span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Client)
        .with_attributes(attributes.to_vec())
        .start(tracer);
    let cx = Context::current_with_span(span);
    let output = work.with_context(cx.clone()).await;
    cx.span().end();
    output
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let postgres = Postgres::start().unwrap_or_else(|error| panic!("{error}"));
    let redis_server = Redis::start().unwrap_or_else(|error| panic!("{error}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    // Nothing installed yet: what the wrappers cost when telemetry is off.
    let info_client = redis::Client::open(redis_server.url()).expect("a redis client");
    let mut group = criterion.benchmark_group("redis_get_in_process_without_sdk");
    let mut answering_off = Answering;
    let mut traced_off = otel::redis::Connection::new(Answering, info_client.get_connection_info());
    group.bench_function("plain", |b| {
        b.iter(|| {
            otel_benches::poll_to_end(async {
                let value: Option<String> =
                    redis::AsyncCommands::get(&mut answering_off, "bench:key")
                        .await
                        .expect("GET");
                value
            })
        })
    });
    group.bench_function("otel_redis", |b| {
        b.iter(|| {
            otel_benches::poll_to_end(async {
                let value: Option<String> = redis::AsyncCommands::get(&mut traced_off, "bench:key")
                    .await
                    .expect("GET");
                value
            })
        })
    });
    group.finish();

    let provider = SdkTracerProvider::builder()
        .with_span_processor(sdk_batch_processor())
        .build();
    install_tracer_provider(provider.clone(), SamplerKind::AlwaysOn);
    let meters = meter_provider();
    opentelemetry::global::set_meter_provider(meters.clone());
    install_meter_provider(meters.clone());
    let tracer = provider.tracer("hand");

    let plain_pool = runtime
        .block_on(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&postgres.url()),
        )
        .expect("connect to PostgreSQL");
    let traced_pool = otel::sqlx::Pool::new(plain_pool.clone());
    let client = redis::Client::open(redis_server.url()).expect("a redis client");
    let plain_redis = runtime
        .block_on(client.get_multiplexed_async_connection())
        .expect("connect to Redis");
    let mut traced_redis =
        otel::redis::Connection::new(plain_redis.clone(), client.get_connection_info());
    let mut plain_redis_for_hand = plain_redis.clone();
    let mut plain_redis = plain_redis;
    runtime.block_on(async {
        let () = redis::AsyncCommands::set(&mut traced_redis, "bench:key", "value")
            .await
            .expect("SET");
    });
    let pg_attributes = postgres_attributes(postgres.port);
    let redis_attrs = redis_attributes(redis_server.port);

    let mut delivered = Vec::new();
    let mut measure = |name: &str, criterion_run: &mut dyn FnMut()| {
        let _ = provider.force_flush();
        let before = EXPORTED.load(Ordering::Relaxed);
        CALLS.store(0, Ordering::Relaxed);
        criterion_run();
        let _ = provider.force_flush();
        delivered.push((
            name.to_owned(),
            CALLS.load(Ordering::Relaxed),
            EXPORTED.load(Ordering::Relaxed) - before,
        ));
    };

    let mut group = criterion.benchmark_group("postgres_select");
    measure("postgres plain sqlx", &mut || {
        group.bench_function("plain_sqlx", |b| {
            b.iter(|| counted(runtime.block_on(select(&plain_pool))))
        });
    });
    measure("postgres hand-written span", &mut || {
        group.bench_function("hand_written_sdk_span", |b| {
            b.iter(|| {
                counted(runtime.block_on(hand_span(
                    &tracer,
                    "SELECT",
                    &pg_attributes,
                    select(&plain_pool),
                )))
            })
        });
    });
    measure("postgres otel::sqlx", &mut || {
        group.bench_function("otel_sqlx", |b| {
            b.iter(|| counted(runtime.block_on(select(&traced_pool))))
        });
    });
    group.finish();

    let mut group = criterion.benchmark_group("redis_get");
    measure("redis plain", &mut || {
        group.bench_function("plain_redis", |b| {
            b.iter(|| {
                counted(runtime.block_on(async {
                    let value: Option<String> =
                        redis::AsyncCommands::get(&mut plain_redis, "bench:key")
                            .await
                            .expect("GET");
                    value
                }))
            })
        });
    });
    measure("redis hand-written span", &mut || {
        group.bench_function("hand_written_sdk_span", |b| {
            b.iter(|| {
                counted(
                    runtime.block_on(hand_span(&tracer, "GET", &redis_attrs, async {
                        let value: Option<String> =
                            redis::AsyncCommands::get(&mut plain_redis_for_hand, "bench:key")
                                .await
                                .expect("GET");
                        value
                    })),
                )
            })
        });
    });
    measure("redis otel::redis", &mut || {
        group.bench_function("otel_redis", |b| {
            b.iter(|| {
                counted(runtime.block_on(async {
                    let value: Option<String> =
                        redis::AsyncCommands::get(&mut traced_redis, "bench:key")
                            .await
                            .expect("GET");
                    value
                }))
            })
        });
    });
    group.finish();

    let mut group = criterion.benchmark_group("redis_get_in_process");
    let mut answering = Answering;
    let mut answering_for_hand = Answering;
    let mut traced_answering =
        otel::redis::Connection::new(answering.clone(), client.get_connection_info());
    measure("in process plain", &mut || {
        group.bench_function("plain", |b| {
            b.iter(|| {
                counted(otel_benches::poll_to_end(async {
                    let value: Option<String> =
                        redis::AsyncCommands::get(&mut answering, "bench:key")
                            .await
                            .expect("GET");
                    value
                }))
            })
        });
    });
    measure("in process hand-written span", &mut || {
        group.bench_function("hand_written_sdk_span", |b| {
            b.iter(|| {
                counted(otel_benches::poll_to_end(hand_span(
                    &tracer,
                    "GET",
                    &redis_attrs,
                    async {
                        let value: Option<String> =
                            redis::AsyncCommands::get(&mut answering_for_hand, "bench:key")
                                .await
                                .expect("GET");
                        value
                    },
                )))
            })
        });
    });
    let histogram = opentelemetry::metrics::MeterProvider::meter(&meters, "hand")
        .f64_histogram("db.client.operation.duration")
        .with_unit("s")
        .build();
    let mut answering_for_hand_metric = Answering;
    measure("in process hand-written span and histogram", &mut || {
        group.bench_function("hand_written_sdk_span_and_histogram", |b| {
            b.iter(|| {
                counted(otel_benches::poll_to_end(async {
                    let started = std::time::Instant::now();
                    let value = hand_span(&tracer, "GET", &redis_attrs, async {
                        let value: Option<String> =
                            redis::AsyncCommands::get(&mut answering_for_hand_metric, "bench:key")
                                .await
                                .expect("GET");
                        value
                    })
                    .await;
                    histogram.record(started.elapsed().as_secs_f64(), &redis_attrs[..5]);
                    value
                }))
            })
        });
    });
    measure("in process otel::redis", &mut || {
        group.bench_function("otel_redis", |b| {
            b.iter(|| {
                counted(otel_benches::poll_to_end(async {
                    let value: Option<String> =
                        redis::AsyncCommands::get(&mut traced_answering, "bench:key")
                            .await
                            .expect("GET");
                    value
                }))
            })
        });
    });
    group.finish();
    criterion.final_summary();

    println!("calls and spans delivered to the exporter, per case:");
    for (name, calls, spans) in &delivered {
        println!("  {name}: {calls} calls, {spans} spans delivered");
    }
    let _ = provider.shutdown();
    let _ = meters.shutdown();
}
