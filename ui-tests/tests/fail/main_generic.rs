#[otel::main]
fn main<T>() {}
