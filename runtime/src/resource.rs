//! The resource shared by all three signals: service, deployment, host, process, SDK.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_semantic_conventions::attribute::{
    HOST_ARCH, HOST_ID, HOST_NAME, OS_TYPE, OS_VERSION, PROCESS_COMMAND, PROCESS_EXECUTABLE_NAME,
    PROCESS_EXECUTABLE_PATH, PROCESS_PARENT_PID, PROCESS_PID, PROCESS_RUNTIME_DESCRIPTION,
    PROCESS_RUNTIME_NAME, PROCESS_RUNTIME_VERSION,
};
use opentelemetry_semantic_conventions::resource::SERVICE_INSTANCE_ID;

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
/// `process.*`) and a fresh `service.instance.id`. Each detector reads memory or one small
/// file once, at startup; what it cannot read it leaves out, silently.
fn detected() -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(SERVICE_INSTANCE_ID, uuid::Uuid::new_v4().to_string()),
        KeyValue::new(
            HOST_NAME,
            gethostname::gethostname().to_string_lossy().into_owned(),
        ),
        KeyValue::new(HOST_ARCH, host_arch()),
        KeyValue::new(OS_TYPE, std::env::consts::OS),
        KeyValue::new(PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(PROCESS_RUNTIME_NAME, "rust"),
    ];
    if let Some(id) = host_id() {
        attributes.push(KeyValue::new(HOST_ID, id));
    }
    if let Some(version) = os_version() {
        attributes.push(KeyValue::new(OS_VERSION, version));
    }
    #[cfg(unix)]
    attributes.push(KeyValue::new(
        PROCESS_PARENT_PID,
        i64::from(std::os::unix::process::parent_id()),
    ));
    if let Some(command) = std::env::args_os().next() {
        // The command alone: its arguments may hold secrets (a password flag, a token).
        attributes.push(KeyValue::new(
            PROCESS_COMMAND,
            command.to_string_lossy().into_owned(),
        ));
    }
    // The compiler that built this program: the Rust "runtime" is the code it generated.
    if let Some(description) = option_env!("OTEL_RUSTC_VERSION") {
        attributes.push(KeyValue::new(PROCESS_RUNTIME_DESCRIPTION, description));
        if let Some(version) = description.split_whitespace().nth(1) {
            attributes.push(KeyValue::new(PROCESS_RUNTIME_VERSION, version));
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(name) = exe.file_name() {
            attributes.push(KeyValue::new(
                PROCESS_EXECUTABLE_NAME,
                name.to_string_lossy().into_owned(),
            ));
        }
        attributes.push(KeyValue::new(
            PROCESS_EXECUTABLE_PATH,
            exe.to_string_lossy().into_owned(),
        ));
    }
    attributes
}

/// The machine id (`host.id` on non-cloud hosts): systemd's, or D-Bus's where systemd's is
/// absent, as the conventions say.
fn host_id() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|path| first_line(path))
}

/// The kernel release, as `uname -r` prints it (what the reference stacks report).
fn os_version() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    first_line("/proc/sys/kernel/osrelease")
}

/// The first line of a small file, when it is there and not empty.
fn first_line(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
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
