trait Store {
    #[otel::span]
    fn get(&self, key: u32) -> Option<u32>;
}

fn main() {}
