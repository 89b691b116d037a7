//! An OTLP receiver on a loopback port whose answers a test scripts, over gRPC, HTTP/protobuf
//! or HTTP/JSON, for traces and logs. The n-th export request of each signal gets the n-th
//! answer of the script, and every request after the script is accepted. It counts the spans
//! and log records it accepted and those it answered with an error, and keeps the headers of
//! the first trace export.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

/// How the receiver answers one export request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accepted.
    Accept,
    /// HTTP 500, gRPC INTERNAL: an error the exporter does not retry.
    Fail,
    /// HTTP 400 with a text body, gRPC INVALID_ARGUMENT with a message.
    BadRequest,
    /// HTTP 429 with `Retry-After: 1`; gRPC UNAVAILABLE (RESOURCE_EXHAUSTED is retried only
    /// with a `RetryInfo` detail).
    Throttle,
    /// HTTP 503 with `Retry-After: 1`, gRPC UNAVAILABLE: retried.
    Unavailable,
    /// Accepted after 1.5 s.
    Slow,
}

/// A request's headers (gRPC: ASCII metadata), names in lowercase.
pub type Headers = Vec<(String, String)>;

/// What the body of a refused HTTP request says.
pub const REFUSAL_TEXT: &str = "the receiver refuses this batch on purpose";

/// One signal's requests and items.
#[derive(Debug, Default)]
pub struct Tally {
    requests: AtomicUsize,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

impl Tally {
    /// Items in accepted requests.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Items in requests answered with an error (retried requests count each time).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::SeqCst)
    }

    /// The answer to the next request, counting its `items`.
    fn answer(&self, script: &[Answer], items: u64) -> Answer {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let answer = script.get(n).copied().unwrap_or(Answer::Accept);
        match answer {
            Answer::Accept | Answer::Slow => self.accepted.fetch_add(items, Ordering::SeqCst),
            _ => self.rejected.fetch_add(items, Ordering::SeqCst),
        };
        answer
    }
}

/// A running receiver.
pub struct Scripted {
    /// `http://127.0.0.1:port`.
    pub endpoint: String,
    pub traces: Arc<Tally>,
    pub logs: Arc<Tally>,
    /// The headers of the first trace export, names in lowercase.
    pub first_headers: Arc<Mutex<Option<Headers>>>,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct Shared {
    script: Arc<Vec<Answer>>,
    traces: Arc<Tally>,
    logs: Arc<Tally>,
    first_headers: Arc<Mutex<Option<Headers>>>,
}

impl Shared {
    fn saw_headers<'a>(&self, headers: impl Iterator<Item = (&'a str, &'a [u8])>) {
        let mut first = self.first_headers.lock().expect("headers lock");
        if first.is_none() {
            *first = Some(
                headers
                    .map(|(name, value)| {
                        (
                            name.to_ascii_lowercase(),
                            String::from_utf8_lossy(value).into_owned(),
                        )
                    })
                    .collect(),
            );
        }
    }
}

fn spans(request: &ExportTraceServiceRequest) -> u64 {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum()
}

fn log_records(request: &ExportLogsServiceRequest) -> u64 {
    request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len() as u64)
        .sum()
}

/// The items in an OTLP/JSON body: `outer` (`resourceSpans`) → `middle` (`scopeSpans`) →
/// `inner` (`spans`).
fn json_items(body: &[u8], outer: &str, middle: &str, inner: &str) -> u64 {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    value[outer]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r[middle].as_array().cloned().unwrap_or_default())
        .map(|s| s[inner].as_array().map_or(0, Vec::len) as u64)
        .sum()
}

async fn grpc_answer(answer: Answer) -> Result<(), tonic::Status> {
    match answer {
        Answer::Accept => Ok(()),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok(())
        }
        Answer::Fail => Err(tonic::Status::internal("failing on purpose")),
        Answer::BadRequest => Err(tonic::Status::invalid_argument(REFUSAL_TEXT)),
        Answer::Throttle | Answer::Unavailable => {
            Err(tonic::Status::unavailable("unavailable on purpose"))
        }
    }
}

#[tonic::async_trait]
impl TraceService for Shared {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.saw_headers(request.metadata().iter().filter_map(|entry| match entry {
            tonic::metadata::KeyAndValueRef::Ascii(key, value) => {
                Some((key.as_str(), value.as_bytes()))
            }
            tonic::metadata::KeyAndValueRef::Binary(..) => None,
        }));
        let answer = self.traces.answer(&self.script, spans(request.get_ref()));
        grpc_answer(answer).await?;
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Shared {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let answer = self
            .logs
            .answer(&self.script, log_records(request.get_ref()));
        grpc_answer(answer).await?;
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

async fn http_answer(answer: Answer) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse as _;
    match answer {
        Answer::Accept => StatusCode::OK.into_response(),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            StatusCode::OK.into_response()
        }
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::BadRequest => (StatusCode::BAD_REQUEST, REFUSAL_TEXT).into_response(),
        Answer::Throttle => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response(),
        Answer::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response()
        }
    }
}

/// Starts a receiver over `protocol` (`grpc`, `http/protobuf`, `http/json`) answering each
/// signal's requests as `script` says.
pub fn start(protocol: &str, script: &[Answer]) -> Scripted {
    let shared = Shared {
        script: Arc::new(script.to_vec()),
        traces: Arc::default(),
        logs: Arc::default(),
        first_headers: Arc::default(),
    };
    let (runtime, listener, address) = super::loopback::listen(1);
    let scripted = Scripted {
        endpoint: format!("http://{address}"),
        traces: shared.traces.clone(),
        logs: shared.logs.clone(),
        first_headers: shared.first_headers.clone(),
        _runtime: runtime,
    };
    let runtime = &scripted._runtime;
    if protocol == "grpc" {
        runtime.spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(shared.clone()))
                .add_service(LogsServiceServer::new(shared))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        return scripted;
    }
    let json = protocol == "http/json";
    let for_logs = shared.clone();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let shared = shared.clone();
                    async move {
                        shared.saw_headers(
                            headers
                                .iter()
                                .map(|(name, value)| (name.as_str(), value.as_bytes())),
                        );
                        let items = if json {
                            json_items(&body, "resourceSpans", "scopeSpans", "spans")
                        } else {
                            ExportTraceServiceRequest::decode(body).map_or(0, |r| spans(&r))
                        };
                        http_answer(shared.traces.answer(&shared.script, items)).await
                    }
                },
            ),
        )
        .route(
            "/v1/logs",
            axum::routing::post(move |body: axum::body::Bytes| {
                let shared = for_logs.clone();
                async move {
                    let items = if json {
                        json_items(&body, "resourceLogs", "scopeLogs", "logRecords")
                    } else {
                        ExportLogsServiceRequest::decode(body).map_or(0, |r| log_records(&r))
                    };
                    http_answer(shared.logs.answer(&shared.script, items)).await
                }
            }),
        );
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    scripted
}
