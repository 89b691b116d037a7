//! `init`: resolve the configuration, build and install the pipelines, return the guard.

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_semantic_conventions::attribute;

use crate::config::{Config, Propagator, Settings};
use crate::diagnostics::warn_once;
use crate::guard::{self, Pipelines, ShutdownGuard};
use crate::{logs, metrics, panic_hook, resource, signals, subscriber, trace};

/// Resolves `config` against the process environment and installs everything.
pub(crate) fn install(mut config: Config) -> ShutdownGuard {
    let extensions = std::mem::take(&mut config.extensions);
    let (settings, warnings) = Settings::resolve(&config, &read_variable);
    crate::diagnostics::register_secrets(&settings.secrets);
    for warning in &warnings {
        warn_once(warning);
    }
    if settings.debug_report {
        eprint!("{}", crate::diagnostics::scrub(&settings.report()));
    }
    if settings.disabled.value {
        return ShutdownGuard::new();
    }

    let resource = resource::build(&settings);
    let service_name = resource
        .get(&opentelemetry::Key::from_static_str(
            attribute::SERVICE_NAME,
        ))
        .map(|name| name.to_string());
    let service_version = resource
        .get(&opentelemetry::Key::from_static_str(
            attribute::SERVICE_VERSION,
        ))
        .map(|version| version.to_string())
        .unwrap_or_default();
    // A second `init`: the profiler running now stops before this one starts.
    guard::stop_installed_profiler();
    // Before the first span: spans started while it runs carry its labels.
    let profiler = start_profiler(&settings, &resource);
    let (meter, prometheus) =
        match metrics::provider::pipeline(&settings, resource.clone(), extensions.metrics) {
            Some(pipeline) => (Some(pipeline.provider), pipeline.prometheus),
            None => (None, None),
        };
    // Before the batch processors are built: they bind their self-metrics
    // (`otel.sdk.processor.span.processed`, `otel.sdk.processor.log.processed` with
    // `error.type = queue_full`) to the global meter provider when they are created.
    if let Some(meter) = &meter {
        opentelemetry::global::set_meter_provider(meter.clone());
    }
    let trace_pipeline = trace::provider::pipeline(&settings, resource.clone(), extensions.traces);
    let tracer = trace_pipeline
        .as_ref()
        .map(|pipeline| pipeline.provider.clone());
    let logger = logs::provider::provider(&settings, resource, extensions.logs);

    if let Some(pipeline) = trace_pipeline {
        trace::installed::install(pipeline.provider, pipeline.sampling, logger.as_ref());
    }
    if let Some(meter) = &meter {
        if let Some(service) = &service_name {
            metrics::set_service_name(service);
        }
        metrics::build_info::register(
            meter,
            &config.build_info,
            &service_version,
            service_name.as_deref().unwrap_or_default(),
        );
        if settings.system_metrics.value {
            register_system_metrics(meter);
        }
        if settings.runtime_metrics.value {
            want_runtime_metrics(meter);
        }
        metrics::backend::install(meter.clone());
    }
    install_propagators(&settings.propagators.value);
    subscriber::configure(
        tracer.as_ref(),
        logger.as_ref(),
        &settings.log_filter.value,
        settings.subscriber.value,
    );
    panic_hook::install();

    guard::register(Pipelines {
        tracer,
        meter,
        logger,
        prometheus,
        profiler,
        timeout: settings.shutdown_timeout.value,
    });
    if settings.flush_on_signal.value {
        signals::install();
    }
    ShutdownGuard::new()
}

/// The profiler the settings ask for, its Pyroscope series labelled from the resource.
#[cfg(feature = "profiler")]
fn start_profiler(
    settings: &Settings,
    resource: &opentelemetry_sdk::Resource,
) -> Option<crate::profiler::Profiler> {
    let label = |name: &str, key: &'static str| {
        resource
            .get(&opentelemetry::Key::from_static_str(key))
            .map(|value| (name.to_owned(), value.to_string()))
    };
    let labels = [
        label("service_name", attribute::SERVICE_NAME),
        label("service_version", attribute::SERVICE_VERSION),
        label(
            "deployment_environment",
            attribute::DEPLOYMENT_ENVIRONMENT_NAME,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::profiler::Profiler::start(&settings.profiler, labels)
}

#[cfg(not(feature = "profiler"))]
fn start_profiler(
    settings: &Settings,
    _resource: &opentelemetry_sdk::Resource,
) -> Option<crate::profiler::Profiler> {
    if settings.profiler.kind.value != crate::config::ProfilerKind::None {
        warn_once(
            "a profiler was asked for, but otel was built without its `profiler` feature; add \
             it to profile",
        );
    }
    None
}

#[cfg(feature = "system-metrics")]
fn register_system_metrics(meter: &opentelemetry_sdk::metrics::SdkMeterProvider) {
    metrics::system::register(meter);
}

#[cfg(not(feature = "system-metrics"))]
fn register_system_metrics(_: &opentelemetry_sdk::metrics::SdkMeterProvider) {
    warn_once(
        "system metrics were asked for, but otel was built without its `system-metrics` \
         feature; add it to record them",
    );
}

#[cfg(feature = "runtime-metrics")]
fn want_runtime_metrics(meter: &opentelemetry_sdk::metrics::SdkMeterProvider) {
    metrics::tokio_runtime::want(meter.clone());
}

#[cfg(not(feature = "runtime-metrics"))]
fn want_runtime_metrics(_: &opentelemetry_sdk::metrics::SdkMeterProvider) {
    warn_once(
        "runtime metrics were asked for, but otel was built without its `runtime-metrics` \
         feature; add it to record them",
    );
}

/// A variable of the process environment; one that is not valid UTF-8 is one warning and
/// counts as unset (every `OTEL_*` value is text).
fn read_variable(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            warn_once(&format!(
                "{name} is not valid UTF-8; it is ignored, as if it were not set"
            ));
            None
        }
    }
}

fn install_propagators(propagators: &[Propagator]) {
    let mut list: Vec<Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync>> =
        Vec::new();
    for propagator in propagators {
        match propagator {
            Propagator::TraceContext => {
                list.push(Box::new(crate::propagation::TraceContext::default()));
            }
            Propagator::Baggage => list.push(Box::new(BaggagePropagator::new())),
            Propagator::None => {}
        }
    }
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(list));
}
