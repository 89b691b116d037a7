//! Two services in two processes, for the end-to-end test of one trace crossing them.
//!
//! `OTEL_TEST_ROLE=downstream`: serves `POST /pay` and `POST /refund` (axum, the latter a
//! 500 from an annotated fn's `Err`, with `record_handler_errors`) and `shop.v1.Payments`
//! (tonic), both behind `otel::http::ServerLayer`, prints `http=<address>` and `grpc=<address>`, and
//! ends when its standard input closes.
//!
//! `OTEL_TEST_ROLE=upstream`: serves `GET /checkout`, whose handler calls the downstream
//! `/pay` through reqwest with `otel::http::ClientMiddleware` and `Charge` through a tonic
//! channel with `otel::grpc::ClientLayer`; sends itself one request (with the trace context
//! of `OTEL_TEST_INCOMING_TRACEPARENT`, if set), prints the `traceparent` `/pay` received and
//! the trace id from the `traceresponse` header, and ends.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use std::io::Read as _;

use tower_layer::Layer as _;

#[otel::main(shutdown_timeout = "5s")]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match std::env::var("OTEL_TEST_ROLE").as_deref() {
        Ok("downstream") => downstream().await,
        Ok("upstream") => upstream().await,
        other => anyhow::bail!("OTEL_TEST_ROLE must be downstream or upstream, not {other:?}"),
    }
}

async fn downstream() -> anyhow::Result<()> {
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("http={}", http.local_addr()?);
    println!("grpc={}", grpc.local_addr()?);
    let app = Router::new()
        // Answers with the `traceparent` it received, flags included.
        .route(
            "/pay",
            post(|headers: axum::http::HeaderMap| async move {
                headers
                    .get("traceparent")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("none")
                    .to_owned()
            }),
        )
        // A handler that turns an annotated fn's `Err` into a 500.
        .route(
            "/refund",
            post(|| async {
                refund()
                    .await
                    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
            }),
        )
        .layer(otel::http::ServerLayer::new().record_handler_errors(true));
    tokio::spawn(async move { axum::serve(http, app).await });
    tokio::spawn(otel_tests::payments::serve(grpc));
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    Ok(())
}

#[otel::span]
async fn refund() -> Result<&'static str, std::io::Error> {
    Err(std::io::Error::other("the refund window has closed"))
}

async fn upstream() -> anyhow::Result<()> {
    let pay_url = format!("http://{}/pay", std::env::var("OTEL_TEST_DOWNSTREAM_HTTP")?);
    let endpoint = tonic::transport::Endpoint::from_shared(format!(
        "http://{}",
        std::env::var("OTEL_TEST_DOWNSTREAM_GRPC")?
    ))?;
    let channel = otel::grpc::ClientLayer::new()
        .server(endpoint.uri())
        .layer(endpoint.connect().await?);
    let client = reqwest_middleware::ClientBuilder::new(otel::http::client_builder().build()?)
        .with(otel::http::ClientMiddleware)
        .build();

    let app = Router::new()
        .route(
            "/checkout",
            get(move || {
                let (client, channel, pay_url) = (client.clone(), channel.clone(), pay_url.clone());
                async move {
                    let paid = match client.post(pay_url).send().await {
                        Ok(paid) if paid.status().is_success() => {
                            println!("pay_traceparent={}", paid.text().await.unwrap_or_default());
                            Ok(())
                        }
                        _ => Err(()),
                    };
                    let charged =
                        otel_tests::payments::call(channel, "/shop.v1.Payments/Charge", "book")
                            .await;
                    match (paid, charged) {
                        (Ok(()), Ok(receipt)) => Ok(receipt.id),
                        _ => Err(StatusCode::BAD_GATEWAY),
                    }
                }
            }),
        )
        .layer(otel::http::ServerLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // With a context from "outside" when the test gives one (the Level 2 `random` flag, say).
    let mut request = reqwest::Client::new().get(format!("http://{address}/checkout"));
    if let Ok(traceparent) = std::env::var("OTEL_TEST_INCOMING_TRACEPARENT") {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await?;
    let status = response.status();
    let trace_response = response
        .headers()
        .get("traceresponse")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    println!("status={status}");
    println!("body={}", response.text().await?);
    let trace_response = trace_response.ok_or_else(|| anyhow::anyhow!("no traceresponse"))?;
    let trace_id = trace_response.split('-').nth(1).unwrap_or_default();
    println!("trace_id={trace_id}");
    Ok(())
}
