#[otel::metric(histogram = "latency", by = 2)]
fn place() {}

fn main() {}
