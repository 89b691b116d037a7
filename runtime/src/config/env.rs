//! Reading `OTEL_*` variables: one lookup, one parse, one warning per unusable value.

use std::fmt::Display;
use std::time::Duration;

use super::settings::{Resolved, Source};

/// Looks variables up through an injectable function (the process environment in production,
/// a map in tests) and collects a warning for every value it cannot use.
pub(crate) struct EnvReader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) warnings: Vec<String>,
    /// Credentials seen in the variables (header values, URL user information, tokens):
    /// whatever otel prints is scrubbed of them.
    pub(crate) secrets: Vec<String>,
}

impl<'a> EnvReader<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            warnings: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// The trimmed value of `name`; the specification treats an empty value as unset.
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Resolves one value: the first of `names` that is set and valid, else the code's value,
    /// else `default`. Each set-but-invalid variable earns a warning that names the variable,
    /// what was expected, and the value used instead.
    pub(crate) fn resolve<T: Clone + Display>(
        &mut self,
        names: &[&str],
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
        code: Option<T>,
        default: T,
    ) -> Resolved<T> {
        let mut rejected = Vec::new();
        let mut found = None;
        for name in names {
            if let Some(raw) = self.raw(name) {
                match parse(&raw) {
                    Some(value) => {
                        found = Some(Resolved::new(value, Source::Env((*name).to_owned())));
                        break;
                    }
                    None => rejected.push(((*name).to_owned(), raw)),
                }
            }
        }
        let resolved = found.unwrap_or_else(|| match code {
            Some(value) => Resolved::new(value, Source::Code),
            None => Resolved::new(default, Source::Default),
        });
        for (name, raw) in rejected {
            self.warn_invalid(&name, &raw, expected, &resolved);
        }
        resolved
    }

    pub(crate) fn warn_invalid<T: Display>(
        &mut self,
        name: &str,
        raw: &str,
        expected: &str,
        used: &Resolved<T>,
    ) {
        self.warnings.push(format!(
            "{name}={raw:?} is not {expected}; using {used} ({source})",
            used = used.value,
            source = used.source,
        ));
    }

    pub(crate) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Notes a credential, so no output shows it.
    pub(crate) fn secret(&mut self, value: &str) {
        let value = value.trim();
        if !value.is_empty() && !self.secrets.iter().any(|known| known == value) {
            self.secrets.push(value.to_owned());
        }
    }
}

/// The specification's boolean: `true` or `false`, any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A duration variable: a whole number of milliseconds, as the specification has it.
pub(crate) fn parse_millis(text: &str) -> Option<Millis> {
    text.parse::<u64>()
        .ok()
        .map(|ms| Millis(Duration::from_millis(ms)))
}

/// A positive count, such as a queue size.
pub(crate) fn parse_count(text: &str) -> Option<usize> {
    text.parse::<usize>().ok().filter(|n| *n > 0)
}

/// A sampling ratio between 0 and 1.
pub(crate) fn parse_ratio(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r))
}

/// A comma-separated list of spelled values; `None` when any item is unknown.
pub(crate) fn parse_list<T>(text: &str, item: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(item)
        .collect()
}

/// `key1=value1,key2=value2` with percent-encoded values (the W3C Baggage octet rules that
/// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` use). `None` when any pair
/// lacks a key or an `=`.
pub(crate) fn parse_pairs(text: &str) -> Option<Vec<(String, String)>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            let value = percent_encoding::percent_decode_str(value.trim())
                .decode_utf8()
                .ok()?;
            Some((key.to_owned(), value.into_owned()))
        })
        .collect()
}

/// `key1=value1,key2=value2` as the OTLP exporters read `OTEL_EXPORTER_OTLP_HEADERS`: every
/// well-formed entry, its value percent-decoded; the others are left out, each described by
/// its position, never by its text (it may be a credential).
pub(crate) fn parse_headers(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let entries: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let count = entries.len();
    let mut headers = Vec::new();
    let mut problems = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let position = format!("entry {} of {count}", index + 1);
        let Some((key, value)) = entry.split_once('=') else {
            problems.push(format!("{position} has no `=`"));
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            problems.push(format!("{position} has no name before its `=`"));
            continue;
        }
        if !key.bytes().all(is_header_name_byte) {
            // The name is not a secret, but it may be a value misplaced by a missing `=`.
            problems.push(format!(
                "{position} has a name that is not a valid header name"
            ));
            continue;
        }
        match percent_encoding::percent_decode_str(value.trim()).decode_utf8() {
            Ok(value) if value.bytes().all(is_header_value_byte) => {
                headers.push((key.to_owned(), value.into_owned()))
            }
            Ok(_) => problems.push(format!(
                "{position} ({key}) has a value with characters a header cannot carry \
                 (only printable ASCII once percent-decoded)"
            )),
            Err(_) => problems.push(format!(
                "{position} ({key}) is not UTF-8 once percent-decoded"
            )),
        }
    }
    (headers, problems)
}

/// A byte of an HTTP header name (RFC 9110 `tchar`).
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte every HTTP header and gRPC metadata value can carry: printable ASCII or a tab.
fn is_header_value_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b)
}

/// The user information of a URL (`user:password` in `https://user:password@host`).
pub(crate) fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rsplit_once('@').map(|(userinfo, _)| userinfo)
}

/// A duration that displays as milliseconds, the unit of the `OTEL_*` duration variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis(pub(crate) Duration);

impl Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_left_out_and_described_without_their_text() {
        let (headers, problems) = parse_headers("authorization=Bearer%20SECRET123,x-api-key, =v");
        assert_eq!(
            headers,
            vec![("authorization".to_owned(), "Bearer SECRET123".to_owned())]
        );
        assert_eq!(
            problems,
            vec![
                "entry 2 of 3 has no `=`".to_owned(),
                "entry 3 of 3 has no name before its `=`".to_owned()
            ]
        );
        assert!(
            problems
                .iter()
                .all(|p| !p.contains("SECRET") && !p.contains("x-api-key"))
        );
    }

    #[test]
    fn headers_no_request_could_carry_are_left_out() {
        let (headers, problems) =
            parse_headers("bad name=SECRET1,x-ok=1,x-line=a%0Ab,x-accent=caf%C3%A9");
        assert_eq!(headers, vec![("x-ok".to_owned(), "1".to_owned())]);
        assert_eq!(
            problems,
            vec![
                "entry 1 of 4 has a name that is not a valid header name".to_owned(),
                "entry 3 of 4 (x-line) has a value with characters a header cannot carry \
                 (only printable ASCII once percent-decoded)"
                    .to_owned(),
                "entry 4 of 4 (x-accent) has a value with characters a header cannot carry \
                 (only printable ASCII once percent-decoded)"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn user_information_is_found_in_urls() {
        assert_eq!(
            userinfo("http://user:SECRET789@host:4318/v1"),
            Some("user:SECRET789")
        );
        assert_eq!(userinfo("http://host:4318/a@b"), None);
        assert_eq!(userinfo("not a url"), None);
    }

    #[test]
    fn pairs_are_percent_decoded() {
        assert_eq!(
            parse_pairs("api-key=a%20b, x = 1"),
            Some(vec![
                ("api-key".to_owned(), "a b".to_owned()),
                ("x".to_owned(), "1".to_owned())
            ])
        );
        assert_eq!(parse_pairs("novalue"), None);
        assert_eq!(parse_pairs("=v"), None);
    }

    #[test]
    fn scalar_parsers_reject_out_of_range() {
        assert_eq!(parse_ratio("1.5"), None);
        assert_eq!(parse_ratio("0.25"), Some(0.25));
        assert_eq!(parse_count("0"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(
            parse_millis("250").map(|m| m.0),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_millis("5s"), None);
    }
}
