//! `#[async_trait]` in both places a span can go: the impl's fn and the trait's default body.

use async_trait::async_trait;

#[async_trait]
trait Repository {
    async fn load(&self, id: u32) -> Result<String, String>;

    #[otel::span]
    async fn load_or_default(&self, id: u32) -> String {
        self.load(id).await.unwrap_or_default()
    }
}

struct Database;

#[async_trait]
impl Repository for Database {
    #[otel::span(attributes(id))]
    async fn load(&self, id: u32) -> Result<String, String> {
        if id == 0 {
            return Err("no such row".to_owned());
        }
        Ok(format!("row {id}"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let repository = Database;
    assert_eq!(repository.load_or_default(1).await, "row 1");
    assert_eq!(repository.load_or_default(0).await, "");
}
