//! `build_info`: the gauge autometrics' dashboards join every RED query with, to show which
//! version and commit served the calls.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{MeterProvider as _, ObservableGauge};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_semantic_conventions::attribute;

/// What the build says about itself: from `#[otel::main]` (the crate version, and the commit
/// and branch the build environment names), or from [`Config`](crate::Config).
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildInfo {
    pub(crate) commit: String,
    pub(crate) branch: String,
}

/// The autometrics specification version whose labels these are.
const AUTOMETRICS_VERSION: &str = "1.0.0";

/// Registers `build_info` = 1 with `version`, `commit`, `branch`, `service.name` and
/// `autometrics.version` (`service_name`, `autometrics_version` in Prometheus). The gauge is
/// observed on each collection and lives as long as `provider`.
pub(crate) fn register(
    provider: &SdkMeterProvider,
    info: &BuildInfo,
    version: &str,
    service: &str,
) -> ObservableGauge<u64> {
    let attributes = vec![
        KeyValue::new("version", version.to_owned()),
        KeyValue::new("commit", info.commit.clone()),
        KeyValue::new("branch", info.branch.clone()),
        KeyValue::new(attribute::SERVICE_NAME, service.to_owned()),
        KeyValue::new("autometrics.version", AUTOMETRICS_VERSION),
    ];
    provider
        .meter("otel")
        .u64_observable_gauge("build_info")
        .with_description("Autometrics info metric for tracking software version and build details")
        .with_callback(move |observer| observer.observe(1, &attributes))
        .build()
}
