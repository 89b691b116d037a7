#[otel::metric(counter = "orders", attributes(kind))]
fn place(_amount: u64) {}

fn main() {}
