#[otel::span(links = [message_id])]
fn consume(message_id: &str) {
    let _ = message_id;
}

fn main() {}
