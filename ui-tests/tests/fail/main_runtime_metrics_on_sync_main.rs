// A sync `main` starts no runtime for the metrics to observe.
#[otel::main(runtime_metrics = true)]
fn main() {}
