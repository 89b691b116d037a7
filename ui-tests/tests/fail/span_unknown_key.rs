#[otel::span(nmae = "checkout")]
fn checkout() {}

fn main() {}
