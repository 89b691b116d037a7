//! Where the tests' servers run: a tokio runtime of their own (off the test thread, which
//! blocks) and a listener on a free loopback port; external servers (rotel, Prometheus) are
//! started again on new ports when another test took theirs first.

use std::net::SocketAddr;

/// A runtime with `workers` threads, a listener bound in it, and the listener's address.
pub fn listen(workers: usize) -> (tokio::runtime::Runtime, tokio::net::TcpListener, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    (runtime, listener, address)
}

/// Starts a server on a freshly chosen free port, again on new ports when it exits before
/// listening: a port is free when chosen, but another test may take it before the server binds
/// it. `attempt` starts the server once, handing back why it exited if it did.
pub fn start_on_free_ports<T>(server: &str, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    const ATTEMPTS: usize = 5;
    let mut failures = Vec::new();
    for _ in 0..ATTEMPTS {
        match attempt() {
            Ok(started) => return started,
            Err(failure) => failures.push(failure),
        }
    }
    panic!(
        "{server} did not start in {ATTEMPTS} attempts:\n{}",
        failures.join("\n---\n")
    )
}
