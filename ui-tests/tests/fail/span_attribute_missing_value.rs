#[otel::span(attributes(order.id = ))]
fn checkout(_id: u64) {}

fn main() {}
