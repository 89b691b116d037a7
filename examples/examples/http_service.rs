//! An HTTP service as the seeds build it by hand in Python, in Rust with one layer per
//! direction: an items API that charges payments through a second service, both instrumented
//! with `otel::http::ServerLayer`, calling out through `otel::http::ClientMiddleware`. The
//! program starts both on loopback ports, sends a few requests itself, and prints each trace
//! on the console: the items API's server span, its client call, and the payment service's
//! server span in one tree.
//!
//! ```text
//! cargo run --example http_service
//! ```

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
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
    let payments = start(payments_service()).await?;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(otel::http::ClientMiddleware)
        .build();
    let items = start(items_api(Api { client, payments })).await?;

    // What an outside caller (not instrumented) would send: an order that goes through, one
    // the payment service declines, an unknown route, and the health check (excluded: no
    // span). Each request prints as one tree crossing both services.
    let caller = reqwest::Client::new();
    for path in ["/items/7/buy", "/items/13/buy", "/nowhere", "/health"] {
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
    let price = price_of(id).await;
    let charged = charge(&api, id, price).await.map_err(|error| {
        tracing::warn!(item.id = id, %error, "payment failed");
        StatusCode::PAYMENT_REQUIRED
    })?;
    Ok(format!("item {id} bought: {charged}"))
}

#[otel::span(attributes(item.id = id))]
async fn price_of(id: u64) -> u64 {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    id * 100
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
