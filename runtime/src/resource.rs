//! The resource shared by all three signals: service, deployment, host, process, SDK.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;

use crate::config::Settings;

/// Builds the resource: detected host and process attributes first, so that anything the
/// code or `OTEL_RESOURCE_ATTRIBUTES` says about the same key wins.
pub(crate) fn build(settings: &Settings) -> Resource {
    let mut attributes = detected();
    for (key, value) in &settings.resource {
        attributes.retain(|kv| kv.key.as_str() != key);
        attributes.push(KeyValue::new(key.clone(), value.value.clone()));
    }
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(attributes)
        .build()
}

/// Attributes of the running process and its host (semantic conventions `host.*`, `os.*`,
/// `process.*`) and a fresh `service.instance.id`.
fn detected() -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("service.instance.id", uuid::Uuid::new_v4().to_string()),
        KeyValue::new(
            "host.name",
            gethostname::gethostname().to_string_lossy().into_owned(),
        ),
        KeyValue::new("host.arch", host_arch()),
        KeyValue::new("os.type", std::env::consts::OS),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.runtime.name", "rust"),
    ];
    if let Ok(exe) = std::env::current_exe() {
        if let Some(name) = exe.file_name() {
            attributes.push(KeyValue::new(
                "process.executable.name",
                name.to_string_lossy().into_owned(),
            ));
        }
        attributes.push(KeyValue::new(
            "process.executable.path",
            exe.to_string_lossy().into_owned(),
        ));
    }
    attributes
}

/// The semantic-convention spelling of the CPU architecture.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}
