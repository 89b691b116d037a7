//! Tokens into typed `#[otel::main]` arguments; each bad value is an error on its token.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token};

use crate::args::{self, ExprArg, ExprArgValue};

/// Every key `#[otel::main]` accepts.
pub(super) const KEYS: &[&str] = &[
    "service",
    "version",
    "namespace",
    "environment",
    "resource",
    "traces",
    "metrics",
    "logs",
    "endpoint",
    "protocol",
    "timeout",
    "compression",
    "sampler",
    "sample_ratio",
    "propagators",
    "export_interval",
    "prometheus",
    "system_metrics",
    "runtime_metrics",
    "profiler",
    "shutdown_timeout",
    "log_filter",
    "flush_on_signal",
    "subscriber",
    "crate",
];

/// `(spelling, runtime variant)` tables of the closed value sets. They mirror the runtime's
/// enums (`runtime/src/config/value.rs`), which this crate cannot depend on; the ui pass case
/// `main_every_value.rs` expands every spelling, so a drift fails to compile.
pub(super) const EXPORTERS: &[(&str, &str)] = &[
    ("otlp", "Otlp"),
    ("console", "Console"),
    ("prometheus", "Prometheus"),
    ("none", "None"),
];
pub(super) const PROTOCOLS: &[(&str, &str)] = &[
    ("grpc", "Grpc"),
    ("http/protobuf", "HttpProtobuf"),
    ("http/json", "HttpJson"),
];
pub(super) const COMPRESSIONS: &[(&str, &str)] = &[("gzip", "Gzip"), ("none", "None")];
pub(super) const SAMPLERS: &[(&str, &str)] = &[
    ("always_on", "AlwaysOn"),
    ("always_off", "AlwaysOff"),
    ("traceidratio", "TraceIdRatio"),
    ("parentbased_always_on", "ParentBasedAlwaysOn"),
    ("parentbased_always_off", "ParentBasedAlwaysOff"),
    ("parentbased_traceidratio", "ParentBasedTraceIdRatio"),
];
pub(super) const PROFILERS: &[(&str, &str)] = &[
    ("pyroscope", "Pyroscope"),
    ("local", "Local"),
    ("none", "None"),
];
pub(super) const PROPAGATORS: &[(&str, &str)] = &[
    ("tracecontext", "TraceContext"),
    ("baggage", "Baggage"),
    ("none", "None"),
];

/// A value and the literal it came from (for error spans and spans in the expansion).
pub(super) struct Spanned<T> {
    pub(super) value: T,
    pub(super) span: Span,
}

/// The typed arguments. Only well-formed values get here; bad ones became errors.
#[derive(Default)]
pub(super) struct MainArgs {
    pub(super) service: Option<LitStr>,
    pub(super) version: Option<LitStr>,
    pub(super) namespace: Option<LitStr>,
    pub(super) environment: Option<LitStr>,
    pub(super) resource: Vec<(String, LitStr)>,
    pub(super) traces: Option<Spanned<Vec<&'static str>>>,
    pub(super) metrics: Option<Spanned<Vec<&'static str>>>,
    pub(super) logs: Option<Spanned<Vec<&'static str>>>,
    pub(super) endpoint: Option<LitStr>,
    pub(super) protocol: Option<Spanned<&'static str>>,
    pub(super) timeout: Option<Spanned<Duration>>,
    pub(super) compression: Option<Spanned<&'static str>>,
    pub(super) sampler: Option<Spanned<&'static str>>,
    pub(super) sample_ratio: Option<Spanned<f64>>,
    pub(super) propagators: Option<Spanned<Vec<&'static str>>>,
    pub(super) export_interval: Option<Spanned<Duration>>,
    /// `prometheus = "host:port"`: where the Prometheus endpoint listens.
    pub(super) prometheus: Option<Spanned<(String, u16)>>,
    pub(super) system_metrics: Option<Spanned<bool>>,
    pub(super) runtime_metrics: Option<Spanned<bool>>,
    pub(super) profiler: Option<Spanned<&'static str>>,
    pub(super) shutdown_timeout: Option<Spanned<Duration>>,
    pub(super) log_filter: Option<LitStr>,
    pub(super) flush_on_signal: Option<bool>,
    /// `subscriber = false`: install no global `tracing` subscriber.
    pub(super) subscriber: Option<bool>,
    pub(super) krate: Option<syn::Path>,
}

/// What `#[otel::main]`'s values are: literals (they are read at compile time), a bare flag
/// or a parenthesised list.
enum Value<'a> {
    Flag,
    Lit(&'a Lit),
    List(&'a TokenStream),
}

fn value(arg: &ExprArg) -> syn::Result<Value<'_>> {
    match &arg.value {
        ExprArgValue::Flag => Ok(Value::Flag),
        ExprArgValue::List(tokens) => Ok(Value::List(tokens)),
        ExprArgValue::Expr(syn::Expr::Lit(lit)) => Ok(Value::Lit(&lit.lit)),
        ExprArgValue::Expr(expr) => Err(syn::Error::new_spanned(
            expr,
            format!(
                "`{}` takes a literal value, such as `{} = \"...\"`",
                arg.key, arg.key
            ),
        )),
    }
}

fn string(arg: &ExprArg) -> syn::Result<LitStr> {
    match value(arg)? {
        Value::Lit(Lit::Str(s)) => Ok(s.clone()),
        Value::Lit(other) => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` expects a string literal, such as `{} = \"...\"`",
                arg.key, arg.key
            ),
        )),
        _ => Err(needs_value(arg, "\"...\"")),
    }
}

fn needs_value(arg: &ExprArg, example: &str) -> syn::Error {
    syn::Error::new_spanned(
        &arg.key,
        format!(
            "`{}` needs a value, such as `{} = {example}`",
            arg.key, arg.key
        ),
    )
}

fn boolean(arg: &ExprArg) -> syn::Result<bool> {
    match value(arg)? {
        Value::Lit(Lit::Bool(b)) => Ok(b.value),
        Value::Flag => Ok(true),
        Value::Lit(other) => Err(syn::Error::new_spanned(
            other,
            format!("`{}` expects `true` or `false`", arg.key),
        )),
        Value::List(_) => Err(needs_value(arg, "true")),
    }
}

/// A boolean and where it was written (its value, or the key of a bare flag).
fn spanned_boolean(arg: &ExprArg) -> syn::Result<Spanned<bool>> {
    let span = match value(arg)? {
        Value::Lit(lit) => lit.span(),
        _ => arg.key.span(),
    };
    boolean(arg).map(|value| Spanned { value, span })
}

fn choice(
    arg: &ExprArg,
    what: &str,
    table: &[(&'static str, &str)],
) -> syn::Result<Spanned<&'static str>> {
    let lit = string(arg)?;
    let given = lit.value();
    lookup(&lit, &given, what, table).map(|value| Spanned {
        value,
        span: lit.span(),
    })
}

fn lookup(
    lit: &LitStr,
    given: &str,
    what: &str,
    table: &[(&'static str, &str)],
) -> syn::Result<&'static str> {
    table
        .iter()
        .find(|(spelling, _)| spelling.eq_ignore_ascii_case(given.trim()))
        .map(|(spelling, _)| *spelling)
        .ok_or_else(|| {
            let spellings: Vec<&str> = table.iter().map(|(s, _)| *s).collect();
            args::bad_choice(lit, given.trim(), what, &spellings)
        })
}

/// `"otlp,console"`: comma-combined, as in the specification's variables.
fn list(
    arg: &ExprArg,
    what: &str,
    table: &[(&'static str, &str)],
) -> syn::Result<Spanned<Vec<&'static str>>> {
    let lit = string(arg)?;
    let text = lit.value();
    let mut values = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "empty {what} in `{}`: write a comma-separated list such as \"{}\"",
                    arg.key, table[0].0
                ),
            ));
        }
        let value = lookup(&lit, item, what, table)?;
        if values.contains(&value) {
            return Err(syn::Error::new(
                lit.span(),
                format!("{what} \"{value}\" is listed twice"),
            ));
        }
        values.push(value);
    }
    if values.len() > 1 && values.contains(&"none") {
        return Err(syn::Error::new(
            lit.span(),
            format!("\"none\" cannot be combined with another {what}"),
        ));
    }
    Ok(Spanned {
        value: values,
        span: lit.span(),
    })
}

fn duration(arg: &ExprArg) -> syn::Result<Spanned<Duration>> {
    let lit = string(arg)?;
    let parsed = humantime::parse_duration(lit.value().trim()).map_err(|error| {
        syn::Error::new(
            lit.span(),
            format!(
                "`{}` expects a duration with a unit, such as \"500ms\", \"5s\" or \"1m\" ({error})",
                arg.key
            ),
        )
    })?;
    if parsed.is_zero() {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{}` must be longer than zero", arg.key),
        ));
    }
    Ok(Spanned {
        value: parsed,
        span: lit.span(),
    })
}

/// `"host:port"`, `"0.0.0.0:9464"` or `"[::]:9464"`.
fn listen_address(arg: &ExprArg) -> syn::Result<Spanned<(String, u16)>> {
    let lit = string(arg)?;
    let text = lit.value();
    let parsed = text.trim().rsplit_once(':').and_then(|(host, port)| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = port.parse::<u16>().ok()?;
        (!host.is_empty() && !host.contains(char::is_whitespace)).then(|| (host.to_owned(), port))
    });
    parsed
        .map(|value| Spanned {
            value,
            span: lit.span(),
        })
        .ok_or_else(|| {
            syn::Error::new(
                lit.span(),
                format!(
                    "`{}` expects the address to listen on, as \"host:port\", such as \
                     \"0.0.0.0:9464\" or \"localhost:9464\"",
                    arg.key
                ),
            )
        })
}

fn ratio(arg: &ExprArg) -> syn::Result<Spanned<f64>> {
    let (value, lit) = match value(arg)? {
        Value::Lit(Lit::Float(f)) => (f.base10_parse::<f64>()?, Lit::Float(f.clone())),
        Value::Lit(Lit::Int(i)) => (i.base10_parse::<f64>()?, Lit::Int(i.clone())),
        Value::Lit(other) => {
            return Err(syn::Error::new_spanned(
                other,
                "`sample_ratio` expects a number from 0 to 1, such as `sample_ratio = 0.25`",
            ));
        }
        _ => return Err(needs_value(arg, "0.25")),
    };
    if !(0.0..=1.0).contains(&value) {
        return Err(syn::Error::new_spanned(
            lit,
            "`sample_ratio` must be from 0 to 1 (the fraction of traces to keep)",
        ));
    }
    Ok(Spanned {
        value,
        span: arg.key.span(),
    })
}

fn endpoint(arg: &ExprArg) -> syn::Result<LitStr> {
    let lit = string(arg)?;
    let text = lit.value();
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    let host = rest
        .and_then(|r| r.split(['/', '?']).next())
        .unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(syn::Error::new(
            lit.span(),
            "`endpoint` must be an http:// or https:// URL with a host, such as \
             \"http://localhost:4317\"",
        ));
    }
    Ok(lit)
}

/// `crate = "::otel"`: a string first (this attribute's message for other literals), then
/// the shared path rule.
fn path(arg: &ExprArg) -> syn::Result<syn::Path> {
    string(arg)?;
    args::crate_path_arg(arg)
}

/// `resource(key = "value", dotted.key = "value", "string.key" = "value")`.
fn resource(arg: &ExprArg) -> syn::Result<Vec<(String, LitStr)>> {
    let Value::List(tokens) = value(arg)? else {
        return Err(syn::Error::new_spanned(
            &arg.key,
            "`resource` expects a list, such as `resource(team = \"payments\")`",
        ));
    };
    let entries =
        Punctuated::<ResourceEntry, Token![,]>::parse_terminated.parse2(tokens.clone())?;
    let mut out: Vec<(String, LitStr)> = Vec::new();
    for entry in entries {
        if out.iter().any(|(k, _)| *k == entry.key) {
            return Err(syn::Error::new(
                entry.key_span,
                format!("duplicate resource attribute `{}`", entry.key),
            ));
        }
        out.push((entry.key, entry.value));
    }
    Ok(out)
}

struct ResourceEntry {
    key: String,
    key_span: Span,
    value: LitStr,
}

impl Parse for ResourceEntry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (key, key_span) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if lit.value().trim().is_empty() {
                return Err(syn::Error::new(
                    lit.span(),
                    "a resource attribute key cannot be empty",
                ));
            }
            (lit.value(), lit.span())
        } else {
            let first = input.call(Ident::parse_any)?;
            let span = first.span();
            let mut key = first.unraw().to_string();
            while input.peek(Token![.]) {
                input.parse::<Token![.]>()?;
                let part = input.call(Ident::parse_any)?;
                key.push('.');
                key.push_str(&part.unraw().to_string());
            }
            (key, span)
        };
        input.parse::<Token![=]>()?;
        let value = match input.parse::<Lit>()? {
            Lit::Str(s) => s,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "resource attribute values are string literals, such as `team = \"payments\"`",
                ));
            }
        };
        Ok(Self {
            key,
            key_span,
            value,
        })
    }
}

impl args::Arguments for MainArgs {
    const KEYS: &'static [&'static str] = KEYS;
    const ATTRIBUTE: &'static str = "#[otel::main]";

    fn special(key: &str) -> Option<String> {
        (key == "headers").then(|| {
            "`headers` cannot be set in code: headers carry secrets, which do not belong in \
             binaries\nset OTEL_EXPORTER_OTLP_HEADERS (or OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS) \
             at deploy time instead"
                .to_owned()
        })
    }

    fn set(&mut self, name: &str, arg: ExprArg) -> syn::Result<()> {
        let arg = &arg;
        match name {
            "service" => self.service = Some(string(arg)?),
            "version" => self.version = Some(string(arg)?),
            "namespace" => self.namespace = Some(string(arg)?),
            "environment" => self.environment = Some(string(arg)?),
            "resource" => self.resource = resource(arg)?,
            "traces" => self.traces = Some(list(arg, "exporter", EXPORTERS)?),
            "metrics" => self.metrics = Some(list(arg, "exporter", EXPORTERS)?),
            "logs" => self.logs = Some(list(arg, "exporter", EXPORTERS)?),
            "endpoint" => self.endpoint = Some(endpoint(arg)?),
            "protocol" => self.protocol = Some(choice(arg, "protocol", PROTOCOLS)?),
            "timeout" => self.timeout = Some(duration(arg)?),
            "compression" => self.compression = Some(choice(arg, "compression", COMPRESSIONS)?),
            "sampler" => self.sampler = Some(choice(arg, "sampler", SAMPLERS)?),
            "sample_ratio" => self.sample_ratio = Some(ratio(arg)?),
            "propagators" => self.propagators = Some(list(arg, "propagator", PROPAGATORS)?),
            "export_interval" => self.export_interval = Some(duration(arg)?),
            "prometheus" => self.prometheus = Some(listen_address(arg)?),
            "system_metrics" => self.system_metrics = Some(spanned_boolean(arg)?),
            "runtime_metrics" => self.runtime_metrics = Some(spanned_boolean(arg)?),
            "profiler" => self.profiler = Some(choice(arg, "profiler", PROFILERS)?),
            "shutdown_timeout" => self.shutdown_timeout = Some(duration(arg)?),
            "log_filter" => self.log_filter = Some(string(arg)?),
            "flush_on_signal" => self.flush_on_signal = Some(boolean(arg)?),
            "subscriber" => self.subscriber = Some(boolean(arg)?),
            "crate" => self.krate = Some(path(arg)?),
            _ => return Err(crate::args::unhandled_key(&arg.key)),
        }
        Ok(())
    }
}
