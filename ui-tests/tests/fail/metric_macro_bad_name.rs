fn main() {
    otel::counter!("jobs enqueued", 1);
}
