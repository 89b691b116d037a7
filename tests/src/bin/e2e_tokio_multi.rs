//! `#[otel::main]` above `#[tokio::main]` (multi-thread).

#[otel::main(
    service = "e2e-tokio-multi",
    version = "9.9.9",
    export_interval = "1h",
    shutdown_timeout = "3s",
    flush_on_signal = true,
    system_metrics = true,
    runtime_metrics = true
)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    otel_tests::workload("tokio-multi");
    otel_tests::end_async(otel_tests::Ending::from_env()).await
}
