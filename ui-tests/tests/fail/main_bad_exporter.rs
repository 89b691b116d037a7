#[otel::main(traces = "jaeger")]
fn main() {}
