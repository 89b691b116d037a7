struct Receipt;

#[otel::span(ret)]
fn checkout() -> Receipt {
    Receipt
}

fn main() {}
