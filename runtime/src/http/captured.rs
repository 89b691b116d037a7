//! Headers recorded as span attributes, opt-in as the semantic conventions define it:
//! `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_{SERVER,CLIENT}_{REQUEST,RESPONSE}` list header
//! names (comma-separated, case-insensitive, regular expressions allowed) recorded as
//! `http.request.header.<name>` / `http.response.header.<name>` string arrays. Values of
//! `authorization`, `proxy-authorization`, `cookie`, `set-cookie` and of any name matching
//! `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS` are recorded as `[REDACTED]`.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use regex::{Regex, RegexBuilder};

use crate::conventions;
use crate::diagnostics::warn_once;

const SANITIZE_VARIABLE: &str = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS";
const ALWAYS_REDACTED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Which side of the exchange a list is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    ServerRequest,
    ServerResponse,
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    ClientRequest,
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    ClientResponse,
}

impl Side {
    fn variable(self) -> &'static str {
        match self {
            Side::ServerRequest => "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST",
            Side::ServerResponse => "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE",
            Side::ClientRequest => "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST",
            Side::ClientResponse => "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Side::ServerRequest | Side::ClientRequest => conventions::HTTP_REQUEST_HEADER_PREFIX,
            Side::ServerResponse | Side::ClientResponse => conventions::HTTP_RESPONSE_HEADER_PREFIX,
        }
    }
}

/// The headers one side records, `None` when nothing is captured (the default).
#[derive(Debug, Clone)]
pub(crate) struct CapturedHeaders {
    side: Side,
    names: Regex,
    sanitized: Regex,
}

impl CapturedHeaders {
    /// The names in the environment's list for `side`, and `names` from code.
    pub(crate) fn from_env(side: Side, names: &[String]) -> Option<Self> {
        let mut all = std::env::var(side.variable()).unwrap_or_default();
        for name in names {
            all.push(',');
            all.push_str(name);
        }
        let sanitize = std::env::var(SANITIZE_VARIABLE).ok();
        Self::new(side, Some(&all), sanitize.as_deref())
    }

    fn new(side: Side, names: Option<&str>, sanitize: Option<&str>) -> Option<Self> {
        let names = alternatives(side.variable(), names.unwrap_or_default().split(','))?;
        let sanitize = sanitize.unwrap_or_default().split(',');
        let sanitized = alternatives(
            SANITIZE_VARIABLE,
            ALWAYS_REDACTED.iter().copied().chain(sanitize),
        )?;
        Some(Self {
            side,
            names,
            sanitized,
        })
    }

    /// The attributes for `headers`.
    pub(crate) fn record(&self, headers: &http::HeaderMap, out: &mut Vec<KeyValue>) {
        for name in headers.keys() {
            let name = name.as_str();
            if !self.names.is_match(name) {
                continue;
            }
            let redacted = self.sanitized.is_match(name);
            let values: Vec<StringValue> = headers
                .get_all(name)
                .iter()
                .map(|value| {
                    if redacted {
                        StringValue::from("[REDACTED]")
                    } else {
                        StringValue::from(crate::limits::request_string(&String::from_utf8_lossy(
                            value.as_bytes(),
                        )))
                    }
                })
                .collect();
            out.push(KeyValue::new(
                format!("{}{name}", self.side.prefix()),
                Value::Array(Array::String(values)),
            ));
        }
    }
}

/// One case-insensitive regular expression matching any of `patterns` in full; `None` when
/// there are none. Invalid patterns are warned about and left out.
fn alternatives<'a>(variable: &str, patterns: impl Iterator<Item = &'a str>) -> Option<Regex> {
    let mut valid = Vec::new();
    for pattern in patterns.map(str::trim).filter(|p| !p.is_empty()) {
        match Regex::new(pattern) {
            Ok(_) => valid.push(format!("(?:{pattern})")),
            Err(error) => warn_once(&format!(
                "{variable}: `{pattern}` is not a regular expression ({error}); ignored"
            )),
        }
    }
    if valid.is_empty() {
        return None;
    }
    RegexBuilder::new(&format!("^(?:{})$", valid.join("|")))
        .case_insensitive(true)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-request-id", "r-1".parse().expect("value"));
        headers.append("accept", "text/html".parse().expect("value"));
        headers.append("accept", "application/json".parse().expect("value"));
        headers.insert("authorization", "Bearer secret".parse().expect("value"));
        headers.insert("x-api-key", "k-42".parse().expect("value"));
        headers
    }

    fn recorded(captured: &CapturedHeaders) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        captured.record(&headers(), &mut out);
        let mut pairs: Vec<_> = out
            .into_iter()
            .map(|kv| (kv.key.to_string(), kv.value))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    }

    fn strings(values: &[&'static str]) -> Value {
        Value::Array(Array::String(
            values.iter().map(|v| StringValue::from(*v)).collect(),
        ))
    }

    #[test]
    fn nothing_is_captured_unless_listed() {
        assert!(CapturedHeaders::new(Side::ServerRequest, None, None).is_none());
        assert!(CapturedHeaders::new(Side::ServerRequest, Some(" , "), None).is_none());
    }

    #[test]
    fn listed_headers_are_recorded_as_arrays_and_sensitive_ones_redacted() {
        let captured = CapturedHeaders::new(
            Side::ServerRequest,
            Some("X-Request-Id, accept, Authorization, x-api-.*"),
            Some("x-api-key"),
        )
        .expect("captured");
        let key = |name: &str| format!("http.request.header.{name}");
        assert_eq!(
            recorded(&captured),
            vec![
                (key("accept"), strings(&["text/html", "application/json"])),
                (key("authorization"), strings(&["[REDACTED]"])),
                (key("x-api-key"), strings(&["[REDACTED]"])),
                (key("x-request-id"), strings(&["r-1"])),
            ]
        );
    }
}
