// otel is built without any OTLP transport here.
#[otel::main(traces = "none", metrics = "otlp", logs = "none")]
fn main() {}
