#[otel::main(traces = "none", metrics = "none", logs = "none")]
async fn main() -> anyhow::Result<()> {
    tokio::task::yield_now().await;
    Ok(())
}
