#[otel::main(traces = "otlp,")]
fn main() {}
