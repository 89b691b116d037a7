#[otel::span(attributes = "order.id")]
fn checkout() {}

fn main() {}
