#[otel::metric(unit = "ms", attributes(kind = "retail"))]
fn place() {}

fn main() {}
