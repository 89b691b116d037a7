fn main() {
    otel::histogram!(jobs, 1);
}
