//! [`TcpListener`]: a module server (`AT+SERVERSTART`) and its accepted links.

use crate::driver::Claim;
use crate::error::{Error, Result};
use crate::modem::{Cmd, Inner, Modem};
use crate::state::SERVERS;
use crate::tcp::TcpStream;
use std::net::SocketAddrV4;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A TCP server on the module. Each `+CLIENT: <link>,<index>,<ip>:<port>` becomes a
/// [`TcpStream`] from [`TcpListener::accept`]. Dropping the listener stops the server
/// (`AT+SERVERSTOP`); accepted streams live on until dropped.
pub struct TcpListener {
    inner: Arc<Inner>,
    index: u8,
    accepted: mpsc::UnboundedReceiver<(u8, SocketAddrV4)>,
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("index", &self.index)
            .finish()
    }
}

impl TcpListener {
    /// `AT+SERVERSTART=<port>,<index>`: listens on `port` as server `index` (0-3).
    pub async fn bind(modem: &Modem, port: u16, index: u8) -> Result<TcpListener> {
        if usize::from(index) >= SERVERS {
            return Err(Error::Mode("server index must be 0-3"));
        }
        let inner = modem.inner.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        // Register first: a client may arrive right after OK.
        {
            let mut st = inner.shared.lock();
            if st.servers[usize::from(index)].is_some() {
                return Err(Error::Mode("server index already in use"));
            }
            st.servers[usize::from(index)] = Some(tx);
        }
        let cmd = Cmd::new(
            format!("AT+SERVERSTART={port},{index}"),
            inner.config.command_timeout,
        );
        if let Err(e) = inner.run(cmd).await {
            inner.shared.lock().servers[usize::from(index)] = None;
            return Err(e);
        }
        Ok(TcpListener {
            inner,
            index,
            accepted: rx,
        })
    }

    /// The server index.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// Waits for the next client.
    pub async fn accept(&mut self) -> Result<(TcpStream, SocketAddrV4)> {
        let (link, peer) = self.accepted.recv().await.ok_or(Error::LineClosed)?;
        Ok((TcpStream::from_link(self.inner.clone(), link), peer))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.inner.shared.lock().servers[usize::from(self.index)] = None;
        let cmd = Cmd::new(
            format!("AT+SERVERSTOP={}", self.index),
            self.inner.config.command_timeout,
        )
        .claim(Claim::ServerStop(self.index));
        self.inner.run_detached(cmd);
    }
}
