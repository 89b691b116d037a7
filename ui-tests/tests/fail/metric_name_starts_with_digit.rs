#[otel::metric(counter = "1orders")]
fn place() {}

fn main() {}
