#[otel::metric(counter = "orders", histogram = "latency")]
fn place() {}

fn main() {}
