//! Environment > code > default, per value: turns a [`Config`] into the [`Settings`] that are
//! installed, remembering where each value came from.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::Config;
use super::env::{self, EnvReader, Millis};
use super::value::{
    Compression, Exporter, ProfilerKind, Propagator, Protocol, SamplerKind, spell_list,
};

/// Where a resolved value came from, for the debug report and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The named environment variable.
    Env(String),
    /// `#[otel::main]` or the [`Config`] builder.
    Code,
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "from {name}"),
            Self::Code => f.write_str("from code"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

impl<T> Resolved<T> {
    pub(crate) fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// One signal's exporter settings.
#[derive(Debug, Clone)]
pub(crate) struct SignalSettings {
    pub(crate) exporters: Resolved<Vec<Exporter>>,
    pub(crate) protocol: Resolved<Protocol>,
    /// The full URL the exporter sends to (for HTTP, with `/v1/<signal>` appended).
    pub(crate) endpoint: Resolved<String>,
    pub(crate) headers: Resolved<Vec<(String, String)>>,
    pub(crate) timeout: Resolved<Duration>,
    pub(crate) compression: Resolved<Compression>,
    /// A PEM file of CA certificates to trust for TLS.
    pub(crate) certificate: Option<Resolved<PathBuf>>,
}

impl SignalSettings {
    pub(crate) fn uses(&self, exporter: Exporter) -> bool {
        self.exporters.value.contains(&exporter)
    }

    pub(crate) fn is_enabled(&self) -> bool {
        Exporter::active(&self.exporters.value).next().is_some()
    }
}

/// A credential: its `Debug` form never shows it.
#[derive(Clone, PartialEq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The profiler and where its profiles go (`PYROSCOPE_*`, `OTEL_PROFILE_DIR`).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "profiler"), allow(dead_code))]
pub(crate) struct ProfilerSettings {
    pub(crate) kind: Resolved<ProfilerKind>,
    /// The Pyroscope server's base URL.
    pub(crate) server: Resolved<String>,
    pub(crate) auth_token: Option<Secret>,
    /// User and password.
    pub(crate) basic_auth: Option<(String, Secret)>,
    pub(crate) tenant: Option<String>,
    /// Samples per second of CPU time.
    pub(crate) sample_rate: Resolved<u32>,
    /// Where the local profiler writes its files.
    pub(crate) dir: Resolved<PathBuf>,
}

/// Batch processor limits (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for logs).
#[derive(Debug, Clone)]
pub(crate) struct BatchSettings {
    pub(crate) schedule_delay: Resolved<Duration>,
    pub(crate) max_queue_size: Resolved<usize>,
    pub(crate) max_export_batch_size: Resolved<usize>,
}

/// Everything that gets installed, fully resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) disabled: Resolved<bool>,
    /// The resource, in order; later entries have already overridden earlier ones.
    pub(crate) resource: Vec<(String, Resolved<String>)>,
    pub(crate) traces: SignalSettings,
    pub(crate) metrics: SignalSettings,
    pub(crate) logs: SignalSettings,
    pub(crate) sampler: Resolved<SamplerKind>,
    pub(crate) sample_ratio: Resolved<f64>,
    pub(crate) propagators: Resolved<Vec<Propagator>>,
    pub(crate) span_batch: BatchSettings,
    pub(crate) log_batch: BatchSettings,
    pub(crate) export_interval: Resolved<Duration>,
    /// Where the Prometheus endpoint listens, `host:port`.
    pub(crate) prometheus_host: Resolved<String>,
    pub(crate) prometheus_port: Resolved<u16>,
    pub(crate) system_metrics: Resolved<bool>,
    pub(crate) runtime_metrics: Resolved<bool>,
    pub(crate) profiler: ProfilerSettings,
    pub(crate) shutdown_timeout: Resolved<Duration>,
    pub(crate) log_filter: Resolved<String>,
    pub(crate) flush_on_signal: Resolved<bool>,
    /// Whether `otel`'s `tracing` subscriber is installed as the global one.
    pub(crate) subscriber: Resolved<bool>,
    /// `OTEL_LOG_LEVEL=debug`: print the effective configuration.
    pub(crate) debug_report: bool,
    /// Credentials found while resolving, which no output may show.
    pub(crate) secrets: Vec<String>,
}

/// The signals, for naming their variables.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    fn upper(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }

    fn lower(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// `OTEL_EXPORTER_OTLP_<SIGNAL>_<SETTING>`, then `OTEL_EXPORTER_OTLP_<SETTING>`.
    fn otlp_vars(self, setting: &str) -> [String; 2] {
        [
            format!("OTEL_EXPORTER_OTLP_{}_{setting}", self.upper()),
            format!("OTEL_EXPORTER_OTLP_{setting}"),
        ]
    }
}

const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);

impl Settings {
    /// Resolves `config` against the variables `lookup` finds. Returns the settings and one
    /// warning per value that could not be used.
    pub(crate) fn resolve(
        config: &Config,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> (Settings, Vec<String>) {
        let mut env = EnvReader::new(lookup);
        let mut settings = Settings::resolve_with(config, &mut env);
        settings.secrets = env.secrets;
        (settings, env.warnings)
    }

    fn resolve_with(config: &Config, env: &mut EnvReader<'_>) -> Settings {
        let disabled = env.resolve(
            &["OTEL_SDK_DISABLED"],
            env::parse_bool,
            "true or false",
            None,
            false,
        );
        let debug_report = match env.raw("OTEL_LOG_LEVEL") {
            None => false,
            Some(level) => match level.to_ascii_lowercase().as_str() {
                "debug" | "trace" => true,
                "info" | "warn" | "error" | "none" => false,
                _ => {
                    env.warn(format!(
                        "OTEL_LOG_LEVEL={level:?} is not one of debug, info, warn, error, none; \
                         using info (default)"
                    ));
                    false
                }
            },
        };

        let generic_protocol = config.protocol;
        let traces = resolve_signal(
            env,
            config,
            Signal::Traces,
            generic_protocol,
            &config.traces,
        );
        let metrics = resolve_signal(
            env,
            config,
            Signal::Metrics,
            generic_protocol,
            &config.metrics,
        );
        let logs = resolve_signal(env, config, Signal::Logs, generic_protocol, &config.logs);

        let sampler = env.resolve(
            &["OTEL_TRACES_SAMPLER"],
            SamplerKind::from_spelling,
            &one_of(SamplerKind::SPELLINGS),
            config.sampler,
            SamplerKind::ParentBasedAlwaysOn,
        );
        let sample_ratio = env.resolve(
            &["OTEL_TRACES_SAMPLER_ARG"],
            env::parse_ratio,
            "a number from 0 to 1",
            config.sample_ratio,
            1.0,
        );
        let propagators = env.resolve(
            &["OTEL_PROPAGATORS"],
            |text| env::parse_list(text, Propagator::from_spelling).map(List),
            &list_of(Propagator::SPELLINGS),
            config.propagators.clone().map(List),
            List(vec![Propagator::TraceContext, Propagator::Baggage]),
        );

        let span_batch = resolve_batch(env, "OTEL_BSP", 5000);
        let log_batch = resolve_batch(env, "OTEL_BLRP", 1000);
        let mut traces = traces;
        let mut logs = logs;
        bound_export_by_batch_timeout(env, "OTEL_BSP", &mut traces);
        bound_export_by_batch_timeout(env, "OTEL_BLRP", &mut logs);
        let export_interval = millis(env.resolve(
            &["OTEL_METRIC_EXPORT_INTERVAL"],
            |t| env::parse_millis(t).filter(|m| !m.0.is_zero()),
            "a positive number of milliseconds",
            config.export_interval.map(Millis),
            Millis(Duration::from_secs(60)),
        ));
        let export_interval = bounded(env, export_interval);

        let log_filter = resolve_log_filter(env, config);
        let (code_host, code_port) = match &config.prometheus {
            Some((host, port)) => (Some(host.clone()), Some(*port)),
            None => (None, None),
        };
        let prometheus_host = env.resolve(
            &["OTEL_EXPORTER_PROMETHEUS_HOST"],
            |text| Some(text.to_owned()),
            "a host name or address",
            code_host,
            "localhost".to_owned(),
        );
        let prometheus_port = env.resolve(
            &["OTEL_EXPORTER_PROMETHEUS_PORT"],
            |text| text.parse::<u16>().ok(),
            "a port number",
            code_port,
            9464,
        );

        Settings {
            disabled,
            resource: resolve_resource(env, config),
            traces,
            metrics,
            logs,
            sampler,
            sample_ratio,
            propagators: unlist(propagators),
            span_batch,
            log_batch,
            export_interval,
            prometheus_host,
            prometheus_port,
            system_metrics: code_or_default(config.system_metrics, false),
            runtime_metrics: code_or_default(config.runtime_metrics, false),
            profiler: resolve_profiler(env, config),
            shutdown_timeout: code_or_default(config.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT),
            log_filter,
            flush_on_signal: code_or_default(config.flush_on_signal, false),
            subscriber: code_or_default(config.subscriber, true),
            debug_report,
            secrets: Vec::new(),
        }
    }

    /// The value of one resource attribute, if set.
    #[cfg(test)]
    pub(crate) fn resource_value(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.value.as_str())
    }
}

fn resolve_profiler(env: &mut EnvReader<'_>, config: &Config) -> ProfilerSettings {
    let server = env.resolve(
        &["PYROSCOPE_SERVER_ADDRESS"],
        |text| {
            (text.starts_with("http://") || text.starts_with("https://"))
                .then(|| text.trim_end_matches('/').to_owned())
        },
        "an http:// or https:// URL",
        None,
        "http://localhost:4040".to_owned(),
    );
    if let Some(userinfo) = env
        .raw("PYROSCOPE_SERVER_ADDRESS")
        .and_then(|url| env::userinfo(&url).map(str::to_owned))
    {
        env.secret(&userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            env.secret(password);
        }
    }
    let sample_rate = env.resolve(
        &["PYROSCOPE_SAMPLE_RATE"],
        |text| {
            text.parse::<u32>()
                .ok()
                .filter(|rate| (1..=1000).contains(rate))
        },
        "a number of samples per second from 1 to 1000",
        None,
        100,
    );
    let dir = env.resolve(
        &["OTEL_PROFILE_DIR"],
        |text| Some(Display(PathBuf::from(text))),
        "a directory",
        config.profile_dir.clone().map(Display),
        Display(PathBuf::from("profiles")),
    );
    let basic_auth = match (
        env.raw("PYROSCOPE_BASIC_AUTH_USER"),
        env.raw("PYROSCOPE_BASIC_AUTH_PASSWORD"),
    ) {
        (Some(user), Some(password)) => {
            env.secret(&password);
            Some((user, Secret(password)))
        }
        (None, None) => None,
        _ => {
            env.warn(
                "PYROSCOPE_BASIC_AUTH_USER and PYROSCOPE_BASIC_AUTH_PASSWORD go together; with \
                 one alone, profiles are sent without basic auth"
                    .to_owned(),
            );
            None
        }
    };
    ProfilerSettings {
        kind: env.resolve(
            &["OTEL_RUST_PROFILER"],
            ProfilerKind::from_spelling,
            &one_of(ProfilerKind::SPELLINGS),
            config.profiler,
            ProfilerKind::None,
        ),
        server,
        auth_token: env.raw("PYROSCOPE_AUTH_TOKEN").map(|token| {
            env.secret(&token);
            Secret(token)
        }),
        basic_auth,
        tenant: env.raw("PYROSCOPE_TENANT_ID"),
        sample_rate,
        dir: Resolved::new(dir.value.0, dir.source),
    }
}

/// `https://user:secret@host/` → `https://host/`: a URL as messages may show it.
pub(crate) fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// A path that prints itself, for warnings about it.
#[derive(Debug, Clone)]
struct Display(PathBuf);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

fn code_or_default<T>(code: Option<T>, default: T) -> Resolved<T> {
    match code {
        Some(value) => Resolved::new(value, Source::Code),
        None => Resolved::new(default, Source::Default),
    }
}

fn resolve_signal(
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

    let [signal_var, generic_var] = signal.otlp_vars("PROTOCOL");
    let protocol = env.resolve(
        &[signal_var.as_str(), generic_var.as_str()],
        Protocol::from_spelling,
        &one_of(Protocol::SPELLINGS),
        code_protocol,
        Protocol::HttpProtobuf,
    );
    let protocol = compiled_protocol(env, protocol);
    drop_uncompiled_exporters(env, signal, &mut exporters);

    let insecure_vars = signal.otlp_vars("INSECURE");
    let insecure = env.resolve(
        &[insecure_vars[0].as_str(), insecure_vars[1].as_str()],
        env::parse_bool,
        "true or false",
        None,
        false,
    );
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

    let timeout_vars = signal.otlp_vars("TIMEOUT");
    let timeout = millis(env.resolve(
        &[timeout_vars[0].as_str(), timeout_vars[1].as_str()],
        |t| env::parse_millis(t).filter(|m| !m.0.is_zero()),
        "a positive number of milliseconds",
        config.timeout.map(Millis),
        Millis(DEFAULT_OTLP_TIMEOUT),
    ));
    let timeout = bounded(env, timeout);

    let compression_vars = signal.otlp_vars("COMPRESSION");
    let compression = env.resolve(
        &[compression_vars[0].as_str(), compression_vars[1].as_str()],
        Compression::from_spelling,
        &one_of(Compression::SPELLINGS),
        config.compression,
        Compression::None,
    );

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
fn compiled_protocol(env: &mut EnvReader<'_>, resolved: Resolved<Protocol>) -> Resolved<Protocol> {
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
fn drop_uncompiled_exporters(
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

/// The specification's endpoint rules: a per-signal variable is used as it is; the generic
/// variable (or the code's endpoint) is a base to which HTTP appends `/v1/<signal>`.
/// The signal's headers, as the OTLP exporters read them: the signal's variable, else the
/// generic one; malformed entries left out with a warning that describes them by position.
/// Every value is noted as a secret.
fn resolve_headers(env: &mut EnvReader<'_>, signal: Signal) -> Resolved<Vec<(String, String)>> {
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

fn resolve_endpoint(
    env: &mut EnvReader<'_>,
    config: &Config,
    signal: Signal,
    protocol: Protocol,
    insecure: bool,
) -> Resolved<String> {
    let grpc = protocol == Protocol::Grpc;
    let for_signal = |base: &str| {
        let base = with_scheme(base, insecure);
        if grpc {
            base
        } else {
            format!("{}{}", base.trim_end_matches('/'), signal.http_path())
        }
    };
    let default_base = if grpc {
        "http://localhost:4317"
    } else {
        "http://localhost:4318"
    };
    let fallback = match &config.endpoint {
        Some(base) if valid_url(&with_scheme(base, insecure)) => {
            Resolved::new(for_signal(base), Source::Code)
        }
        Some(base) => {
            // The macro validates its literal; this is the builder given a bad string.
            env.warn(format!(
                "the endpoint {base:?} given in code is not an http:// or https:// URL; using \
                 {default_base}"
            ));
            Resolved::new(for_signal(default_base), Source::Default)
        }
        None => Resolved::new(for_signal(default_base), Source::Default),
    };
    let [signal_var, generic_var] = signal.otlp_vars("ENDPOINT");
    for url in [
        env.raw(&signal_var),
        env.raw(&generic_var),
        config.endpoint.clone(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(userinfo) = env::userinfo(&url).map(str::to_owned) {
            env.secret(&userinfo);
            if let Some((_, password)) = userinfo.split_once(':') {
                env.secret(password);
            }
        }
    }
    let mut rejected = Vec::new();
    let mut found = None;
    if let Some(raw) = env.raw(&signal_var) {
        let url = with_scheme(&raw, insecure);
        if valid_url(&url) {
            found = Some(Resolved::new(url, Source::Env(signal_var.clone())));
        } else {
            rejected.push((signal_var, raw));
        }
    }
    if found.is_none()
        && let Some(raw) = env.raw(&generic_var)
    {
        if valid_url(&with_scheme(&raw, insecure)) {
            found = Some(Resolved::new(for_signal(&raw), Source::Env(generic_var)));
        } else {
            rejected.push((generic_var, raw));
        }
    }
    let resolved = found.unwrap_or(fallback);
    // The generic variable is read once per signal, and is only read when the signal's own is
    // not set: it falls back to the base, which its warning names, so that the three signals'
    // warnings are one line.
    let base = match (&config.endpoint, &resolved.source) {
        (Some(base), Source::Code) => Resolved::new(with_scheme(base, insecure), Source::Code),
        _ => Resolved::new(default_base.to_owned(), Source::Default),
    };
    for (name, raw) in rejected {
        let used = if name == generic_var_name(signal) {
            &base
        } else {
            &resolved
        };
        env.warn_invalid(&name, &raw, "an http:// or https:// URL", used);
    }
    resolved
}

fn generic_var_name(signal: Signal) -> String {
    let [_, generic] = signal.otlp_vars("ENDPOINT");
    generic
}

/// Endpoints without a scheme are `https://` unless `OTEL_EXPORTER_OTLP_INSECURE=true`.
fn with_scheme(endpoint: &str, insecure: bool) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else if insecure {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    }
}

fn valid_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) => {
            let authority = rest.split('/').next().unwrap_or_default();
            !authority.is_empty()
                && !authority.contains(char::is_whitespace)
                && url.parse::<http::Uri>().is_ok()
        }
        None => false,
    }
}

fn resolve_batch(env: &mut EnvReader<'_>, prefix: &str, default_delay_ms: u64) -> BatchSettings {
    let delay_var = format!("{prefix}_SCHEDULE_DELAY");
    let schedule_delay = millis(env.resolve(
        &[delay_var.as_str()],
        env::parse_millis,
        "a number of milliseconds",
        None,
        Millis(Duration::from_millis(default_delay_ms)),
    ));
    let schedule_delay = bounded(env, schedule_delay);
    let queue_var = format!("{prefix}_MAX_QUEUE_SIZE");
    let max_queue_size = env.resolve(
        &[queue_var.as_str()],
        env::parse_count,
        "a positive whole number",
        None,
        2048,
    );
    let max_queue_size = bounded_queue(env, max_queue_size);
    let batch_var = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
    let max_export_batch_size = env.resolve(
        &[batch_var.as_str()],
        env::parse_count,
        "a positive whole number",
        None,
        512,
    );
    let mut max_export_batch_size = bounded_queue(env, max_export_batch_size);
    if max_export_batch_size.value > max_queue_size.value {
        // The specification: the batch size must not exceed the queue size.
        env.warn(format!(
            "{batch_var}={} exceeds {queue_var}={}; using {}",
            max_export_batch_size.value, max_queue_size.value, max_queue_size.value
        ));
        max_export_batch_size = Resolved::new(max_queue_size.value, Source::Default);
    }
    // The SDK's builder reads this too, but its thread-based span processor exports one
    // batch at a time: say so rather than list a value that does nothing.
    if prefix == "OTEL_BSP" && env.raw("OTEL_BSP_MAX_CONCURRENT_EXPORTS").is_some() {
        env.warn(
            "OTEL_BSP_MAX_CONCURRENT_EXPORTS has no effect: the SDK's batch span processor \
             exports one batch at a time"
                .to_owned(),
        );
    }
    BatchSettings {
        schedule_delay,
        max_queue_size,
        max_export_batch_size,
    }
}

fn resolve_log_filter(env: &mut EnvReader<'_>, config: &Config) -> Resolved<String> {
    let valid = |text: &str| {
        tracing_subscriber::EnvFilter::builder()
            .parse(text)
            .ok()
            .map(|_| text.to_owned())
    };
    let code = match &config.log_filter {
        Some(filter) if valid(filter).is_some() => Some(filter.clone()),
        Some(filter) => {
            env.warn(format!(
                "the log filter {filter:?} given in code is not a valid filter directive; using \
                 \"info\""
            ));
            None
        }
        None => None,
    };
    env.resolve(
        &["RUST_LOG"],
        valid,
        "a valid filter directive such as \"info,my_crate=debug\"",
        code,
        "info".to_owned(),
    )
}

/// The resource, lowest precedence first: the code's service, version, namespace, environment
/// and attributes; then `OTEL_RESOURCE_ATTRIBUTES`; then `OTEL_SERVICE_NAME`.
fn resolve_resource(env: &mut EnvReader<'_>, config: &Config) -> Vec<(String, Resolved<String>)> {
    let mut resource: Vec<(String, Resolved<String>)> = Vec::new();
    let mut set = |key: &str, value: String, source: Source| match resource
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some((_, existing)) => *existing = Resolved::new(value, source),
        None => resource.push((key.to_owned(), Resolved::new(value, source))),
    };
    match (&config.service, &config.default_service) {
        (Some(name), _) => set("service.name", name.clone(), Source::Code),
        (None, Some(name)) => set("service.name", name.clone(), Source::Default),
        (None, None) => set("service.name", unknown_service(), Source::Default),
    }
    let code_values = [
        ("service.version", &config.version),
        ("service.namespace", &config.namespace),
        ("deployment.environment.name", &config.environment),
    ];
    for (key, value) in code_values {
        if let Some(value) = value {
            set(key, value.clone(), Source::Code);
        }
    }
    for (key, value) in &config.resource {
        set(key, value.clone(), Source::Code);
    }
    if let Some(raw) = env.raw("OTEL_RESOURCE_ATTRIBUTES") {
        match env::parse_pairs(&raw) {
            Some(pairs) => {
                for (key, value) in pairs {
                    set(
                        &key,
                        value,
                        Source::Env("OTEL_RESOURCE_ATTRIBUTES".to_owned()),
                    );
                }
            }
            None => env.warn(format!(
                "OTEL_RESOURCE_ATTRIBUTES={raw:?} is not a list of key=value pairs; ignoring it"
            )),
        }
    }
    if let Some(name) = env.raw("OTEL_SERVICE_NAME") {
        set(
            "service.name",
            name,
            Source::Env("OTEL_SERVICE_NAME".to_owned()),
        );
    }
    resource
}

/// The specification's fallback service name.
fn unknown_service() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    format!("unknown_service:{exe}")
}

fn millis(resolved: Resolved<Millis>) -> Resolved<Duration> {
    Resolved::new(resolved.value.0, resolved.source)
}

/// The longest duration a variable may set: longer ones (`u64::MAX` ms) would overflow the
/// clocks they are added to.
const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest queue a variable may set. The SDK's batch processors allocate their whole
/// queue when they start (a span takes 352 bytes, a log record 528): at this bound, about
/// 36 MB of spans or 53 MB of log records.
const LARGEST_QUEUE: usize = 100_000;

/// A duration from a variable, at most [`LONGEST`], with one warning when it was cut.
fn bounded(env: &mut EnvReader<'_>, resolved: Resolved<Duration>) -> Resolved<Duration> {
    if resolved.value <= LONGEST {
        return resolved;
    }
    if let Source::Env(name) = &resolved.source {
        env.warn(format!(
            "{name}={} ms is longer than a day, the longest otel allows; using 1 day",
            resolved.value.as_millis()
        ));
    }
    Resolved::new(LONGEST, resolved.source)
}

/// `{prefix}_EXPORT_TIMEOUT` (the longest one export may take) honoured as a bound on the
/// OTLP exporter's own timeout, which is what limits an export (its retries included): the
/// SDK's thread-based batch processors read the variable but do not use it. The report then
/// shows the shorter of the two, with the variable it came from.
fn bound_export_by_batch_timeout(
    env: &mut EnvReader<'_>,
    prefix: &str,
    signal: &mut SignalSettings,
) {
    let name = format!("{prefix}_EXPORT_TIMEOUT");
    let batch_timeout = millis(env.resolve(
        &[name.as_str()],
        |t| env::parse_millis(t).filter(|m| !m.0.is_zero()),
        "a positive number of milliseconds",
        None,
        Millis(Duration::from_secs(30)),
    ));
    let batch_timeout = bounded(env, batch_timeout);
    if matches!(batch_timeout.source, Source::Env(_)) && batch_timeout.value < signal.timeout.value
    {
        signal.timeout = batch_timeout;
    }
}

/// A queue size from a variable, at most [`LARGEST_QUEUE`], with one warning when cut.
fn bounded_queue(env: &mut EnvReader<'_>, resolved: Resolved<usize>) -> Resolved<usize> {
    if resolved.value <= LARGEST_QUEUE {
        return resolved;
    }
    if let Source::Env(name) = &resolved.source {
        env.warn(format!(
            "{name}={} is above {LARGEST_QUEUE}, the largest otel allows (the queue is \
             allocated whole at start); using {LARGEST_QUEUE}",
            resolved.value
        ));
    }
    Resolved::new(LARGEST_QUEUE, resolved.source)
}

fn one_of(spellings: &[&str]) -> String {
    format!("one of {}", spellings.join(", "))
}

fn list_of(spellings: &[&str]) -> String {
    format!("a comma-separated list of {}", spellings.join(", "))
}

/// A list that displays the way the list variables spell it.
#[derive(Debug, Clone, PartialEq)]
struct List<T>(Vec<T>);

impl<T: fmt::Display> fmt::Display for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&spell_list(&self.0))
    }
}

/// Headers, displayed by key only: their values are secrets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeaderList(pub(crate) Vec<(String, String)>);

impl fmt::Display for HeaderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are secrets: only their keys are ever shown.
        let keys: Vec<&str> = self.0.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "[{}]", keys.join(", "))
    }
}

fn unlist<T>(resolved: Resolved<List<T>>) -> Resolved<Vec<T>> {
    Resolved::new(resolved.value.0, resolved.source)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn user_information_is_left_out_of_urls() {
        assert_eq!(
            without_userinfo("https://user:secret@pyro.example:4040/base"),
            "https://pyro.example:4040/base"
        );
        assert_eq!(
            without_userinfo("http://localhost:4040"),
            "http://localhost:4040"
        );
    }

    #[test]
    fn prometheus_is_a_metrics_exporter_with_its_own_address() {
        let (settings, warnings) = resolve(
            Config::new().prometheus("127.0.0.1", 9999),
            &[
                ("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
                ("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"),
            ],
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            settings.metrics.exporters.value,
            [Exporter::Prometheus, Exporter::Otlp]
        );
        assert_eq!(
            settings.prometheus_host.value, "0.0.0.0",
            "the variable wins"
        );
        assert_eq!(
            settings.prometheus_port.value, 9999,
            "the code's port stands"
        );
        let (defaults, _) = resolve(Config::new(), &[]);
        assert_eq!(
            (
                defaults.prometheus_host.value.as_str(),
                defaults.prometheus_port.value
            ),
            ("localhost", 9464)
        );
    }

    fn resolve(config: Config, vars: &[(&str, &str)]) -> (Settings, Vec<String>) {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::resolve(&config, &move |name| vars.get(name).cloned())
    }

    #[test]
    fn environment_beats_code_beats_default() {
        let config = Config::new()
            .service("from-code")
            .protocol(Protocol::Grpc)
            .timeout(Duration::from_secs(3));
        let (settings, warnings) = resolve(
            config,
            &[
                ("OTEL_SERVICE_NAME", "from-env"),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ],
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(settings.resource_value("service.name"), Some("from-env"));
        assert_eq!(settings.traces.protocol.value, Protocol::HttpJson);
        assert_eq!(
            settings.traces.protocol.source,
            Source::Env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL".into())
        );
        assert_eq!(settings.metrics.protocol.value, Protocol::Grpc);
        assert_eq!(settings.metrics.protocol.source, Source::Code);
        assert_eq!(settings.logs.timeout.value, Duration::from_secs(3));
        assert_eq!(settings.sampler.value, SamplerKind::ParentBasedAlwaysOn);
        assert_eq!(settings.sampler.source, Source::Default);
    }

    #[test]
    fn endpoints_follow_the_specification() {
        let (settings, _) = resolve(
            Config::new(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
                (
                    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                    "http://logs:9999/custom",
                ),
            ],
        );
        assert_eq!(
            settings.traces.endpoint.value,
            "http://collector:4318/v1/traces"
        );
        assert_eq!(settings.logs.endpoint.value, "http://logs:9999/custom");

        let (settings, _) = resolve(Config::new().protocol(Protocol::Grpc), &[]);
        assert_eq!(settings.metrics.endpoint.value, "http://localhost:4317");

        let (settings, _) = resolve(
            Config::new().protocol(Protocol::Grpc),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
                ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
            ],
        );
        assert_eq!(settings.traces.endpoint.value, "http://collector:4317");
    }

    #[test]
    fn invalid_values_warn_once_each_naming_the_fallback() {
        let config = Config::new().sampler(SamplerKind::AlwaysOn);
        let (settings, warnings) = resolve(
            config,
            &[
                ("OTEL_TRACES_SAMPLER", "sometimes"),
                ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
                ("OTEL_SDK_DISABLED", "yes"),
                ("OTEL_METRICS_EXPORTER", "otlp,zipkin"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "api-key"),
            ],
        );
        assert_eq!(settings.sampler.value, SamplerKind::AlwaysOn);
        assert!(!settings.disabled.value);
        let expected = [
            "OTEL_SDK_DISABLED=\"yes\" is not true or false; using false (default)",
            "OTEL_TRACES_SAMPLER=\"sometimes\" is not one of always_on, always_off, \
             traceidratio, parentbased_always_on, parentbased_always_off, \
             parentbased_traceidratio; using always_on (from code)",
            "OTEL_TRACES_SAMPLER_ARG=\"2\" is not a number from 0 to 1; using 1 (default)",
            "OTEL_METRICS_EXPORTER=\"otlp,zipkin\" is not a comma-separated list of otlp, \
             console, prometheus, none; using otlp (default)",
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"carrier-pigeon\" is not one of grpc, http/protobuf, \
             http/json; using http/protobuf (default)",
            "OTEL_EXPORTER_OTLP_TIMEOUT=\"10s\" is not a positive number of milliseconds; using \
             10s (default)",
            "OTEL_EXPORTER_OTLP_HEADERS is a list of key=value pairs, but its entry 1 of 1 has \
             no `=`; that entry is not sent",
        ];
        for line in expected {
            let count = warnings.iter().filter(|w| *w == line).count();
            // The generic OTLP variables are read once per signal; the installer prints each
            // distinct warning once.
            assert!(count >= 1, "missing warning {line:?} in {warnings:#?}");
        }
    }

    #[test]
    fn resource_merges_code_then_attributes_then_service_name() {
        let config = Config::new()
            .service("code-name")
            .version("1.2.3")
            .environment("staging")
            .resource_attribute("team", "payments");
        let (settings, _) = resolve(
            config,
            &[("OTEL_RESOURCE_ATTRIBUTES", "team=checkout,region=eu%2Dwest")],
        );
        assert_eq!(settings.resource_value("service.name"), Some("code-name"));
        assert_eq!(settings.resource_value("service.version"), Some("1.2.3"));
        assert_eq!(
            settings.resource_value("deployment.environment.name"),
            Some("staging")
        );
        assert_eq!(settings.resource_value("team"), Some("checkout"));
        assert_eq!(settings.resource_value("region"), Some("eu-west"));
    }

    #[test]
    fn header_values_never_display() {
        let (settings, _) = resolve(
            Config::new(),
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret",
            )],
        );
        let shown = HeaderList(settings.traces.headers.value.clone()).to_string();
        assert_eq!(shown, "[authorization]");
        assert_eq!(settings.traces.headers.value[0].1, "Bearer s3cret");
    }
}
