// The ui-tests build otel without its `prometheus` feature.
#[otel::main(metrics = "otlp,prometheus")]
fn main() {}
