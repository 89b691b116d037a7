//! A small gRPC service for the tests, `shop.v1.Payments/Charge`, written against tonic's
//! server and client building blocks with prost messages (what `tonic-build` would generate,
//! without needing `protoc` on the machine).
//!
//! `Charge` answers by the item: `"missing"` → NOT_FOUND (the caller's mistake), `"crash"` →
//! INTERNAL "card processor down" (the server's fault), anything else → a receipt.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use tonic::body::Body;
use tonic::server::{NamedService, UnaryService};
use tonic_prost::ProstCodec;

/// The request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payment {
    #[prost(string, tag = "1")]
    pub item: String,
    #[prost(uint32, tag = "2")]
    pub cents: u32,
}

/// The response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Receipt {
    #[prost(string, tag = "1")]
    pub id: String,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The server side: add it to a `tonic::transport::Server`.
#[derive(Debug, Clone, Default)]
pub struct Payments;

impl NamedService for Payments {
    const NAME: &'static str = "shop.v1.Payments";
}

impl tower_service::Service<http::Request<Body>> for Payments {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            Ok(match request.uri().path() {
                "/shop.v1.Payments/Charge" => {
                    let mut grpc =
                        tonic::server::Grpc::new(ProstCodec::<Receipt, Payment>::default());
                    grpc.unary(ChargeHandler, request).await
                }
                _ => tonic::Status::unimplemented("no such method").into_http(),
            })
        })
    }
}

struct ChargeHandler;

impl UnaryService<Payment> for ChargeHandler {
    type Response = Receipt;
    type Future = BoxFuture<Result<tonic::Response<Receipt>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<Payment>) -> Self::Future {
        Box::pin(async move { charge(request.into_inner()).await.map(tonic::Response::new) })
    }
}

/// The business function, annotated: its span is a child of the gRPC server span.
#[otel::span]
async fn charge(payment: Payment) -> Result<Receipt, tonic::Status> {
    match payment.item.as_str() {
        "missing" => Err(tonic::Status::not_found("no such item")),
        "crash" => Err(tonic::Status::internal("card processor down")),
        item => Ok(Receipt {
            id: format!("receipt-{item}-{}", payment.cents),
        }),
    }
}

/// Calls `Charge` (or `method`, to reach one that does not exist) over `channel`.
pub async fn call<S>(channel: S, method: &'static str, item: &str) -> Result<Receipt, tonic::Status>
where
    S: tonic::client::GrpcService<Body>,
    S::Error: Into<tonic::codegen::StdError>,
    S::ResponseBody: http_body::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <S::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.into().to_string()))?;
    let payment = Payment {
        item: item.to_owned(),
        cents: 1250,
    };
    grpc.unary(
        tonic::Request::new(payment),
        PathAndQuery::from_static(method),
        ProstCodec::<Payment, Receipt>::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// Serves [`Payments`] behind `otel::http::ServerLayer` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener) {
    let _ = tonic::transport::Server::builder()
        .layer(otel::http::ServerLayer::new())
        .add_service(Payments)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await;
}
