#[otel::span(name "checkout")]
fn checkout() {}

fn main() {}
