//! How the driver sets the module up and how long it waits.

use std::time::Duration;

/// The driver's settings. `Config::default()` follows the manual: 120 s for the
/// network commands, buffer access mode, no APN change.
#[derive(Clone, Debug)]
pub struct Config {
    /// APN written with `AT+CGDCONT=1,"IP","<apn>"`; `None` leaves the context alone.
    pub apn: Option<String>,
    /// Receive in buffer access mode (`AT+CIPRXGET=1`, no data loss with a slow
    /// application). `false` selects direct push with `+RECEIVE,<link>,<len>` headers.
    pub buffer_mode: bool,
    /// Use `AT+CIPMODE=1` so that link 0 can be a [`crate::TransparentStream`].
    pub transparent: bool,
    /// `AT` tries while synchronising with the module.
    pub sync_tries: u32,
    /// Wait for each `AT` while synchronising.
    pub sync_timeout: Duration,
    /// Timeout of quick commands (settings, queries, `AT+CIPRXGET`).
    pub command_timeout: Duration,
    /// `AT+NETOPEN` / `AT+NETCLOSE` up to their URC (manual: 120 s).
    pub netopen_timeout: Duration,
    /// `AT+CIPOPEN` up to its `+CIPOPEN` report, and `AT+CIPCLOSE` (manual: 120 s).
    pub cipopen_timeout: Duration,
    /// `AT+CIPSEND` up to its `+CIPSEND` report (manual: 120 s); also the longest a
    /// write waits while the module answers "send buffer full" (`+CIPSEND: <n>,<req>,0`)
    /// before it fails with [`crate::Error::Timeout`].
    pub cipsend_timeout: Duration,
    /// `AT+CCHSEND` up to its `+CCHSEND: <s>,0` report. The module holds bytes that
    /// find its send queue full for the session's `sendtimeout` (default 150 s) before
    /// it drops them with `+CCHSEND: <s>,18`, so this is a little longer.
    pub cchsend_timeout: Duration,
    /// `AT+CDNSGIP` (the manual gives none; DNS can be slow).
    pub dns_timeout: Duration,
    /// Safety net for a lost `+CIPRXGET: 1` URC: how often a link with a waiting
    /// reader and nothing buffered is polled with `AT+CIPRXGET=4`.
    pub poll_interval: Duration,
    /// Bytes kept per link on the host side; above this the driver stops reading the
    /// module's buffer, so the module and TCP flow control hold the rest.
    pub rx_window: usize,
    /// Silence before and after `+++` (manual: at least 1000 ms).
    pub escape_guard: Duration,
    /// `AT+CIPCCFG` retransmission count and minimum RTO in ms; `None` keeps the
    /// module's settings (direct push mode always sets the header type itself).
    pub tcp_tuning: Option<(u8, u32)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            apn: None,
            buffer_mode: true,
            transparent: false,
            sync_tries: 10,
            sync_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_secs(9),
            netopen_timeout: Duration::from_secs(120),
            cipopen_timeout: Duration::from_secs(120),
            cipsend_timeout: Duration::from_secs(120),
            cchsend_timeout: Duration::from_secs(160),
            dns_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            rx_window: 32 * 1024,
            escape_guard: Duration::from_millis(1100),
            tcp_tuning: None,
        }
    }
}
