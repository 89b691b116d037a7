#[otel::span(name = "a", name = "b")]
fn checkout() {}

fn main() {}
