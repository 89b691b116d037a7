//! The calling side: a tower layer for tonic channels.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response, Uri};
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};
use opentelemetry_semantic_conventions::attribute;
use tower_layer::Layer;
use tower_service::Service;

use super::{Call, Outcome, Pending, Side};
use crate::http::{HeaderInjector, PerGeneration, ResponseBody};

/// Instruments the calls of a gRPC client: a client span `{package.Service}/{Method}` per call
/// with `rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code` (from the trailers)
/// and `server.address`/`server.port`; every status but OK fails it; `traceparent` and
/// `baggage` go into the call's metadata through the installed propagators;
/// `rpc.client.duration` (milliseconds).
///
/// It wraps a tonic `Channel`, or any tower service over `http` requests. tonic sends the
/// channel paths without the host, so give the layer the endpoint's URI to record the server.
///
/// ```no_run
/// use tower_layer::Layer as _;
///
/// # async fn connect() -> Result<(), Box<dyn std::error::Error>> {
/// let endpoint = tonic::transport::Endpoint::from_static("http://payments:50051");
/// let channel = otel::grpc::ClientLayer::new()
///     .server(endpoint.uri())
///     .layer(endpoint.connect().await?);
/// // A generated client over it: `PaymentsClient::new(channel)`.
/// # let _ = channel;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientLayer {
    /// `server.address` and `server.port`, when told.
    server: Option<Arc<[KeyValue]>>,
}

impl ClientLayer {
    /// A layer that records every call, with the server taken from the request URI when it
    /// has one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `server.address` and `server.port` from `uri` (the channel's endpoint) for
    /// calls whose request URI names no host.
    pub fn server(self, uri: &Uri) -> Self {
        Self {
            server: Some(server_attributes(uri).into()),
        }
    }
}

impl<S> Layer<S> for ClientLayer {
    type Service = ClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientService {
            inner,
            server: self.server.clone(),
        }
    }
}

/// A gRPC client service wrapped by [`ClientLayer`].
#[derive(Debug, Clone)]
pub struct ClientService<S> {
    inner: S,
    server: Option<Arc<[KeyValue]>>,
}

impl<S, B, R> Service<Request<B>> for ClientService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<ResponseBody<R>>;
    type Error = S::Error;
    type Future = ClientFuture<S::Future>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(task)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let Some((service, method)) = super::service_and_method(request.uri().path()) else {
            return ClientFuture {
                inner: self.inner.call(request),
                pending: None,
            };
        };
        let name = format!("{service}/{method}");
        let call = Call::new(Side::Client, service, method, duration());
        let mut attributes = call.attributes().to_vec();
        match (request.uri().host(), &self.server) {
            (Some(_), _) => attributes.extend(server_attributes(request.uri())),
            (None, Some(server)) => attributes.extend_from_slice(server),
            (None, None) => {}
        }
        let tracer = tracer();
        let cx = Context::map_current(|parent| {
            let span = tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_attributes(attributes)
                .start_with_context(&*tracer, parent);
            parent.with_span(span)
        });
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&cx, &mut HeaderInjector(request.headers_mut()));
        });
        let pending = Pending::new(cx, Instant::now(), call);
        let inner = {
            let _current = pending.context().clone().attach();
            self.inner.call(request)
        };
        ClientFuture {
            inner,
            pending: Some(pending),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of a [`ClientService`]: the call's span ends with the status.
    #[derive(Debug)]
    pub struct ClientFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, R, E> Future for ClientFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<ResponseBody<R>>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(result) = this.inner.poll(task) else {
            return Poll::Pending;
        };
        Poll::Ready(match (this.pending.take(), result) {
            (Some(pending), Ok(response)) => Ok(pending.respond(response)),
            (Some(pending), Err(error)) => {
                pending.finish(Outcome::Failed(std::any::type_name::<E>().into()));
                Err(error)
            }
            (None, result) => result.map(|response| response.map(ResponseBody::plain)),
        })
    }
}

/// `server.address` and `server.port` (the scheme's default when the URI names none).
fn server_attributes(uri: &Uri) -> Vec<KeyValue> {
    let Some(host) = uri.host() else {
        return Vec::new();
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    let mut attributes = vec![KeyValue::new(attribute::SERVER_ADDRESS, host.to_owned())];
    if let Some(port) = port {
        attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
    }
    attributes
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("otel.grpc.client")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

fn tracer() -> Arc<global::BoxedTracer> {
    static TRACER: PerGeneration<Arc<global::BoxedTracer>> = PerGeneration::new();
    TRACER.get(crate::trace::installed::generation(), || {
        Arc::new(global::tracer_provider().tracer_with_scope(scope()))
    })
}

/// `rpc.client.duration`, from the meter provider installed now.
fn duration() -> Histogram<f64> {
    static DURATION: PerGeneration<Histogram<f64>> = PerGeneration::new();
    DURATION.get(crate::metrics::backend::generation(), || {
        super::duration_histogram(
            &global::meter_provider().meter_with_scope(scope()),
            Side::Client,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_read_from_uris() {
        let uri: Uri = "http://payments:50051".parse().expect("a uri");
        let attributes = server_attributes(&uri);
        assert_eq!(attributes[0].value.as_str(), "payments");
        assert_eq!(attributes[1].value, opentelemetry::Value::I64(50051));
        let uri: Uri = "https://[::1]".parse().expect("a uri");
        let attributes = server_attributes(&uri);
        assert_eq!(attributes[0].value.as_str(), "::1");
        assert_eq!(attributes[1].value, opentelemetry::Value::I64(443));
        assert!(server_attributes(&"/pkg.S/M".parse().expect("a uri")).is_empty());
    }
}
