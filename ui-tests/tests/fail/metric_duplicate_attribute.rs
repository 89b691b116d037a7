#[otel::metric(counter = "orders", attributes(kind = "a", kind = "b"))]
fn place() {}

fn main() {}
