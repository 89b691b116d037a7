//! Methods with every receiver, associated fns, generic impls and trait impls.

struct Counter<T> {
    items: Vec<T>,
}

impl<T: Clone> Counter<T> {
    #[otel::span]
    fn new() -> Self {
        Counter { items: Vec::new() }
    }

    #[otel::span(attributes(len = self.items.len()))]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[otel::span]
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    #[otel::span]
    fn first_mut(&mut self) -> Option<&mut T> {
        self.items.first_mut()
    }

    #[otel::span]
    fn into_items(self) -> Vec<T> {
        self.items
    }

    #[otel::span]
    fn boxed(self: Box<Self>) -> usize {
        self.items.len()
    }
}

trait Named {
    fn name(&self) -> String;

    #[otel::span]
    fn shout(&self) -> String {
        self.name().to_uppercase()
    }
}

impl<T> Named for Counter<T> {
    #[otel::span]
    fn name(&self) -> String {
        "counter".to_owned()
    }
}

fn main() {
    let mut counter = Counter::<u32>::new();
    counter.push(1);
    if let Some(first) = counter.first_mut() {
        *first += 1;
    }
    assert_eq!(counter.len(), 1);
    assert_eq!(counter.shout(), "COUNTER");
    assert_eq!(Box::new(Counter::<u8>::new()).boxed(), 0);
    assert_eq!(counter.into_items(), vec![2]);
}
