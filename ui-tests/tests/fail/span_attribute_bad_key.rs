#[otel::span(attributes("order..id" = 1))]
fn checkout() {}

fn main() {}
