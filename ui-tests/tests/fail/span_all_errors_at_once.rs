#[otel::span(nmae = "x", kind = sever, attributes(user, "a..b" = 1), ret)]
fn checkout() {}

fn main() {}
