#[otel::metric(histogram = "latency", buckets = [])]
fn place() {}

fn main() {}
