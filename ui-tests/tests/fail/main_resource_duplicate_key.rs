#[otel::main(resource(team = "a", team = "b"))]
fn main() {}
