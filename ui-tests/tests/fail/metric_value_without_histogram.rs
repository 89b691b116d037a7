#[otel::metric(counter = "orders", value = 3)]
fn place() {}

fn main() {}
