#[otel::span(fields(order.id = _id))]
fn checkout(_id: u64) {}

fn main() {}
