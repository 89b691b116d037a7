#[otel::span(crate = "1otel")]
fn checkout() {}

fn main() {}
