//! `AT+CTCPKA` on the host's sockets: TCP keepalive with the host's idle time, probe
//! interval and probe count (`SO_KEEPALIVE`, `TCP_KEEPIDLE`, `TCP_KEEPINTVL`,
//! `TCP_KEEPCNT`).

use at7600_core::Keepalive;
use socket2::{SockRef, TcpKeepalive};
use std::time::Duration;
use tokio::net::TcpStream;

/// Applies `k` to `stream` (keepalive off: nothing to do). A failure is logged: the
/// link works without it, as on a module that ignores the setting.
pub(crate) fn apply(stream: &TcpStream, k: &Keepalive) {
    if !k.enabled {
        return;
    }
    let minutes = |m: u8| Duration::from_secs(u64::from(m) * 60);
    let params = TcpKeepalive::new()
        .with_time(minutes(k.idle_min))
        .with_interval(minutes(k.interval_min))
        .with_retries(u32::from(k.count));
    if let Err(e) = SockRef::from(stream).set_tcp_keepalive(&params) {
        tracing::debug!(error = %e, "TCP keepalive not applied");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keepalive_values_reach_the_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stream = TcpStream::connect(addr).await.expect("connect");
        let k = Keepalive {
            enabled: true,
            idle_min: 2,
            count: 5,
            interval_min: 1,
        };
        apply(&stream, &k);
        let sock = SockRef::from(&stream);
        assert!(sock.keepalive().expect("SO_KEEPALIVE"));
        assert_eq!(
            sock.keepalive_time().expect("idle"),
            Duration::from_secs(120)
        );
        assert_eq!(
            sock.keepalive_interval().expect("interval"),
            Duration::from_secs(60)
        );
        assert_eq!(sock.keepalive_retries().expect("count"), 5);
    }
}
