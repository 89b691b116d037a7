//! The resource, lowest precedence first: the code's service, version, namespace,
//! environment and attributes; then `OTEL_RESOURCE_ATTRIBUTES`; then `OTEL_SERVICE_NAME`.

use opentelemetry_semantic_conventions::attribute;

use super::Config;
use super::env::{self, EnvReader};
use super::settings::{Resolved, Source};

/// The resource, lowest precedence first: the code's service, version, namespace, environment
/// and attributes; then `OTEL_RESOURCE_ATTRIBUTES`; then `OTEL_SERVICE_NAME`.
pub(super) fn resolve_resource(
    env: &mut EnvReader<'_>,
    config: &Config,
) -> Vec<(String, Resolved<String>)> {
    let mut resource: Vec<(String, Resolved<String>)> = Vec::new();
    let mut set = |key: &str, value: String, source: Source| match resource
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some((_, existing)) => *existing = Resolved::new(value, source),
        None => resource.push((key.to_owned(), Resolved::new(value, source))),
    };
    match (&config.service, &config.default_service) {
        (Some(name), _) => set(attribute::SERVICE_NAME, name.clone(), Source::Code),
        (None, Some(name)) => set(attribute::SERVICE_NAME, name.clone(), Source::Default),
        (None, None) => set(attribute::SERVICE_NAME, unknown_service(), Source::Default),
    }
    let code_values = [
        (attribute::SERVICE_VERSION, &config.version),
        (attribute::SERVICE_NAMESPACE, &config.namespace),
        (attribute::DEPLOYMENT_ENVIRONMENT_NAME, &config.environment),
    ];
    for (key, value) in code_values
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.as_ref()?)))
    {
        set(key, value.clone(), Source::Code);
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
            attribute::SERVICE_NAME,
            name,
            Source::Env("OTEL_SERVICE_NAME".to_owned()),
        );
    }
    resource
}

/// The specification's fallback service name.
pub(super) fn unknown_service() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    format!("unknown_service:{exe}")
}
