//! What the client driver's tests share: a bounded runtime, a modem on a daemon
//! connection, a loopback echo server, seeded bytes, and the typed error inside an
//! `io::Error`.

use at7600_client::{Config, Error, Modem};
use std::future::Future;
use std::time::Duration;

/// Longest any client test may take.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A modem on a new connection to the daemon at `addr`, initialised with `config`.
pub async fn modem_at(addr: &str, config: Config) -> Modem {
    let line = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the daemon");
    line.set_nodelay(true).expect("nodelay");
    Modem::open(line, config).await.expect("modem initialises")
}

/// Runs `f` on a two-worker runtime, bounded by [`LIMIT`]; `RUST_LOG` shows the driver.
pub fn run<F: Future<Output = ()>>(f: F) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            tokio::time::timeout(LIMIT, f)
                .await
                .expect("test within its time limit");
        });
}

/// A loopback echo server: echoes every connection until it closes. Returns its port.
pub async fn echo_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind echo");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

/// Seeded xorshift bytes.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The at7600 error inside an `io::Error` from a stream.
pub fn typed(e: std::io::Error) -> Error {
    let inner = e.into_inner().expect("an at7600 error inside");
    *inner.downcast::<Error>().expect("at7600 error")
}
