#[otel::metric(gauge = "workers")]
fn place() {}

fn main() {}
