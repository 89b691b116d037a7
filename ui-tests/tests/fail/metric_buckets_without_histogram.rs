#[otel::metric(counter = "orders", buckets = [1, 2])]
fn place() {}

fn main() {}
