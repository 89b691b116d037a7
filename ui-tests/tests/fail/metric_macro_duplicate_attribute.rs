fn main() {
    otel::gauge!("jobs.workers", 4, pool = "a", pool = "b");
}
