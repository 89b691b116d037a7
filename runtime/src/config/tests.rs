//! Resolution as a whole: precedence, warnings, endpoints, bounds, secrets.

use std::collections::HashMap;

use super::endpoint::without_userinfo;
use super::settings::{HeaderList, Source};
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
