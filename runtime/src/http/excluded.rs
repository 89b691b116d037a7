//! Which requests are not instrumented: patterns from the layer's builder and from
//! `OTEL_RUST_EXCLUDED_URLS`, matched as the Python instrumentations match
//! `OTEL_PYTHON_EXCLUDED_URLS` (comma-separated regular expressions, any match anywhere in the
//! URL excludes it), against the URL without its query. In the variable, `\,` is a comma
//! inside a pattern (`a{1\,3}`).

use regex::Regex;

use crate::diagnostics::warn_once;

/// The variable that lists excluded URL patterns.
pub(crate) const VARIABLE: &str = "OTEL_RUST_EXCLUDED_URLS";

/// Compiled exclusion patterns.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExcludedUrls {
    patterns: Option<Regex>,
}

impl ExcludedUrls {
    /// `patterns` from code and the comma-separated list in `env`. A pattern that is not a
    /// valid regular expression is warned about once and left out.
    pub(crate) fn new<'a>(
        patterns: impl IntoIterator<Item = &'a str>,
        env: Option<&'a str>,
    ) -> Self {
        let mut valid = Vec::new();
        let from_env = split_list(env.unwrap_or_default());
        let patterns = patterns.into_iter().map(str::to_owned).chain(from_env);
        for pattern in patterns {
            let pattern = pattern.trim();
            if pattern.is_empty() {
                continue;
            }
            match Regex::new(pattern) {
                Ok(_) => valid.push(format!("(?:{pattern})")),
                Err(error) => warn_once(&format!(
                    "{VARIABLE}: `{pattern}` is not a regular expression ({error}); ignored"
                )),
            }
        }
        let patterns = (!valid.is_empty())
            .then(|| Regex::new(&valid.join("|")).ok())
            .flatten();
        Self { patterns }
    }

    /// Whether no pattern is set (then no URL needs to be built).
    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_none()
    }

    /// Whether `url` (`scheme://host/path` without the query, or the path alone when the
    /// host is not known) is excluded.
    pub(crate) fn excludes(&self, url: &str) -> bool {
        self.patterns
            .as_ref()
            .is_some_and(|patterns| patterns.is_match(url))
    }
}

/// The variable's patterns: split at commas, except `\,`, which is a comma in the pattern.
fn split_list(list: &str) -> Vec<String> {
    let mut patterns = Vec::new();
    let mut current = String::new();
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                chars.next();
                current.push(',');
            }
            ',' => patterns.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    patterns.push(current);
    patterns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_anywhere_in_the_url_as_python_does() {
        let excluded = ExcludedUrls::new(["/health$"], Some("client/.*/info, metrics"));
        assert!(excluded.excludes("http://shop:8080/health"));
        assert!(!excluded.excludes("http://shop:8080/health/deep"));
        assert!(excluded.excludes("/api/client/7/info"));
        assert!(excluded.excludes("/metrics"));
        assert!(!excluded.excludes("/items/7"));
    }

    #[test]
    fn an_escaped_comma_stays_inside_its_pattern() {
        let excluded = ExcludedUrls::new([], Some(r"^/a{1\,3}$, /b,c$"));
        assert!(excluded.excludes("/aaa"));
        assert!(!excluded.excludes("/aaaa"));
        assert!(excluded.excludes("/b"));
        assert!(excluded.excludes("/c"));
        let from_code = ExcludedUrls::new(["^/x{1,2}$"], None);
        assert!(from_code.excludes("/xx"));
    }

    #[test]
    fn invalid_patterns_are_left_out() {
        let excluded = ExcludedUrls::new(["(unclosed", "ok"], None);
        assert!(excluded.excludes("/ok"));
        assert!(!ExcludedUrls::new([], None).excludes("/anything"));
    }
}
