#[otel::metric(counter = "orders", by)]
fn place() {}

fn main() {}
