#[otel::metric(countr = "orders")]
fn place() {}

fn main() {}
