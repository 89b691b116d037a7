//! `#[tokio::main(flavor = "current_thread")]` above `#[otel::main]`: the flavour where a naive
//! shutdown deadlocks.

#[tokio::main(flavor = "current_thread")]
#[otel::main(
    service = "e2e-tokio-current",
    version = "9.9.9",
    export_interval = "1h",
    shutdown_timeout = "3s",
    flush_on_signal = true
)]
async fn main() -> anyhow::Result<()> {
    otel_tests::workload("tokio-current");
    otel_tests::end_async(otel_tests::Ending::from_env()).await
}
