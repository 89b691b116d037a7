#[otel::metric(histogram = "")]
fn place() {}

fn main() {}
