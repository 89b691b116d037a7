//! Environment > code > default, per value: turns a [`Config`] into the [`Settings`] that are
//! installed, remembering where each value came from.

use std::fmt;
use std::time::Duration;

use super::Config;
use super::batch::{bound_export_by_batch_timeout, resolve_batch};
use super::env::{self, EnvReader, Millis};
use super::profiling::resolve_profiler;
use super::resource::resolve_resource;
use super::settings::{Resolved, Settings, Source};
use super::signal::{Signal, resolve_signal};
use super::value::{Propagator, SamplerKind, spell_list};

pub(super) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

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

pub(super) fn code_or_default<T>(code: Option<T>, default: T) -> Resolved<T> {
    match code {
        Some(value) => Resolved::new(value, Source::Code),
        None => Resolved::new(default, Source::Default),
    }
}

pub(super) fn resolve_log_filter(env: &mut EnvReader<'_>, config: &Config) -> Resolved<String> {
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

pub(super) fn millis(resolved: Resolved<Millis>) -> Resolved<Duration> {
    Resolved::new(resolved.value.0, resolved.source)
}

/// The longest duration a variable may set: longer ones (`u64::MAX` ms) would overflow the
/// clocks they are added to.
pub(super) const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// A duration from a variable, at most [`LONGEST`], with one warning when it was cut.
pub(super) fn bounded(env: &mut EnvReader<'_>, resolved: Resolved<Duration>) -> Resolved<Duration> {
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

pub(super) fn one_of(spellings: &[&str]) -> String {
    format!("one of {}", spellings.join(", "))
}

pub(super) fn list_of(spellings: &[&str]) -> String {
    format!("a comma-separated list of {}", spellings.join(", "))
}

/// A list that displays the way the list variables spell it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct List<T>(pub(super) Vec<T>);

impl<T: fmt::Display> fmt::Display for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&spell_list(&self.0))
    }
}

pub(super) fn unlist<T>(resolved: Resolved<List<T>>) -> Resolved<Vec<T>> {
    Resolved::new(resolved.value.0, resolved.source)
}
