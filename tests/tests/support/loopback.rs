//! Where the tests' servers run: a tokio runtime of their own (off the test thread, which
//! blocks) and a listener on a free loopback port.

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
