//! One signal's OTLP settings: exporters, protocol (only the compiled ones), endpoint,
//! headers, timeout, compression and certificate, each from the signal's variable, the generic
//! one, the code, or the default.

use std::path::PathBuf;
use std::time::Duration;

use super::Config;
use super::endpoint::{resolve_endpoint, without_userinfo};
use super::env::{self, EnvReader, Millis};
use super::resolve::{List, bounded, list_of, millis, one_of, unlist};
use super::settings::{Resolved, SignalSettings, Source};
use super::value::{Compression, Exporter, Protocol};

/// The signals, for naming their variables.
#[derive(Debug, Clone, Copy)]
pub(super) enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub(super) fn upper(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }

    pub(super) fn lower(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    pub(super) fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// `OTEL_EXPORTER_OTLP_<SIGNAL>_<SETTING>`, then `OTEL_EXPORTER_OTLP_<SETTING>`.
    pub(super) fn otlp_vars(self, setting: &str) -> [String; 2] {
        [
            format!("OTEL_EXPORTER_OTLP_{}_{setting}", self.upper()),
            format!("OTEL_EXPORTER_OTLP_{setting}"),
        ]
    }
}

pub(super) const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);

/// One scalar OTLP setting: `OTEL_EXPORTER_OTLP_<SIGNAL>_<suffix>`, then
/// `OTEL_EXPORTER_OTLP_<suffix>`, then the code's value, then `default`; an unusable value is
/// one warning saying what was `expected` and what is used.
struct OtlpSetting<T> {
    suffix: &'static str,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
    default: T,
}

impl<T: Clone + std::fmt::Display> OtlpSetting<T> {
    fn resolve(&self, env: &mut EnvReader<'_>, signal: Signal, code: Option<T>) -> Resolved<T> {
        let [specific, generic] = signal.otlp_vars(self.suffix);
        env.resolve(
            &[specific.as_str(), generic.as_str()],
            self.parse,
            &(self.expected)(),
            code,
            self.default.clone(),
        )
    }
}

/// The table of the scalar settings every signal has.
const PROTOCOL: OtlpSetting<Protocol> = OtlpSetting {
    suffix: "PROTOCOL",
    parse: Protocol::from_spelling,
    expected: || one_of(Protocol::SPELLINGS),
    default: Protocol::HttpProtobuf,
};
const INSECURE: OtlpSetting<bool> = OtlpSetting {
    suffix: "INSECURE",
    parse: env::parse_bool,
    expected: || "true or false".to_owned(),
    default: false,
};
const TIMEOUT: OtlpSetting<Millis> = OtlpSetting {
    suffix: "TIMEOUT",
    parse: |text| env::parse_millis(text).filter(|m| !m.0.is_zero()),
    expected: || "a positive number of milliseconds".to_owned(),
    default: Millis(DEFAULT_OTLP_TIMEOUT),
};
const COMPRESSION: OtlpSetting<Compression> = OtlpSetting {
    suffix: "COMPRESSION",
    parse: Compression::from_spelling,
    expected: || one_of(Compression::SPELLINGS),
    default: Compression::None,
};

pub(super) fn resolve_signal(
    env: &mut EnvReader<'_>,
    config: &Config,
    signal: Signal,
    code_protocol: Option<Protocol>,
    code_exporters: &Option<Vec<Exporter>>,
) -> SignalSettings {
    let exporter_var = format!("OTEL_{}_EXPORTER", signal.upper());
    let mut exporters = unlist(env.resolve(
        &[exporter_var.as_str()],
        |text| env::parse_list(text, Exporter::from_spelling).map(List),
        &list_of(Exporter::SPELLINGS),
        code_exporters.clone().map(List),
        List(vec![Exporter::Otlp]),
    ));
    if !matches!(signal, Signal::Metrics) && exporters.value.contains(&Exporter::Prometheus) {
        env.warn(format!(
            "{} lists prometheus, which exports metrics only; {} are not sent there",
            match &exporters.source {
                Source::Env(name) => name.clone(),
                _ => format!("the code's {} exporters", signal.lower()),
            },
            signal.lower(),
        ));
        exporters
            .value
            .retain(|exporter| *exporter != Exporter::Prometheus);
    }

    let protocol = PROTOCOL.resolve(env, signal, code_protocol);
    let protocol = compiled_protocol(env, protocol);
    drop_uncompiled_exporters(env, signal, &mut exporters);

    let insecure = INSECURE.resolve(env, signal, None);
    let endpoint = resolve_endpoint(env, config, signal, protocol.value, insecure.value);
    if !cfg!(feature = "tls")
        && exporters.value.contains(&Exporter::Otlp)
        && endpoint.value.starts_with("https://")
    {
        env.warn(format!(
            "{} is an https:// endpoint, which needs the `tls` feature of otel; exports to it \
             fail",
            without_userinfo(&endpoint.value)
        ));
    }

    let headers = resolve_headers(env, signal);

    let timeout = millis(TIMEOUT.resolve(env, signal, config.timeout.map(Millis)));
    let timeout = bounded(env, timeout);
    let compression = COMPRESSION.resolve(env, signal, config.compression);

    let certificate_vars = signal.otlp_vars("CERTIFICATE");
    let certificate = certificate_vars.iter().find_map(|name| {
        let path = PathBuf::from(env.raw(name)?);
        match std::fs::read(&path) {
            Ok(pem) if pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") => {
                Some(Resolved::new(path, Source::Env(name.clone())))
            }
            Ok(_) => {
                env.warn(format!(
                    "{name}={path:?} holds no PEM certificate (no -----BEGIN CERTIFICATE----- \
                     block); using the system's root certificates"
                ));
                None
            }
            Err(_) => {
                env.warn(format!(
                    "{name}={path:?} is not a readable file; using the system's root certificates"
                ));
                None
            }
        }
    });

    SignalSettings {
        exporters,
        protocol,
        endpoint,
        headers,
        timeout,
        compression,
        certificate,
    }
}

/// The protocol as resolved when this build has it; otherwise the first one it has, with a
/// warning naming the feature (silently for the default: a build without `http-proto` simply
/// defaults to another).
pub(super) fn compiled_protocol(
    env: &mut EnvReader<'_>,
    resolved: Resolved<Protocol>,
) -> Resolved<Protocol> {
    if resolved.value.is_compiled() {
        return resolved;
    }
    let Some(fallback) = Protocol::first_compiled() else {
        // No OTLP at all: `drop_uncompiled_exporters` says so.
        return resolved;
    };
    let asked = match &resolved.source {
        Source::Env(name) => format!("{name}={}", resolved.value),
        Source::Code => format!("the code's protocol {}", resolved.value),
        Source::Default => return Resolved::new(fallback, Source::Default),
    };
    env.warn(format!(
        "{asked} needs the `{}` feature of otel, which is off; using {fallback}",
        resolved.value.feature()
    ));
    Resolved::new(fallback, Source::Default)
}

/// Exporters this build does not have (OTLP without any transport feature, the console
/// without `console`) left out of `exporters`, each with one warning naming the feature.
pub(super) fn drop_uncompiled_exporters(
    env: &mut EnvReader<'_>,
    signal: Signal,
    exporters: &mut Resolved<Vec<Exporter>>,
) {
    let asked = match &exporters.source {
        Source::Env(name) => name.clone(),
        _ => format!("the code's {} exporters", signal.lower()),
    };
    if exporters.value.contains(&Exporter::Otlp) && Protocol::first_compiled().is_none() {
        env.warn(format!(
            "{asked} lists otlp, which needs one of the `grpc`, `http-proto` or `http-json` \
             features of otel, all off; {} are not exported over OTLP",
            signal.lower()
        ));
        exporters.value.retain(|e| *e != Exporter::Otlp);
    }
    if exporters.value.contains(&Exporter::Console) && !cfg!(feature = "console") {
        env.warn(format!(
            "{asked} lists console, which needs the `console` feature of otel, which is off; \
             {} are not printed",
            signal.lower()
        ));
        exporters.value.retain(|e| *e != Exporter::Console);
    }
}

/// The signal's headers, as the OTLP exporters read them: the signal's variable, else the
/// generic one; malformed entries left out with a warning that describes them by position.
/// Every value is noted as a secret.
pub(super) fn resolve_headers(
    env: &mut EnvReader<'_>,
    signal: Signal,
) -> Resolved<Vec<(String, String)>> {
    let [signal_var, generic_var] = signal.otlp_vars("HEADERS");
    let Some((name, raw)) = [signal_var, generic_var]
        .into_iter()
        .find_map(|name| env.raw(&name).map(|raw| (name, raw)))
    else {
        return Resolved::new(Vec::new(), Source::Default);
    };
    for entry in raw.split(',') {
        match entry.split_once('=') {
            Some((_, value)) => {
                env.secret(value);
                if let Ok(decoded) =
                    percent_encoding::percent_decode_str(value.trim()).decode_utf8()
                {
                    env.secret(&decoded);
                }
            }
            // Not a header: perhaps a credential pasted alone.
            None => env.secret(entry),
        }
    }
    let (headers, problems) = env::parse_headers(&raw);
    for problem in problems {
        env.warn(format!(
            "{name} is a list of key=value pairs, but its {problem}; that entry is not sent"
        ));
    }
    Resolved::new(headers, Source::Env(name))
}
