//! Log records as one line each: time, level, message, attributes, trace correlation.

use std::fmt::Write as _;

use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};

use super::style;

/// Prints each record on one line as soon as it is emitted (behind a simple processor).
#[derive(Debug, Default)]
pub(crate) struct ConsoleLogExporter;

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut out = String::new();
        for (record, _scope) in batch.iter() {
            let time = record
                .timestamp()
                .or(record.observed_timestamp())
                .map(|t| humantime::format_rfc3339_millis(t).to_string())
                .unwrap_or_default();
            let level = record.severity_text().unwrap_or("LOG");
            let level = match record.severity_number() {
                Some(s) if s >= Severity::Error => style::red(&format!("{level:<5}")),
                Some(s) if s >= Severity::Warn => style::yellow(&format!("{level:<5}")),
                _ => format!("{level:<5}"),
            };
            let body = record.body().map(any_value).unwrap_or_default();
            let _ = write!(out, "{} {level} {body}", style::dim(&time));
            let attributes: Vec<String> = record
                .attributes_iter()
                // The code location is noise on a console, as on the trace tree.
                .filter(|(key, _)| !key.as_str().starts_with("code."))
                .map(|(k, v)| format!("{k}={}", any_value(v)))
                .collect();
            if !attributes.is_empty() {
                let _ = write!(out, "  {}", style::dim(&attributes.join(" ")));
            }
            if let Some(cx) = record.trace_context() {
                let _ = write!(
                    out,
                    "  {}",
                    style::dim(&format!("trace={} span={}", cx.trace_id, cx.span_id))
                );
            }
            out.push('\n');
        }
        style::print_block(&out);
        Ok(())
    }
}

fn any_value(value: &AnyValue) -> String {
    match value {
        AnyValue::String(s) => s.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}
