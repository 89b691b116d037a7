//! How long a string attribute value `otel` records may be: `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`
//! and its per-signal forms, as the specification defines them (in characters; no limit when
//! unset), and a safe default for the values a remote client writes (user agents, paths,
//! forwarded addresses, captured headers, RPC names), which must not let one request put
//! hundreds of kilobytes into every span. Every value cut short is counted, and the count said
//! at shutdown.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::{StringValue, Value};

use crate::diagnostics::warn_once;

/// The limit for values a client of the program chose, when no variable sets one.
pub(crate) const REQUEST_DEFAULT: usize = 2048;

const GENERAL: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
const SPAN: &str = "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
const LOG_RECORD: &str = "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    span: Option<usize>,
    log_record: Option<usize>,
}

fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| from_variables(|name| std::env::var(name).ok()))
}

/// The limits the variables set; a per-signal variable wins over the general one, and a value
/// that is not a whole number is one warning and no limit from that variable.
fn from_variables(read: impl Fn(&str) -> Option<String>) -> Limits {
    let parse = |name: &str| -> Option<usize> {
        let text = read(name)?;
        match text.trim().parse::<usize>() {
            Ok(limit) => Some(limit),
            Err(_) => {
                warn_once(&format!(
                    "{name}={text:?} is not a whole number of characters; using no limit \
                     from it"
                ));
                None
            }
        }
    };
    let general = parse(GENERAL);
    Limits {
        span: parse(SPAN).or(general),
        log_record: parse(LOG_RECORD).or(general),
    }
}

static TRUNCATED: AtomicU64 = AtomicU64::new(0);

/// How many values were cut short so far.
pub(crate) fn truncated() -> u64 {
    TRUNCATED.load(Ordering::Relaxed)
}

/// Says at shutdown how many values were cut short, if any.
pub(crate) fn summarize() {
    let count = truncated();
    if count > 0 {
        crate::diagnostics::warn(&format!(
            "{count} attribute values were longer than their limit and were cut short \
             ({GENERAL} and its {SPAN} and {LOG_RECORD} forms; {REQUEST_DEFAULT} characters \
             for what a client sent when none is set)"
        ));
    }
}

/// `text` cut to `limit` characters, on a character boundary.
fn cut(text: &str, limit: usize) -> Option<&str> {
    let (end, _) = text.char_indices().nth(limit)?;
    TRUNCATED.fetch_add(1, Ordering::Relaxed);
    Some(&text[..end])
}

/// A span attribute's string value, within the span limit.
#[inline]
pub(crate) fn span_string(text: String) -> String {
    match limits().span {
        Some(limit) if text.len() > limit => match cut(&text, limit) {
            Some(kept) => kept.to_owned(),
            None => text,
        },
        _ => text,
    }
}

/// A span attribute value within the span limit (strings only; other values pass).
#[inline]
pub(crate) fn span_value(value: Value) -> Value {
    match (limits().span, &value) {
        (Some(limit), Value::String(text)) if text.as_str().len() > limit => {
            match cut(text.as_str(), limit) {
                Some(kept) => Value::String(StringValue::from(kept.to_owned())),
                None => value,
            }
        }
        _ => value,
    }
}

/// A log record attribute's string value, within the log record limit.
#[inline]
pub(crate) fn log_string(text: &str) -> Cow<'_, str> {
    match limits().log_record {
        Some(limit) if text.len() > limit => Cow::Borrowed(cut(text, limit).unwrap_or(text)),
        _ => Cow::Borrowed(text),
    }
}

/// A value a client of the program chose (a header, a path), within the span limit, or
/// [`REQUEST_DEFAULT`] when no variable sets one.
#[cfg(any(feature = "http-server", test))]
#[inline]
pub(crate) fn request_string(text: &str) -> String {
    let limit = limits().span.unwrap_or(REQUEST_DEFAULT);
    if text.len() > limit
        && let Some(kept) = cut(text, limit)
    {
        return kept.to_owned();
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_signal_variables_win_and_bad_values_set_no_limit() {
        let read = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            from_variables(read(&[])),
            Limits {
                span: None,
                log_record: None
            }
        );
        assert_eq!(
            from_variables(read(&[(GENERAL, "100"), (SPAN, "10")])),
            Limits {
                span: Some(10),
                log_record: Some(100)
            }
        );
        assert_eq!(
            from_variables(read(&[(GENERAL, "lots"), (LOG_RECORD, " 7 ")])),
            Limits {
                span: None,
                log_record: Some(7)
            }
        );
    }

    #[test]
    fn values_are_cut_on_character_boundaries_and_counted() {
        let before = truncated();
        assert_eq!(cut("héllo wörld", 4), Some("héll"));
        assert_eq!(cut("short", 10), None);
        assert_eq!(truncated() - before, 1);
        let long = "x".repeat(REQUEST_DEFAULT * 3);
        assert_eq!(request_string(&long).len(), REQUEST_DEFAULT);
        assert_eq!(request_string("Mozilla/5.0"), "Mozilla/5.0");
    }
}
