//! `metrics = "prometheus,console"`: RED metrics of an annotated function served at `/metrics`
//! while the program runs, and printed on the console at its end. Prints `ready` once its first calls are recorded, keeps calling (so a
//! scraper sees the counter grow), and ends when its standard input closes.

use std::io::Read as _;
use std::time::Duration;

#[otel::metric]
fn checkout(cart: u32) -> Result<u32, String> {
    if cart.is_multiple_of(5) {
        Err(format!("cart {cart} is empty"))
    } else {
        Ok(cart * 100)
    }
}

#[otel::main(metrics = "prometheus,console", traces = "none", logs = "none")]
fn main() {
    for cart in 1..=10 {
        let _ = checkout(cart);
    }
    println!("ready");
    let (done, finished) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let mut cart = 10;
    while finished.recv_timeout(Duration::from_millis(50)).is_err() {
        cart += 1;
        let _ = checkout(cart);
    }
}
