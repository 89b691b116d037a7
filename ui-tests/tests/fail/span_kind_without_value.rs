#[otel::span(kind)]
fn checkout() {}

fn main() {}
