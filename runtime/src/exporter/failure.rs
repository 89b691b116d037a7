//! Why an export failed, said as an operator looks for it: connection refused, DNS, TLS,
//! timeout, the HTTP status with the collector's reason, the gRPC status.
//!
//! The SDK's own errors lose most of that: over HTTP every transport error reads "HTTP
//! export failed: network error". The OTLP/HTTP client (`http_client`) keeps the cause on
//! the thread that sent the request, which is the thread the SDK's batch processor or
//! periodic reader runs the whole export on (retries included), and [`describe`] reads it
//! there when the export returns its error.

use std::cell::RefCell;

use opentelemetry_sdk::error::OTelSdkError;

thread_local! {
    /// Why the last request sent from this thread failed, until read.
    static CAUSE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps why the request just sent from this thread failed (`None`: it succeeded).
#[cfg_attr(not(feature = "_http-transport"), allow(dead_code))]
pub(super) fn keep(cause: Option<String>) {
    CAUSE.with(|slot| *slot.borrow_mut() = cause);
}

/// Why the export that just returned `error` on this thread failed.
pub(crate) fn describe(error: &OTelSdkError) -> String {
    if let Some(cause) = CAUSE.with(|slot| slot.borrow_mut().take()) {
        return cause;
    }
    match error {
        OTelSdkError::InternalFailure(message) => tidy_grpc(message),
        other => other.to_string(),
    }
}

/// `TonicTracesClient export failed with gRPC code: Unavailable: transport error: tcp
/// connect error: tcp connect error: Connection refused (os error 111)` becomes
/// `gRPC Unavailable: connection refused`; other gRPC failures keep their causes, repeats
/// folded.
fn tidy_grpc(message: &str) -> String {
    let Some((_, rest)) = message.split_once(" export failed with gRPC code: ") else {
        return message.to_owned();
    };
    let (code, detail) = rest.split_once(": ").unwrap_or((rest, ""));
    let mut causes: Vec<&str> = Vec::new();
    for cause in detail.split(": ").filter(|c| !c.is_empty()) {
        if causes.last() != Some(&cause) {
            causes.push(cause);
        }
    }
    let detail = causes.join(": ");
    let lower = detail.to_ascii_lowercase();
    if lower.contains("connection refused") {
        format!("gRPC {code}: connection refused")
    } else if lower.contains("timeout expired") {
        format!("gRPC {code}: timed out: no answer within the export timeout")
    } else if ["certificate", "corrupt message", "handshake"]
        .iter()
        .any(|tls| lower.contains(tls))
    {
        format!(
            "gRPC {code}: TLS handshake failed ({})",
            causes.last().unwrap_or(&"")
        )
    } else if detail.is_empty() {
        format!("gRPC {code}")
    } else {
        format!("gRPC {code}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_failures_are_named_by_status_and_cause() {
        let refused = OTelSdkError::InternalFailure(
            "TonicTracesClient export failed with gRPC code: Unavailable: transport error: \
             tcp connect error: tcp connect error: Connection refused (os error 111)"
                .to_owned(),
        );
        assert_eq!(describe(&refused), "gRPC Unavailable: connection refused");
        let refusal = OTelSdkError::InternalFailure(
            "TonicLogsClient export failed with gRPC code: InvalidArgument".to_owned(),
        );
        assert_eq!(describe(&refusal), "gRPC InvalidArgument");
    }

    #[test]
    fn a_kept_cause_is_read_once() {
        keep(Some("connection refused".to_owned()));
        let sdk = OTelSdkError::InternalFailure("HTTP export failed: network error".to_owned());
        assert_eq!(describe(&sdk), "connection refused");
        assert_eq!(describe(&sdk), "HTTP export failed: network error");
    }
}
