#[otel::main(logs = "otlp,none")]
fn main() {}
