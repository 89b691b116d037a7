//! The runtime's own voice: warnings on stderr, each distinct message printed once.
//!
//! Telemetry problems must never crash or block the application, and must never go unnoticed:
//! a line on stderr, once, is the contract.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, RwLock};

/// Credentials the configuration holds (header values, URL user information, tokens): no
/// line otel prints shows them, whatever prints them (an SDK error quoting a URL, a warning).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds credentials to scrub from every line otel prints.
pub(crate) fn register_secrets(secrets: &[String]) {
    let mut known = crate::sync::write(&SECRETS);
    for secret in secrets {
        // Short values would blank out ordinary words ("value", "admin"); they are still never
        // echoed, since no message quotes a credential.
        if secret.len() >= 8 && !known.contains(secret) {
            known.push(secret.clone());
        }
    }
}

/// `text` without the registered credentials and without the user information of any URL.
pub(crate) fn scrub(text: &str) -> String {
    let mut text = without_userinfo(text);
    let known = crate::sync::read(&SECRETS);
    for secret in known.iter() {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
}

/// Every `scheme://user:password@host` in `text` as `scheme://***@host`.
fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | ')' | '>' | ',' | ';')
                    || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(index) => {
                out.push_str("***");
                out.push_str(&authority[index..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Prints `otel: warning: {message}` to stderr unless this exact message was printed before.
pub(crate) fn warn_once(message: &str) {
    let message = &scrub(message);
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = crate::sync::lock(SEEN.get_or_init(Default::default));
    if seen.insert(message.to_owned()) {
        eprintln!("otel: warning: {message}");
    }
}

/// Prints `otel: warning: {message}` to stderr, every time: for callers that say each episode
/// once themselves (a failure until it recovers).
pub(crate) fn warn(message: &str) {
    eprintln!("otel: warning: {}", scrub(message));
}

/// Prints `message` once for each `key`, saying that later reports of the same kind are not
/// shown: a collector that stays down yields one line per kind of failure, not one per export.
pub(crate) fn warn_once_keyed(key: &str, message: &str) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = crate::sync::lock(SEEN.get_or_init(Default::default)).insert(key.to_owned());
    if first {
        warn_once(&format!(
            "{message} (further reports of this kind are not shown)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_scrubbed_from_what_is_printed() {
        register_secrets(&[
            "canary-7781".to_owned(),
            "ab".to_owned(),
            "value".to_owned(),
        ]);
        assert_eq!(
            scrub("export to http://user:pw@collector:4318/v1/traces failed: canary-7781 ab value"),
            "export to http://***@collector:4318/v1/traces failed: *** ab value"
        );
        assert_eq!(scrub("http://collector:4318"), "http://collector:4318");
    }
}
