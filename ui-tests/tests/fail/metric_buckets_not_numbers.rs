#[otel::metric(histogram = "latency", buckets = [0.1, "one"])]
fn place() {}

fn main() {}
