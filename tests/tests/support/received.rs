//! Reading the collector's detailed debug output into spans and log records.

/// One received span.
#[derive(Debug, Clone, Default)]
pub struct Span {
    pub trace_id: String,
    pub parent_id: String,
    pub id: String,
    pub name: String,
    pub status: String,
    pub text: String,
}

/// One received log record.
#[derive(Debug, Clone, Default)]
pub struct LogRecord {
    pub body: String,
    pub trace_id: String,
    pub span_id: String,
    pub text: String,
}

fn field(line: &str, name: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(name)?;
    let rest = rest.trim_start().strip_prefix(':')?;
    Some(rest.trim().to_owned())
}

/// Every span in the output.
pub fn spans(output: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut current: Option<Span> = None;
    for line in output.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("Span #") {
            spans.extend(current.take());
            current = Some(Span::default());
            continue;
        }
        if trimmed.starts_with("ScopeSpans")
            || trimmed.starts_with("Resource")
            || trimmed.starts_with("LogRecord")
            || trimmed.starts_with("Metric #")
        {
            spans.extend(current.take());
            continue;
        }
        let Some(span) = current.as_mut() else {
            continue;
        };
        span.text.push_str(line);
        span.text.push('\n');
        if let Some(v) = field(line, "Trace ID") {
            span.trace_id = v;
        } else if let Some(v) = field(line, "Parent ID") {
            span.parent_id = v;
        } else if let Some(v) = field(line, "ID") {
            span.id = v;
        } else if let Some(v) = field(line, "Name") {
            if span.name.is_empty() {
                span.name = v;
            }
        } else if let Some(v) = field(line, "Status code") {
            span.status = v;
        }
    }
    spans.extend(current);
    spans
}

/// Every log record in the output.
pub fn logs(output: &str) -> Vec<LogRecord> {
    let mut logs = Vec::new();
    let mut current: Option<LogRecord> = None;
    for line in output.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("LogRecord #") {
            logs.extend(current.take());
            current = Some(LogRecord::default());
            continue;
        }
        if trimmed.starts_with("Resource")
            || trimmed.starts_with("ScopeLogs")
            || trimmed.starts_with("ScopeSpans")
            || trimmed.starts_with("Metric #")
        {
            logs.extend(current.take());
            continue;
        }
        let Some(log) = current.as_mut() else {
            continue;
        };
        log.text.push_str(line);
        log.text.push('\n');
        if let Some(v) = field(line, "Body") {
            log.body = v;
        } else if let Some(v) = field(line, "Trace ID") {
            log.trace_id = v;
        } else if let Some(v) = field(line, "Span ID") {
            log.span_id = v;
        }
    }
    logs.extend(current);
    logs
}

/// The span called `name` in trace `trace_id`.
pub fn span<'a>(spans: &'a [Span], trace_id: &str, name: &str) -> Option<&'a Span> {
    spans
        .iter()
        .find(|s| s.trace_id == trace_id && s.name == name)
}
