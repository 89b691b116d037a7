// The ui-tests build otel without its `system-metrics` feature.
#[otel::main(system_metrics = true)]
fn main() {}
