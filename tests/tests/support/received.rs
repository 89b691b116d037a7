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

/// Lines that end any record block.
const SECTION_STARTS: &[&str] = &[
    "Resource",
    "ScopeSpans",
    "ScopeLogs",
    "ScopeMetrics",
    "Metric #",
    "Span #",
    "LogRecord #",
];

/// The text of every block that starts with a line beginning `start`.
fn blocks(output: &str, start: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        let trimmed = line.trim_start();
        if SECTION_STARTS.iter().any(|s| trimmed.starts_with(s)) {
            blocks.extend(current.take());
            if trimmed.starts_with(start) {
                current = Some(String::new());
            }
            continue;
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks.extend(current);
    blocks
}

/// The first `name : value` field of a block.
fn field(block: &str, name: &str) -> String {
    block
        .lines()
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(name)?;
            Some(rest.trim_start().strip_prefix(':')?.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Every span in the output.
pub fn spans(output: &str) -> Vec<Span> {
    blocks(output, "Span #")
        .into_iter()
        .map(|text| Span {
            trace_id: field(&text, "Trace ID"),
            parent_id: field(&text, "Parent ID"),
            id: field(&text, "ID"),
            name: field(&text, "Name"),
            status: field(&text, "Status code"),
            text,
        })
        .collect()
}

/// Every log record in the output.
pub fn logs(output: &str) -> Vec<LogRecord> {
    blocks(output, "LogRecord #")
        .into_iter()
        .map(|text| LogRecord {
            body: field(&text, "Body"),
            trace_id: field(&text, "Trace ID"),
            span_id: field(&text, "Span ID"),
            text,
        })
        .collect()
}

/// The span called `name` in trace `trace_id`.
pub fn span<'a>(spans: &'a [Span], trace_id: &str, name: &str) -> Option<&'a Span> {
    spans
        .iter()
        .find(|s| s.trace_id == trace_id && s.name == name)
}
