#[otel::span(name = )]
fn checkout() {}

fn main() {}
