#[otel::metric(histogram = "latency", buckets = [0.1, 1, 0.5])]
fn place() {}

fn main() {}
