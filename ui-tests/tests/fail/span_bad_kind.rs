#[otel::span(kind = sever)]
fn checkout() {}

fn main() {}
