//! Colours when stdout is a terminal (and `NO_COLOR` is unset), plain text otherwise.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::{KeyValue, Value};

fn colour_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED
        .get_or_init(|| std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal())
}

/// Wraps `text` in an ANSI style when colours are on.
pub(super) fn paint(code: &str, text: &str) -> String {
    if colour_enabled() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub(super) fn dim(text: &str) -> String {
    paint("2", text)
}

pub(super) fn bold(text: &str) -> String {
    paint("1", text)
}

pub(super) fn red(text: &str) -> String {
    paint("31", text)
}

pub(super) fn yellow(text: &str) -> String {
    paint("33", text)
}

pub(super) fn cyan(text: &str) -> String {
    paint("36", text)
}

/// `1.234 ms`, `12.3 s`: three significant figures are enough to read a trace.
pub(super) fn duration(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.2} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

pub(super) fn value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

/// `key=value key2=value2`, skipping `skip`ped keys.
pub(super) fn attributes<'a>(
    attrs: impl IntoIterator<Item = &'a KeyValue>,
    skip: &[&str],
) -> String {
    let mut out = String::new();
    for kv in attrs {
        if skip.contains(&kv.key.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{}={}", kv.key, value(&kv.value));
    }
    out
}

/// Writes a block to stdout in one go, so concurrent output does not interleave inside it.
/// A closed stdout is not the program's problem: the error is ignored.
pub(super) fn print_block(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
