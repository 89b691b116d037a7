#[otel::metric(counter = "orders", unit = "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu")]
fn place() {}

fn main() {}
