#[otel::span(attributes(order.id = _id, "order.id" = 2))]
fn checkout(_id: u64) {}

fn main() {}
