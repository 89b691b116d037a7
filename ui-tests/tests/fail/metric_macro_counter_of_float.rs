fn main() {
    otel::counter!("jobs.weight", 1.5);
}
