#[otel::span(attributes(code.line.number = 1))]
fn checkout() {}

fn main() {}
