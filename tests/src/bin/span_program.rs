//! `#[otel::span]` and `#[otel::metric]` against a real collector: an order whose card charge
//! fails, the error recorded on both spans and in the RED metrics. Prints `trace_id=...`.

use std::io;

#[otel::main(service = "span-program")]
fn main() {
    let _ = place_order(42);
}

#[otel::span(attributes(order.id = id))]
#[otel::metric]
fn place_order(id: u64) -> io::Result<()> {
    println!(
        "trace_id={}",
        otel::current_span::trace_id().unwrap_or_default()
    );
    charge(id)
}

#[otel::span(kind = client)]
fn charge(_id: u64) -> io::Result<()> {
    Err(io::Error::other("card declined"))
}
