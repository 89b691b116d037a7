#[otel::main(traces = "otlp,prometheus")]
fn main() {}
