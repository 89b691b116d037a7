#[otel::metric(counter = "orders placed")]
fn place() {}

fn main() {}
