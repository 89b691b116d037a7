//! `#[otel::main]` on an `async fn main` with no runtime attribute: otel builds the runtime.

#[otel::main(
    service = "e2e-async-alone",
    version = "9.9.9",
    export_interval = "1h",
    shutdown_timeout = "3s",
    flush_on_signal = true,
    runtime_metrics = true
)]
async fn main() -> anyhow::Result<()> {
    otel_tests::workload("async-alone");
    otel_tests::end_async(otel_tests::Ending::from_env()).await
}
