#[otel::main(resource(replicas = 3))]
fn main() {}
