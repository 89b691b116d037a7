#[otel::main(traces = "none", metrics = "none", logs = "none")]
#[tokio::main]
async fn main() {
    tokio::task::yield_now().await;
}
