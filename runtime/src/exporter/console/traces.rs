//! Finished traces as trees: spans wait until their local root ends, then print together.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_semantic_conventions::attribute;

use super::style;
use crate::conventions;

/// Attributes the tree shows in its own way (the code location is noise on a console).
const HIDDEN_ATTRIBUTES: &[&str] = &[
    attribute::CODE_FILE_PATH,
    attribute::CODE_LINE_NUMBER,
    attribute::CODE_FUNCTION_NAME,
    conventions::CODE_MODULE_NAME,
    attribute::THREAD_ID,
    attribute::THREAD_NAME,
    "busy_ns",
    "idle_ns",
    "target",
    "level",
];

/// Event attributes the tree leaves out (a stack trace does not fit on a line).
const HIDDEN_EVENT_ATTRIBUTES: &[&str] = &[
    attribute::EXCEPTION_STACKTRACE,
    attribute::CODE_FILE_PATH,
    attribute::CODE_LINE_NUMBER,
    conventions::CODE_MODULE_NAME,
    "level",
    "target",
];

/// How many unfinished traces the console keeps before printing them as they are: a root
/// that never ends (a span around a whole server loop) must not hold memory forever.
const MAX_PENDING_TRACES: usize = 1024;

/// Buffers the spans of each trace until its local root ends, then prints the tree.
///
/// Used behind a simple (synchronous) processor so the tree appears as soon as the work ends.
#[derive(Debug, Default)]
pub(crate) struct ConsoleSpanExporter {
    pending: Mutex<HashMap<TraceId, Vec<SpanData>>>,
}

impl SpanExporter for ConsoleSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut ready = Vec::new();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for span in batch {
                let trace_id = span.span_context.trace_id();
                let is_root = span.parent_span_id == SpanId::INVALID;
                let is_remote_child = span.parent_span_is_remote;
                let span_id = span.span_context.span_id();
                let spans = pending.entry(trace_id).or_default();
                spans.push(span);
                // A span whose parent is in another process ends its process's part of the
                // trace, unless spans still waiting here hang under something else: then
                // both services run in this process, and the tree waits for the real root.
                let complete = is_root || (is_remote_child && all_under(spans, span_id));
                if complete && let Some(spans) = pending.remove(&trace_id) {
                    ready.push(spans);
                }
            }
            if pending.len() > MAX_PENDING_TRACES {
                ready.extend(pending.drain().map(|(_, spans)| spans));
            }
        }
        for spans in ready {
            style::print_block(&render_trace(spans));
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        // Whatever never saw its root end (a root still open at exit) prints as it is.
        let leftovers: Vec<_> = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, spans)| spans)
            .collect();
        for spans in leftovers {
            style::print_block(&render_trace(spans));
        }
        Ok(())
    }
}

/// Whether every span in `spans` descends from `root` (or is it), following parent links
/// among them.
fn all_under(spans: &[SpanData], root: SpanId) -> bool {
    let parents: HashMap<SpanId, SpanId> = spans
        .iter()
        .map(|span| (span.span_context.span_id(), span.parent_span_id))
        .collect();
    spans.iter().all(|span| {
        let mut current = span.span_context.span_id();
        for _ in 0..=spans.len() {
            if current == root {
                return true;
            }
            match parents.get(&current) {
                Some(parent) => current = *parent,
                None => return false,
            }
        }
        false
    })
}

/// Renders one trace: roots (spans whose parent is not among `spans`) first, children by
/// start time under their parents.
pub(crate) fn render_trace(mut spans: Vec<SpanData>) -> String {
    spans.sort_by_key(|s| s.start_time);
    let ids: std::collections::HashSet<SpanId> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (index, span) in spans.iter().enumerate() {
        if ids.contains(&span.parent_span_id) {
            children.entry(span.parent_span_id).or_default().push(index);
        } else {
            roots.push(index);
        }
    }
    let trace_id = spans
        .first()
        .map(|s| s.span_context.trace_id())
        .unwrap_or(TraceId::INVALID);
    let mut out = format!(
        "{} {}\n",
        style::bold("trace"),
        style::dim(&trace_id.to_string())
    );
    for (n, root) in roots.iter().enumerate() {
        let last = n + 1 == roots.len();
        render_span(&spans, &children, *root, "", last, &mut out);
    }
    out
}

fn render_span(
    spans: &[SpanData],
    children: &HashMap<SpanId, Vec<usize>>,
    index: usize,
    prefix: &str,
    last: bool,
    out: &mut String,
) {
    let span = &spans[index];
    let branch = if last { "└─ " } else { "├─ " };
    let elapsed = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let kind = match span.span_kind {
        SpanKind::Internal => String::new(),
        SpanKind::Server => " [server]".into(),
        SpanKind::Client => " [client]".into(),
        SpanKind::Producer => " [producer]".into(),
        SpanKind::Consumer => " [consumer]".into(),
    };
    let name = match &span.status {
        Status::Error { .. } => style::red(&span.name),
        _ => style::bold(&span.name),
    };
    let _ = write!(
        out,
        "{prefix}{branch}{name}{kind} {}",
        style::cyan(&style::duration(elapsed))
    );
    if let Status::Error { description } = &span.status {
        let _ = write!(out, " {}", style::red(&format!("ERROR {description}")));
    }
    let attributes = style::attributes(&span.attributes, HIDDEN_ATTRIBUTES);
    if !attributes.is_empty() {
        let _ = write!(out, "  {}", style::dim(&attributes));
    }
    out.push('\n');
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    for event in span.events.iter() {
        let offset = event
            .timestamp
            .duration_since(span.start_time)
            .unwrap_or_default();
        let text = format!(
            "• {} +{} {}",
            event.name,
            style::duration(offset),
            style::attributes(&event.attributes, HIDDEN_EVENT_ATTRIBUTES)
        );
        let text = if event.name == "exception" {
            style::red(&text)
        } else {
            style::yellow(&text)
        };
        let _ = writeln!(out, "{child_prefix}  {}", text.trim_end());
    }
    if let Some(kids) = children.get(&span.span_context.span_id()) {
        for (n, kid) in kids.iter().enumerate() {
            render_span(
                spans,
                children,
                *kid,
                &child_prefix,
                n + 1 == kids.len(),
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(id: u64, parent: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: format!("s{id}").into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        }
    }

    #[test]
    fn a_remote_child_completes_its_part_only_when_nothing_else_waits() {
        // Service B's server span (3) under A's client span (2): alone, B's part is done.
        assert!(all_under(&[span(4, 3), span(3, 2)], SpanId::from(3)));
        // Both services in one process: A's span 5 waits under A's server span 1.
        assert!(!all_under(
            &[span(5, 1), span(4, 3), span(3, 2)],
            SpanId::from(3)
        ));
    }
}
