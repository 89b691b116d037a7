fn main() {
    otel::counter!("jobs.enqueued");
}
