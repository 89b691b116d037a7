//! The HTTP client behind the OTLP/HTTP exporters: reqwest's blocking client (the SDK's own
//! choice), wrapped at the one seam the SDK offers for two things it does not do.
//!
//! - **Exactly the resolved headers are sent.** The SDK's exporter builder re-reads
//!   `OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS` with its own parser and adds what it finds, so an
//!   entry our report says was left out would still be sent. Each request's headers are
//!   replaced by the resolved ones here (the SDK's content type, encoding and user agent
//!   kept).
//! - **A failed export says why.** The SDK turns every transport error into "HTTP export
//!   failed: network error" and every refusal into its status code. The cause (connection
//!   refused, DNS, TLS and the certificate problem, timeout, the status with a short
//!   sanitized excerpt of the body) is kept for [`super::failure::describe`].

use std::error::Error;
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use reqwest::header::{
    CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};

use super::failure;

/// reqwest's blocking client sending exactly `headers` and keeping why requests fail.
#[derive(Debug)]
pub(crate) struct ExportClient {
    inner: reqwest::blocking::Client,
    headers: HeaderMap,
    timeout: Duration,
}

impl ExportClient {
    /// A client for exports timing out after `timeout`, sending `headers` (invalid ones were
    /// left out when the configuration was resolved) and trusting the PEM CA certificates
    /// in `certificate`, if any.
    pub(crate) fn new(
        headers: &[(String, String)],
        timeout: Duration,
        certificate: Option<&std::path::Path>,
    ) -> Result<ExportClient, String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                (Ok(name), Ok(value)) => {
                    map.insert(name, value);
                }
                // Resolution already described and left out what no header can carry.
                _ => continue,
            }
        }
        let roots = match certificate {
            Some(path) => Roots::in_file(path)?,
            None => Roots::default(),
        };
        // The blocking client owns a runtime of its own, which must not be created (or later
        // dropped) inside an async context: build it on a plain thread.
        let inner = std::thread::spawn(move || {
            roots
                .trusted_by(reqwest::blocking::Client::builder().timeout(timeout))
                .build()
                .map_err(|e| e.to_string())
        })
        .join()
        .map_err(|_| "the thread building the HTTP client panicked".to_owned())??;
        Ok(ExportClient {
            inner,
            headers: map,
            timeout,
        })
    }
}

/// CA certificates to trust beside the system's (`OTEL_EXPORTER_OTLP_CERTIFICATE`).
#[derive(Default)]
struct Roots {
    #[cfg(feature = "tls")]
    certificates: Vec<reqwest::Certificate>,
}

impl Roots {
    #[cfg(feature = "tls")]
    fn in_file(path: &std::path::Path) -> Result<Roots, String> {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "could not read the OTLP certificate {} ({e})",
                path.display()
            )
        })?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("the OTLP certificate {} is not PEM ({e})", path.display()))?;
        Ok(Roots { certificates })
    }

    #[cfg(not(feature = "tls"))]
    fn in_file(_path: &std::path::Path) -> Result<Roots, String> {
        Err("OTEL_EXPORTER_OTLP_CERTIFICATE needs the `tls` feature of otel".to_owned())
    }

    #[cfg(feature = "tls")]
    fn trusted_by(
        self,
        mut builder: reqwest::blocking::ClientBuilder,
    ) -> reqwest::blocking::ClientBuilder {
        for certificate in self.certificates {
            builder = builder.add_root_certificate(certificate);
        }
        builder
    }

    #[cfg(not(feature = "tls"))]
    fn trusted_by(
        self,
        builder: reqwest::blocking::ClientBuilder,
    ) -> reqwest::blocking::ClientBuilder {
        builder
    }
}

#[async_trait::async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // The SDK's own headers stay (the user's `User-Agent` wins); every other header is
        // the resolved set.
        let sent = request.headers_mut();
        let own: Vec<_> = [CONTENT_TYPE, CONTENT_ENCODING, USER_AGENT]
            .into_iter()
            .filter_map(|name| sent.remove(&name).map(|value| (name, value)))
            .collect();
        *sent = self.headers.clone();
        for (name, value) in own {
            if !sent.contains_key(&name) {
                sent.insert(name, value);
            }
        }
        let https = request.uri().scheme_str() == Some("https");
        let result = self.inner.send_bytes(request).await;
        failure::keep(match &result {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(refusal(response)),
            Err(error) => Some(transport_failure(error.as_ref(), https, self.timeout)),
        });
        result
    }
}

/// `HTTP 503 Service Unavailable: <excerpt>`.
fn refusal(response: &Response<Bytes>) -> String {
    let status = response.status();
    let mut said = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned();
    let excerpt = excerpt(response.body());
    if !excerpt.is_empty() {
        said.push_str(": ");
        said.push_str(&excerpt);
    }
    said
}

/// At most 100 characters of the printable text in `body`, whitespace folded: enough to
/// show a collector's reason (also inside a protobuf `Status`), never control characters.
fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 100;
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() || c.is_ascii_punctuation() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
        if out.chars().count() >= MAX {
            out.push('…');
            break;
        }
    }
    out
}

/// What went wrong sending a request, named as an operator looks for it. reqwest's own
/// message leads with the URL, which may carry credentials; only its causes are used, the
/// innermost (the most specific) to explain the kind.
fn transport_failure(error: &(dyn Error + 'static), https: bool, timeout: Duration) -> String {
    let mut refused = false;
    let mut innermost = None;
    let mut next = error.source();
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        innermost = Some(cause.to_string());
        next = cause.source();
    }
    let innermost = innermost.unwrap_or_else(|| error.to_string());
    let lower = innermost.to_ascii_lowercase();
    let reqwest = error.downcast_ref::<reqwest::Error>();
    if refused {
        "connection refused".to_owned()
    } else if reqwest.is_some_and(reqwest::Error::is_timeout) {
        format!(
            "timed out: no answer within {}",
            humantime::format_duration(timeout)
        )
    } else if lower.contains("lookup address") || lower.contains("dns") {
        format!("DNS lookup failed ({innermost})")
    } else if https && reqwest.is_some_and(reqwest::Error::is_connect) {
        // Connected (not refused, resolved), so the TLS handshake is what failed: an
        // untrusted or expired certificate, a name mismatch, or a server not speaking TLS.
        format!("TLS handshake failed ({innermost})")
    } else {
        innermost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_keeps_printable_text_and_is_short() {
        assert_eq!(
            excerpt(b"\x08\x03\x12\x0fquota\texceeded\n"),
            "quota exceeded"
        );
        let long = "a".repeat(300);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 101);
    }

    #[test]
    fn a_refused_connection_is_named_as_such() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let client = ExportClient::new(&[], Duration::from_secs(2), None).expect("a client");
        let request = Request::post(format!("http://user:hunter22@127.0.0.1:{port}/v1/traces"))
            .body(Bytes::new())
            .expect("a request");
        let result = ready(client.send_bytes(request));
        assert!(result.is_err());
        let sdk = opentelemetry_sdk::error::OTelSdkError::InternalFailure("network error".into());
        assert_eq!(failure::describe(&sdk), "connection refused");
    }

    /// The output of a future that never waits (the blocking client's).
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the blocking client's future waited"),
        }
    }
}
