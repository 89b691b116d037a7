// The ui-tests build otel without its `runtime-metrics` feature.
#[otel::main(runtime_metrics = true)]
async fn main() {}
