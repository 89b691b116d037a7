struct Cart;

#[otel::span(attributes(cart = cart))]
fn checkout(cart: Cart) {}

fn main() {}
