#[otel::main(metrics = "otlp,otlp")]
fn main() {}
