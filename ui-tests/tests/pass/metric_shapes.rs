//! `#[otel::metric]` on every fn shape `#[otel::span]` supports, stacked with it in both
//! orders, and the body macros; run with no SDK installed (the disabled path).

use std::future::Future;

#[otel::metric]
fn red_unit() {}

#[otel::metric]
fn red_result(x: u32) -> Result<u32, String> {
    if x == 0 {
        return Err("zero".to_owned());
    }
    Ok(x)
}

#[otel::metric]
fn red_never() -> ! {
    std::process::exit(0)
}

#[otel::metric(counter = "calls", by = n, attributes(n, label = %n, debug = ?n))]
#[otel::metric(histogram = "sizes", value = n * 2, unit = "By", description = "Sizes", buckets = [1, 10.5, 100])]
#[otel::metric(histogram = "durations")]
#[otel::metric(up_down_counter = "in_flight", attributes(kind = "x"))]
fn stacked(n: u32) -> u32 {
    n
}

#[otel::metric]
fn generic<T: Clone + std::fmt::Debug>(t: &T) -> T
where
    T: Send,
{
    t.clone()
}

#[otel::metric]
unsafe fn unsafe_fn(p: *const u8) -> u8 {
    unsafe { *p }
}

struct Store(Vec<u8>);

impl Store {
    #[otel::metric]
    fn get(&self, i: usize) -> Option<u8> {
        self.0.get(i).copied()
    }

    #[otel::metric(counter = "store.push")]
    fn push(&mut self, v: u8) {
        self.0.push(v);
    }

    #[otel::metric]
    fn first_mut(&mut self) -> Option<&mut u8> {
        self.0.first_mut()
    }
}

#[otel::metric]
async fn red_async(fail: bool) -> Result<(), String> {
    if fail {
        return Err("failed".into());
    }
    Ok(())
}

#[otel::metric(up_down_counter = "async.in_flight")]
async fn in_flight(s: &str) -> usize {
    s.len()
}

#[otel::metric]
fn returns_future(n: u32) -> impl Future<Output = u32> + Send {
    async move { n }
}

#[otel::span]
#[otel::metric]
async fn span_first(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[otel::metric]
#[otel::span]
async fn metric_first(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[async_trait::async_trait]
trait Repository {
    async fn load(&self, id: u32) -> Result<u32, String>;
}

#[async_trait::async_trait]
impl Repository for Store {
    #[otel::metric]
    #[otel::span]
    async fn load(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }
}

fn body(queue: &str) {
    otel::counter!("jobs", 1);
    otel::counter!("jobs.bytes", 10usize, queue);
    otel::histogram!("jobs.latency", std::time::Duration::from_millis(3), queue = %queue);
    otel::up_down_counter!("jobs.pending", -1i64, "queue.name" = queue);
    otel::gauge!("jobs.workers", 2.5);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    red_unit();
    assert_eq!(red_result(1), Ok(1));
    assert!(red_result(0).is_err());
    assert_eq!(stacked(2), 2);
    assert_eq!(generic(&"x"), "x");
    let byte = 7u8;
    assert_eq!(unsafe { unsafe_fn(&byte) }, 7);
    let mut store = Store(vec![]);
    store.push(1);
    if let Some(first) = store.first_mut() {
        *first += 1;
    }
    assert_eq!(store.get(0), Some(2));
    assert!(red_async(true).await.is_err());
    assert_eq!(in_flight("abc").await, 3);
    assert_eq!(returns_future(4).await, 4);
    assert_eq!(span_first(5).await, Ok(5));
    assert_eq!(metric_first(6).await, Ok(6));
    assert_eq!(store.load(7).await, Ok(7));
    body("emails");
    red_never();
}
