//! The data tier against real servers: `otel::sqlx` on a PostgreSQL server and `otel::redis`
//! on a Redis server, both started on loopback ports by `otel-local-servers` (installed with
//! apt-get where missing and running as root; otherwise the test fails naming the command).
//! Every check reads the captured spans and metric points: the span tree, each convention
//! attribute, sanitized text, SQLSTATE and Redis error codes, transactions, pipelines, refused
//! connections, pool metrics moving with checked-out connections, and no password anywhere.

use std::sync::OnceLock;
use std::time::Duration;

use otel::opentelemetry::trace::{SpanKind, Status};
use otel::opentelemetry::{KeyValue, Value};
use otel::testing::{MetricPoint, PointValue, SpanData, capture_metrics, capture_spans};
use otel_local_servers::{PASSWORD, Postgres, Redis};
use redis::AsyncCommands as _;
use sqlx::Row as _;

/// One server of each kind for the whole binary.
struct Servers {
    postgres: Postgres,
    redis: Redis,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let postgres = Postgres::start().unwrap_or_else(|error| panic!("{error}"));
        let redis = Redis::start().unwrap_or_else(|error| panic!("{error}"));
        Servers { postgres, redis }
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn text(span: &SpanData, key: &str) -> String {
    attribute(span, key)
        .unwrap_or_else(|| panic!("`{}` has no `{key}`: {:?}", span.name, span.attributes))
        .as_str()
        .into_owned()
}

fn int(span: &SpanData, key: &str) -> i64 {
    match attribute(span, key) {
        Some(Value::I64(value)) => value,
        other => panic!("`{}`: `{key}` is {other:?}", span.name),
    }
}

/// Runs a test's work under one root span, so its spans can be told from those of the tests
/// running beside it (which capture metrics, not spans).
#[otel::span]
async fn scenario<T>(work: impl std::future::Future<Output = T>) -> T {
    work.await
}

/// The spans of the `scenario` trace, in the order they ended.
fn scenario_spans(capture: &otel::testing::SpanCapture) -> Vec<SpanData> {
    let root = capture.span("scenario");
    capture
        .spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id() == root.span_context.trace_id())
        .collect()
}

/// The one span named `name` among `spans`.
#[track_caller]
fn named(spans: &[SpanData], name: &str) -> SpanData {
    let mut found = spans.iter().filter(|span| span.name == name);
    match (found.next(), found.next()) {
        (Some(span), None) => span.clone(),
        _ => panic!(
            "not exactly one `{name}` in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        ),
    }
}

async fn pool(name: &str) -> otel::sqlx::Pool<sqlx::Postgres> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&servers().postgres.url())
        .await
        .expect("connect to the test server");
    otel::sqlx::Pool::new(pool).pool_name(name.to_owned())
}

/// The table the PostgreSQL tests share, made once.
async fn items(pool: &otel::sqlx::Pool<sqlx::Postgres>) {
    static MADE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    MADE.get_or_init(|| async {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL);
             INSERT INTO items VALUES (1, 'lamp', 40), (2, 'desk', 250), (3, 'chair', 90) ON CONFLICT DO NOTHING;",
        )
        .execute(pool.inner())
        .await
        .expect("create the items table");
    })
    .await;
}

#[otel::span]
async fn handler(pool: &otel::sqlx::Pool<sqlx::Postgres>) -> Result<Vec<String>, sqlx::Error> {
    let one: (String,) = sqlx::query_as("SELECT name FROM items WHERE id = $1")
        .bind(1)
        .fetch_one(pool)
        .await?;
    let cheap = sqlx::query("SELECT name FROM items WHERE price < $1 ORDER BY id")
        .bind(100)
        .fetch_all(pool)
        .await?;
    let mut names = vec![one.0];
    names.extend(cheap.iter().map(|row| row.get::<String, _>("name")));
    Ok(names)
}

#[test]
fn each_query_is_a_client_span_under_the_caller_with_the_conventions() {
    let runtime = runtime();
    let capture = capture_spans();
    let names = runtime.block_on(async {
        let pool = pool("spans").await;
        items(&pool).await;
        handler(&pool).await.expect("the queries run")
    });
    assert_eq!(
        names,
        ["lamp", "lamp", "chair"],
        "the wrapper changed what the queries return"
    );

    let parent = capture.span("handler");
    let queries: Vec<SpanData> = capture
        .spans()
        .into_iter()
        .filter(|span| {
            span.name == "SELECT items" && span.parent_span_id == parent.span_context.span_id()
        })
        .collect();
    assert_eq!(queries.len(), 2, "{:?}", capture.spans());
    let port = i64::from(servers().postgres.port);
    for (query, rows) in queries.iter().zip([1, 2]) {
        assert_eq!(query.span_kind, SpanKind::Client);
        assert_eq!(query.parent_span_id, parent.span_context.span_id());
        assert_eq!(
            query.span_context.trace_id(),
            parent.span_context.trace_id()
        );
        assert_eq!(text(query, "db.system.name"), "postgresql");
        assert_eq!(text(query, "db.namespace"), "postgres");
        assert_eq!(text(query, "server.address"), "127.0.0.1");
        assert_eq!(int(query, "server.port"), port);
        assert_eq!(text(query, "db.operation.name"), "SELECT");
        assert_eq!(text(query, "db.collection.name"), "items");
        assert_eq!(text(query, "db.query.summary"), "SELECT items");
        assert_eq!(int(query, "db.response.returned_rows"), rows);
        assert_eq!(query.status, Status::Unset);
    }
    assert_eq!(
        text(&queries[0], "db.query.text"),
        "SELECT name FROM items WHERE id = $1"
    );
    assert!(queries[0].end_time <= queries[1].start_time);
}

#[test]
fn literals_are_sanitized_unless_the_raw_text_is_asked_for() {
    let runtime = runtime();
    let capture = capture_spans();
    runtime.block_on(scenario(async {
        let pool = pool("sanitized").await;
        items(&pool).await;
        sqlx::query("SELECT id FROM items WHERE name = 'lamp' AND price > 10 AND id IN (1, 2, 3) -- owner: alice")
            .fetch_all(&pool)
            .await
            .expect("the query runs");
        let raw = pool.clone().query_text(otel::sqlx::QueryText::Raw);
        sqlx::query("SELECT count(*) FROM items WHERE price > 10")
            .fetch_one(&raw)
            .await
            .expect("the query runs");
        let off = pool.query_text(otel::sqlx::QueryText::Off);
        sqlx::query("DELETE FROM items WHERE id = 999")
            .execute(&off)
            .await
            .expect("the query runs");
    }));
    let spans: Vec<SpanData> = scenario_spans(&capture)
        .into_iter()
        .filter(|span| span.name != "scenario")
        .collect();
    assert_eq!(
        text(&spans[0], "db.query.text"),
        "SELECT id FROM items WHERE name = ? AND price > ? AND id IN (?)"
    );
    assert_eq!(
        text(&spans[1], "db.query.text"),
        "SELECT count(*) FROM items WHERE price > 10"
    );
    assert_eq!(spans[2].name, "DELETE items");
    assert_eq!(attribute(&spans[2], "db.query.text"), None);
    assert_eq!(int(&spans[2], "db.response.returned_rows"), 0);
}

#[test]
fn failing_queries_carry_their_sqlstate() {
    let runtime = runtime();
    let capture = capture_spans();
    let (syntax, duplicate) = runtime.block_on(scenario(async {
        let pool = pool("errors").await;
        items(&pool).await;
        let syntax = sqlx::query("SELEC name FROM items").fetch_all(&pool).await;
        let duplicate = sqlx::query("INSERT INTO items (id, name, price) VALUES ($1, $2, $3)")
            .bind(1)
            .bind("lamp again")
            .bind(1)
            .execute(&pool)
            .await;
        (syntax, duplicate)
    }));
    assert!(
        syntax.is_err() && duplicate.is_err(),
        "the errors reach the caller unchanged"
    );
    let spans = scenario_spans(&capture);
    // No operation keyword: the span is named after its table, as the conventions say.
    let syntax = named(&spans, "items");
    assert_eq!(attribute(&syntax, "db.operation.name"), None);
    assert_eq!(text(&syntax, "db.response.status_code"), "42601");
    assert_eq!(text(&syntax, "error.type"), "42601");
    assert!(
        matches!(&syntax.status, Status::Error { description } if description.contains("syntax error"))
    );
    let duplicate = named(&spans, "INSERT items");
    assert_eq!(text(&duplicate, "db.response.status_code"), "23505");
    assert_eq!(text(&duplicate, "error.type"), "23505");
    assert!(
        matches!(&duplicate.status, Status::Error { description } if description.contains("duplicate key"))
    );
}

#[otel::span]
async fn transfer(
    pool: &otel::sqlx::Pool<sqlx::Postgres>,
    commit: bool,
) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE items SET price = price + 1 WHERE id = $1")
        .bind(3)
        .execute(&mut *tx)
        .await?;
    let (price,): (i32,) = sqlx::query_as("SELECT price FROM items WHERE id = 3")
        .fetch_one(&mut *tx)
        .await?;
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(i64::from(price))
}

#[test]
fn a_transaction_is_begin_statements_and_commit_under_the_caller() {
    let runtime = runtime();
    let capture = capture_spans();
    runtime.block_on(async {
        let pool = pool("transactions").await;
        items(&pool).await;
        let before: (i32,) = sqlx::query_as("SELECT price FROM items WHERE id = 3")
            .fetch_one(pool.inner())
            .await
            .expect("read the price");
        let inside = transfer(&pool, false)
            .await
            .expect("the rolled back transaction");
        assert_eq!(inside, i64::from(before.0) + 1);
        let after: (i32,) = sqlx::query_as("SELECT price FROM items WHERE id = 3")
            .fetch_one(pool.inner())
            .await
            .expect("read the price");
        assert_eq!(after.0, before.0, "rolled back");
        transfer(&pool, true)
            .await
            .expect("the committed transaction");
    });
    let spans = capture.spans();
    let transfers: Vec<&SpanData> = spans
        .iter()
        .filter(|span| span.name == "transfer")
        .collect();
    assert_eq!(transfers.len(), 2);
    for (transfer, last) in transfers.iter().zip(["ROLLBACK", "COMMIT"]) {
        let mut children: Vec<&SpanData> = spans
            .iter()
            .filter(|span| span.parent_span_id == transfer.span_context.span_id())
            .collect();
        children.sort_by_key(|span| span.start_time);
        let names: Vec<&str> = children.iter().map(|span| span.name.as_ref()).collect();
        assert_eq!(names, ["BEGIN", "UPDATE items", "SELECT items", last]);
        assert!(
            children
                .iter()
                .all(|span| span.span_kind == SpanKind::Client)
        );
        assert_eq!(text(children[3], "db.operation.name"), last);
    }
}

#[test]
fn a_refused_connection_fails_the_span() {
    let runtime = runtime();
    let capture = capture_spans();
    let port = otel_local_servers::free_port();
    let result = runtime.block_on(scenario(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy(&format!("postgres://otel:{PASSWORD}@127.0.0.1:{port}/shop"))
            .expect("a lazy pool");
        let pool = otel::sqlx::Pool::new(pool);
        sqlx::query("SELECT 1").fetch_one(&pool).await
    }));
    assert!(result.is_err());
    let span = named(&scenario_spans(&capture), "SELECT");
    assert_eq!(int(&span, "server.port"), i64::from(port));
    assert_eq!(text(&span, "db.namespace"), "shop");
    let error_type = text(&span, "error.type");
    assert!(
        ["pool_timed_out", "ConnectionRefused"].contains(&error_type.as_str()),
        "{error_type}"
    );
    assert!(matches!(span.status, Status::Error { .. }));
}

/// The connections of one pool in use and idle, as `db.client.connection.count` last
/// reported them (an up-down counter is cumulative, whatever the capture's temporality).
fn connection_counts(points: &[MetricPoint], pool: &str) -> [f64; 2] {
    let mut counts = [f64::NAN; 2];
    for point in points.iter().filter(|point| {
        point.name == "db.client.connection.count"
            && point.attribute("db.client.connection.pool.name").as_deref() == Some(pool)
    }) {
        let PointValue::Sum(value) = point.value else {
            panic!("{point:?}")
        };
        match point.attribute("db.client.connection.state").as_deref() {
            Some("used") => counts[0] = value,
            Some("idle") => counts[1] = value,
            other => panic!("state {other:?}"),
        }
    }
    counts
}

#[test]
fn pool_and_operation_metrics_follow_the_connections() {
    let runtime = runtime();
    let capture = capture_metrics();
    let mut points = Vec::new();
    runtime.block_on(async {
        let pool = pool("metrics").await;
        items(&pool).await;
        sqlx::query("SELECT name FROM items WHERE id = $1")
            .bind(2)
            .fetch_one(&pool)
            .await
            .expect("the query runs");
        let first = pool.acquire().await.expect("a connection");
        let second = pool.acquire().await.expect("another connection");
        let held = capture.points();
        assert_eq!(
            connection_counts(&held, "metrics")[0],
            2.0,
            "two in use: {held:#?}"
        );
        points.extend(held);
        drop((first, second));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let released = capture.points();
        let [used, idle] = connection_counts(&released, "metrics");
        assert_eq!(
            used, 0.0,
            "none in use after both are returned: {released:#?}"
        );
        assert!(idle >= 2.0, "both idle: {released:#?}");
        points.extend(released);
    });
    let max = points
        .iter()
        .find(|point| {
            point.name == "db.client.connection.max"
                && point.attribute("db.client.connection.pool.name").as_deref() == Some("metrics")
        })
        .expect("db.client.connection.max");
    assert_eq!(max.value, PointValue::Sum(4.0));
    assert_eq!(max.unit, "{connection}");
    let waits = points
        .iter()
        .find(|point| {
            point.name == "db.client.connection.wait_time"
                && point.attribute("db.client.connection.pool.name").as_deref() == Some("metrics")
        })
        .expect("db.client.connection.wait_time");
    assert!(
        matches!(waits.value, PointValue::Histogram { count, .. } if count >= 3),
        "{waits:?}"
    );
    let duration = points
        .iter()
        .find(|point| {
            point.name == "db.client.operation.duration"
                && point.attribute("db.query.summary").as_deref() == Some("SELECT items")
        })
        .expect("db.client.operation.duration");
    assert_eq!(duration.unit, "s");
    assert_eq!(
        duration.attribute("db.system.name").as_deref(),
        Some("postgresql")
    );
    assert_eq!(
        duration.attribute("db.operation.name").as_deref(),
        Some("SELECT")
    );
    assert_eq!(
        duration.attribute("db.collection.name").as_deref(),
        Some("items")
    );
    assert_eq!(
        duration.attribute("db.query.text"),
        None,
        "the text stays off the metric"
    );
    let PointValue::Histogram { count, bounds, .. } = &duration.value else {
        panic!("{duration:?}")
    };
    assert!(*count >= 1);
    assert_eq!(
        bounds,
        &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]
    );
}

async fn redis_client() -> redis::Client {
    redis::Client::open(servers().redis.url()).expect("a redis client")
}

#[otel::span]
async fn cache_round_trip(
    cache: &mut otel::redis::Connection<redis::aio::MultiplexedConnection>,
) -> redis::RedisResult<Option<String>> {
    let () = cache.set("item:7", "lamp").await?;
    cache.get("item:7").await
}

#[test]
fn redis_commands_are_client_spans_without_values() {
    let runtime = runtime();
    let capture = capture_spans();
    let value = runtime.block_on(async {
        let client = redis_client().await;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test server");
        let mut cache = otel::redis::Connection::new(connection, client.get_connection_info());
        cache_round_trip(&mut cache)
            .await
            .expect("the commands run")
    });
    assert_eq!(
        value.as_deref(),
        Some("lamp"),
        "the wrapper changed the reply"
    );
    let parent = capture.span("cache_round_trip");
    let spans: Vec<SpanData> = capture
        .spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id() == parent.span_context.trace_id())
        .collect();
    let port = i64::from(servers().redis.port);
    for (name, query_text) in [("SET", "SET ? ?"), ("GET", "GET ?")] {
        let span = named(&spans, name);
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(span.parent_span_id, parent.span_context.span_id());
        assert_eq!(text(&span, "db.system.name"), "redis");
        assert_eq!(text(&span, "db.namespace"), "0");
        assert_eq!(text(&span, "server.address"), "127.0.0.1");
        assert_eq!(int(&span, "server.port"), port);
        assert_eq!(text(&span, "db.operation.name"), name);
        assert_eq!(text(&span, "db.query.text"), query_text);
        assert_eq!(span.status, Status::Unset);
    }
}

#[test]
fn redis_pipelines_errors_keys_and_a_connection_manager() {
    let runtime = runtime();
    let capture = capture_spans();
    runtime.block_on(scenario(async {
        let client = redis_client().await;
        let manager = redis::aio::ConnectionManager::new(client.clone())
            .await
            .expect("a connection manager");
        let mut cache =
            otel::redis::Connection::new(manager, client.get_connection_info()).record_keys(true);
        let () = cache.del("visits").await.expect("DEL");
        let (a, b): (i64, i64) = redis::pipe()
            .incr("visits", 1)
            .incr("visits", 2)
            .query_async(&mut cache)
            .await
            .expect("the pipeline runs");
        assert_eq!((a, b), (1, 3));
        let (_, count): ((), i64) = redis::pipe()
            .atomic()
            .set("flag", "x")
            .incr("visits", 1)
            .query_async(&mut cache)
            .await
            .expect("the transaction runs");
        assert_eq!(count, 4);
        let wrong: redis::RedisResult<()> = cache.lpush("flag", "y").await;
        assert!(wrong.is_err());
    }));
    let spans = scenario_spans(&capture);
    // redis-rs sends `incr` as INCRBY.
    let batch = named(&spans, "BATCH INCRBY");
    assert_eq!(int(&batch, "db.operation.batch.size"), 2);
    assert_eq!(
        text(&batch, "db.query.text"),
        "INCRBY visits ?\nINCRBY visits ?"
    );
    let multi = named(&spans, "MULTI");
    assert_eq!(int(&multi, "db.operation.batch.size"), 2);
    assert_eq!(text(&multi, "db.query.text"), "SET flag ?\nINCRBY visits ?");
    let wrong = named(&spans, "LPUSH");
    assert_eq!(text(&wrong, "db.response.status_code"), "WRONGTYPE");
    assert_eq!(text(&wrong, "error.type"), "WRONGTYPE");
    assert!(matches!(wrong.status, Status::Error { .. }));
    assert_eq!(text(&wrong, "db.query.text"), "LPUSH flag ?");
}

#[test]
fn redis_cache_hits_and_misses_are_counted_when_asked_for() {
    let runtime = runtime();
    let capture = capture_metrics();
    let points = runtime.block_on(async {
        let client = redis_client().await;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test server");
        let mut cache = otel::redis::Connection::new(connection, client.get_connection_info())
            .record_cache_hits(true);
        let () = cache.set("cached", "1").await.expect("SET");
        let _: Option<String> = cache.get("cached").await.expect("GET");
        let _: Option<String> = cache.get("cached").await.expect("GET");
        let _: Option<String> = cache.get("not-cached").await.expect("GET");
        capture.points()
    });
    let gets = |result: &str| {
        points
            .iter()
            .filter(|point| {
                point.name == "db.client.operation.duration"
                    && point.attribute("db.operation.name").as_deref() == Some("GET")
                    && point.attribute("cache.result").as_deref() == Some(result)
            })
            .map(|point| match point.value {
                PointValue::Histogram { count, .. } => count,
                _ => 0,
            })
            .sum::<u64>()
    };
    assert_eq!((gets("hit"), gets("miss")), (2, 1), "{points:#?}");
    assert!(
        points.iter().any(
            |point| point.attribute("db.operation.name").as_deref() == Some("SET")
                && point.attribute("cache.result").is_none()
        ),
        "only reads are hits or misses"
    );
}

#[test]
fn a_dropped_redis_server_fails_the_command() {
    let runtime = runtime();
    let capture = capture_spans();
    let redis = Redis::start().unwrap_or_else(|error| panic!("{error}"));
    let port = redis.port;
    let result = runtime.block_on(scenario(async move {
        let client = redis::Client::open(redis.url()).expect("a client");
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let mut cache = otel::redis::Connection::new(connection, client.get_connection_info());
        drop(redis);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let result: redis::RedisResult<Option<String>> = cache.get("anything").await;
        result
    }));
    assert!(result.is_err());
    let span = named(&scenario_spans(&capture), "GET");
    assert_eq!(int(&span, "server.port"), i64::from(port));
    assert!(matches!(span.status, Status::Error { .. }));
    let error_type = text(&span, "error.type");
    assert!(
        ["io", "connection_dropped", "connection_refused"].contains(&error_type.as_str()),
        "{error_type}"
    );
}

#[test]
fn no_password_in_any_span_point_or_debug_output() {
    let runtime = runtime();
    let spans = capture_spans();
    let metrics = capture_metrics();
    let (debug, points) = runtime.block_on(scenario(async {
        let pool = pool("secrets").await;
        items(&pool).await;
        sqlx::query("SELECT 1")
            .fetch_one(&pool)
            .await
            .expect("SELECT");
        let client = redis_client().await;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let mut cache = otel::redis::Connection::new(connection, client.get_connection_info())
            .record_keys(true);
        let _: Option<String> = cache.get("k").await.expect("GET");
        let _: redis::RedisResult<()> = redis::cmd("AUTH")
            .arg(PASSWORD)
            .query_async(&mut cache)
            .await;
        (format!("{pool:?} {cache:?}"), metrics.points())
    }));
    let mut exported: Vec<String> = vec![debug];
    let traced = scenario_spans(&spans);
    for span in &traced {
        exported.push(span.name.to_string());
        exported.extend(
            span.attributes
                .iter()
                .map(|kv| kv.value.as_str().into_owned()),
        );
        if let Status::Error { description } = &span.status {
            exported.push(description.to_string());
        }
    }
    for point in &points {
        exported.extend(
            point
                .attributes
                .iter()
                .map(|kv: &KeyValue| kv.value.as_str().into_owned()),
        );
    }
    assert!(exported.len() > 20);
    for value in &exported {
        assert!(!value.contains(PASSWORD), "the password in {value:?}");
    }
    assert_eq!(text(&named(&traced, "AUTH"), "db.query.text"), "AUTH ?");
}

#[test]
fn the_same_wrapper_serves_sqlite() {
    let runtime = runtime();
    let capture = capture_spans();
    let count = runtime.block_on(scenario(async {
        let pool = otel::sqlx::Pool::new(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await
                .expect("an in-memory SQLite database"),
        );
        sqlx::query("CREATE TABLE notes (id integer PRIMARY KEY, body text)")
            .execute(&pool)
            .await
            .expect("CREATE");
        sqlx::query("INSERT INTO notes (body) VALUES ('private'), (?)")
            .bind("also private")
            .execute(&pool)
            .await
            .expect("INSERT");
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM notes")
            .fetch_one(&pool)
            .await
            .expect("SELECT");
        count
    }));
    assert_eq!(count, 2);
    let spans = scenario_spans(&capture);
    let insert = named(&spans, "INSERT notes");
    assert_eq!(text(&insert, "db.system.name"), "sqlite");
    assert_eq!(
        text(&insert, "db.query.text"),
        "INSERT INTO notes (body) VALUES (?), (?)"
    );
    assert_eq!(attribute(&insert, "server.address"), None);
    assert_eq!(
        text(&named(&spans, "CREATE notes"), "db.operation.name"),
        "CREATE"
    );
    assert_eq!(
        int(&named(&spans, "SELECT notes"), "db.response.returned_rows"),
        1
    );
}
