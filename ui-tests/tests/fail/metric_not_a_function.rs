#[otel::metric]
struct Order;

fn main() {}
