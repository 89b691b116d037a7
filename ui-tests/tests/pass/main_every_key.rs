#[otel::main(
    service = "payment-api",
    version = "1.2.3",
    namespace = "shop",
    environment = "production",
    resource(team = "payments", deployment.region = "eu-west-1", "k8s.pod.name" = "p-1"),
    traces = "none",
    metrics = "none",
    logs = "none",
    endpoint = "http://localhost:4317",
    protocol = "grpc",
    timeout = "2s",
    compression = "gzip",
    sampler = "parentbased_traceidratio",
    sample_ratio = 0.25,
    propagators = "tracecontext,baggage",
    export_interval = "30s",
    shutdown_timeout = "500ms",
    log_filter = "info,my_crate=debug",
    flush_on_signal = false,
    subscriber = true,
    crate = "::otel"
)]
fn main() {}
