//! `async fn`, `fn -> impl Future`, native async fns in traits, and argument patterns.

use std::future::Future;

#[otel::span]
async fn unit() {}

#[otel::span]
async fn borrows(s: &str, n: &mut u32) -> usize {
    *n += 1;
    s.len()
}

#[otel::span]
async fn fallible(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[otel::span]
async fn patterns((a, b): (u32, u32), _: String, mut c: u32, _guard: Vec<u8>) -> u32 {
    c += a + b;
    c
}

#[otel::span]
async fn generic<T: std::fmt::Display + Send>(t: T) -> String {
    t.to_string()
}

#[otel::span]
async fn returns_impl() -> impl std::fmt::Display {
    5
}

#[otel::span]
fn returns_future(n: u32) -> impl Future<Output = u32> + Send {
    async move { n * 2 }
}

trait Store {
    async fn get(&self, key: u32) -> Option<u32>;

    #[otel::span]
    async fn get_or_zero(&self, key: u32) -> u32 {
        self.get(key).await.unwrap_or(0)
    }
}

struct Memory;

impl Store for Memory {
    #[otel::span(attributes(key))]
    async fn get(&self, key: u32) -> Option<u32> {
        (key == 1).then_some(10)
    }
}

struct Owner(u32);

impl Owner {
    #[otel::span]
    async fn consume(self) -> u32 {
        self.0
    }
}

fn is_send<T: Send>(t: T) -> T {
    t
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    unit().await;
    let mut n = 0;
    assert_eq!(borrows("abc", &mut n).await, 3);
    assert_eq!(n, 1);
    assert_eq!(fallible("12").await.ok(), Some(12));
    assert!(fallible("x").await.is_err());
    assert_eq!(patterns((1, 2), String::new(), 3, vec![]).await, 6);
    assert_eq!(is_send(generic(4)).await, "4");
    assert_eq!(returns_impl().await.to_string(), "5");
    assert_eq!(is_send(returns_future(2)).await, 4);
    assert_eq!(Memory.get_or_zero(1).await, 10);
    assert_eq!(Memory.get_or_zero(2).await, 0);
    assert_eq!(Owner(3).consume().await, 3);
}
