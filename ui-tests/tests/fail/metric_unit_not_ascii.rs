#[otel::metric(histogram = "latency", unit = "µs")]
fn place() {}

fn main() {}
