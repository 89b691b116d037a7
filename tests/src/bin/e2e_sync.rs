//! A sync `main`. Exports only at exit: the export interval and batch delay are long.

#[otel::main(
    service = "e2e-sync",
    version = "9.9.9",
    export_interval = "1h",
    shutdown_timeout = "3s",
    flush_on_signal = true
)]
fn main() -> anyhow::Result<()> {
    otel_tests::workload("sync");
    otel_tests::end(otel_tests::Ending::from_env())
}
