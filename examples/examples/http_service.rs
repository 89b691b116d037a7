//! An HTTP service as the seeds build it by hand in Python, in Rust with one layer per
//! direction: an items API that reads prices from PostgreSQL through `otel::sqlx`, caches them
//! in Redis through `otel::redis`, and charges payments through a second service, both
//! instrumented with `otel::http::ServerLayer`, calling out through
//! `otel::http::ClientMiddleware`. The program starts PostgreSQL and Redis (Debian's
//! `postgresql` and `redis-server`) and both services on loopback ports, sends a few requests
//! itself, and prints each trace on the console: server → handler → Redis → SQL → Redis →
//! outgoing HTTP → the payment service, in one tree. Without the database servers installed it
//! says which command installs them and keeps prices in memory.
//!
//! ```text
//! cargo run --example http_service
//! ```

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use otel_local_servers::{Postgres, Redis};
use redis::AsyncCommands as _;
use reqwest_middleware::ClientWithMiddleware;

#[otel::main(
    service = "items-api",
    environment = "dev",
    traces = "console",
    metrics = "none",
    logs = "console"
)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The servers stop when these are dropped, at the end of `main`.
    let (store, _servers) = Store::start().await?;
    let payments = start(payments_service()).await?;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(otel::http::ClientMiddleware)
        .build();
    let items = start(items_api(Api {
        client,
        payments,
        store,
    }))
    .await?;

    // What an outside caller (not instrumented) would send: an order that goes through, one
    // the payment service declines, an unknown route, and the health check (excluded: no
    // span). Each request prints as one tree crossing both services.
    let caller = reqwest::Client::new();
    // The second order of item 7 finds its price in the cache.
    for path in [
        "/items/7/buy",
        "/items/7/buy",
        "/items/13/buy",
        "/nowhere",
        "/health",
    ] {
        let response = caller.post(format!("http://{items}{path}")).send().await?;
        let trace = response
            .headers()
            .get("traceresponse")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        tracing::info!(path, status = response.status().as_u16(), traceresponse = %trace, "called");
    }
    Ok(())
}

/// Serves `app` on a free loopback port.
async fn start(app: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    Ok(address)
}

#[derive(Clone)]
struct Api {
    client: ClientWithMiddleware,
    payments: SocketAddr,
    store: Store,
}

/// Where prices come from: PostgreSQL behind a Redis cache, both traced, or (without the
/// servers) a table in memory.
#[derive(Clone)]
enum Store {
    Databases {
        pool: otel::sqlx::Pool<sqlx::Postgres>,
        cache: otel::redis::Connection<redis::aio::MultiplexedConnection>,
    },
    InMemory,
}

impl Store {
    /// Starts PostgreSQL and Redis on loopback ports and fills the `items` table.
    async fn start() -> anyhow::Result<(Store, Option<(Postgres, Redis)>)> {
        let servers = tokio::task::spawn_blocking(|| {
            Ok::<_, otel_local_servers::StartError>((
                Postgres::start_if_installed()?,
                Redis::start_if_installed()?,
            ))
        })
        .await?;
        let (postgres, redis_server) = match servers {
            Ok(servers) => servers,
            Err(error) => {
                tracing::warn!(
                    %error,
                    "no database servers: prices come from memory; `{}` installs them",
                    otel_local_servers::INSTALL_COMMAND
                );
                return Ok((Store::InMemory, None));
            }
        };
        let pool = otel::sqlx::Pool::new(sqlx::PgPool::connect(&postgres.url()).await?);
        sqlx::raw_sql(
            "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL);
             INSERT INTO items VALUES (7, 'lamp', 700), (13, 'sofa', 1300);",
        )
        .execute(pool.inner())
        .await?;
        let client = redis::Client::open(redis_server.url())?;
        let cache = otel::redis::Connection::new(
            client.get_multiplexed_async_connection().await?,
            client.get_connection_info(),
        )
        .record_cache_hits(true);
        Ok((
            Store::Databases { pool, cache },
            Some((postgres, redis_server)),
        ))
    }
}

fn items_api(api: Api) -> Router {
    Router::new()
        .route("/items/{id}/buy", post(buy))
        .route("/health", post(|| async { "ok" }))
        .with_state(api)
        .layer(otel::http::ServerLayer::new().exclude("/health$"))
}

/// Loads the item, charges its price through the payment service.
async fn buy(State(api): State<Api>, Path(id): Path<u64>) -> Result<String, StatusCode> {
    let price = price_of(&api.store, id).await.map_err(|error| {
        tracing::warn!(item.id = id, %error, "no price");
        StatusCode::NOT_FOUND
    })?;
    let charged = charge(&api, id, price).await.map_err(|error| {
        tracing::warn!(item.id = id, %error, "payment failed");
        StatusCode::PAYMENT_REQUIRED
    })?;
    Ok(format!("item {id} bought: {charged}"))
}

/// The price from the cache, else from the database (then cached for a minute).
#[otel::span(attributes(item.id = id))]
async fn price_of(store: &Store, id: u64) -> anyhow::Result<u64> {
    let Store::Databases { pool, cache } = store else {
        return Ok(id * 100);
    };
    let mut cache = cache.clone();
    let key = format!("price:{id}");
    if let Some(price) = cache.get::<_, Option<u64>>(&key).await? {
        return Ok(price);
    }
    let (price,): (i32,) = sqlx::query_as("SELECT price FROM items WHERE id = $1")
        .bind(i32::try_from(id)?)
        .fetch_one(pool)
        .await?;
    let price = u64::try_from(price)?;
    let () = cache.set_ex(&key, price, 60).await?;
    Ok(price)
}

#[otel::span(kind = client, attributes(item.id = id, payment.amount = amount))]
#[otel::metric(counter = "payments.requested")]
async fn charge(api: &Api, id: u64, amount: u64) -> anyhow::Result<String> {
    let response = api
        .client
        .post(format!("http://{}/payments/{amount}", api.payments))
        .send()
        .await?;
    if !response.status().is_success() {
        anyhow::bail!("payment service answered {}", response.status());
    }
    Ok(response.text().await?)
}

fn payments_service() -> Router {
    Router::new()
        .route("/payments/{amount}", post(pay))
        .route("/health", get(|| async { "ok" }))
        .layer(otel::http::ServerLayer::new().exclude("/health$"))
}

/// The second service: declines amounts over 1,000.
async fn pay(Path(amount): Path<u64>) -> Result<String, StatusCode> {
    authorize(amount)
        .await
        .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)
}

#[otel::span(attributes(payment.amount = amount))]
async fn authorize(amount: u64) -> Result<String, String> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    if amount > 1000 {
        Err(format!("{amount} is over the limit"))
    } else {
        Ok(format!("receipt-{amount}"))
    }
}
