#[otel::metric(counter = "orders")]
const fn place() {}

fn main() {}
