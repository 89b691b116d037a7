#[otel::metric(counter = orders)]
fn place() {}

fn main() {}
