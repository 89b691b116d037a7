//! Every option and every spelling of each.

#[derive(Debug)]
struct Order {
    id: u64,
    total: f64,
}

#[otel::span(
    name = "order.place",
    kind = server,
    attributes(
        order.id = order.id,
        "order.total" = order.total,
        order.display = %order.id,
        order.debug = ?order,
        r#type = "retail",
        customer,
        quantity = u32::from(count),
        optional = None::<u8>,
    ),
    root,
    links = [&previous, &otel::opentelemetry::trace::SpanContext::empty_context()],
    error_if = |e: &String| e != "retry",
    ret,
    crate = "::otel",
)]
fn place(
    order: &Order,
    customer: &str,
    count: u16,
    previous: otel::opentelemetry::trace::SpanContext,
) -> Result<u64, String> {
    let _ = previous;
    if count == 0 {
        return Err("retry".to_owned());
    }
    Ok(order.id)
}

#[otel::span(kind = client)]
fn client() {}

#[otel::span(kind = producer)]
fn producer() {}

#[otel::span(kind = consumer)]
fn consumer() {}

#[otel::span(kind = internal)]
fn internal() {}

#[otel::span(ret)]
fn plain_ret() -> Vec<u8> {
    vec![1]
}

fn main() {
    let order = Order { id: 7, total: 9.5 };
    let previous = otel::opentelemetry::trace::SpanContext::empty_context;
    assert_eq!(place(&order, "ada", 1, previous()), Ok(7));
    assert!(place(&order, "ada", 0, previous()).is_err());
    client();
    producer();
    consumer();
    internal();
    assert_eq!(plain_ret(), vec![1]);
    let cx = otel::opentelemetry::Context::new();
    assert_eq!(parents::by_reference(&cx, "ab".to_owned()), 2);
    parents::owned();
    let _ = parents::in_async(cx, "abc".to_owned());
}

/// `parent = <context>`, owned or borrowed, in every fn shape that takes one.
mod parents {
    use otel::opentelemetry::Context;

    #[otel::span(kind = consumer, parent = cx)]
    pub fn by_reference(cx: &Context, body: String) -> usize {
        body.len()
    }

    #[otel::span(kind = consumer, parent = Context::new())]
    pub fn owned() {}

    #[otel::span(parent = cx.clone(), attributes(size = body.len()))]
    pub async fn in_async(cx: Context, body: String) -> usize {
        body.len()
    }
}
