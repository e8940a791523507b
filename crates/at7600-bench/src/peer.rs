//! The bench's own loopback peers: a listener the modem (or socat) connects to, and
//! threads that accept, source or sink verified bytes.

use crate::io::Port;
use crate::payload::Verifier;
use anyhow::{anyhow, bail, Context, Result};
use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A listener on 127.0.0.1 with a deep accept queue, so that a fleet opening thousands
/// of links at once is not slowed down by SYN retries.
pub struct Listener {
    inner: TcpListener,
    /// Its port.
    pub port: u16,
}

impl Listener {
    /// Binds 127.0.0.1 on a free port.
    pub fn bind() -> Result<Self> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        let inner: TcpListener = socket.into();
        inner.set_nonblocking(true)?;
        let port = inner.local_addr()?.port();
        Ok(Listener { inner, port })
    }

    /// The next connection, within `deadline`.
    pub fn accept(&self, deadline: Instant) -> Result<TcpStream> {
        loop {
            match self.inner.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        bail!("nobody connected to port {}", self.port);
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(e) => return Err(e).context("accept"),
            }
        }
    }

    /// Accepts up to `max` connections on a thread and keeps them open until the
    /// returned [`Holder`] is dropped; counts them.
    pub fn hold(self, max: usize, time: Duration) -> Holder {
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let count = accepted.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + time;
            let mut held = Vec::with_capacity(max.min(1 << 16));
            while held.len() < max && Instant::now() < deadline {
                match self.inner.accept() {
                    Ok((stream, _)) => {
                        held.push(stream);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        // Told to stop, or the holder is gone (a case that failed).
                        if !matches!(stop_rx.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                            return;
                        }
                        std::thread::sleep(Duration::from_micros(100));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
            // Keep them open until told to stop (or the time is up).
            let _ = stop_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        });
        Holder {
            accepted,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// Connections accepted and kept open by [`Listener::hold`].
pub struct Holder {
    accepted: Arc<AtomicUsize>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Holder {
    /// How many were accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits (up to `time`) until `n` were accepted.
    pub fn wait_for(&self, n: usize, time: Duration) -> Result<()> {
        let deadline = Instant::now() + time;
        while self.accepted() < n {
            if Instant::now() > deadline {
                bail!("{} of {n} connections accepted", self.accepted());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A peer on its own thread: accepts one connection, waits for the go, then sends
/// `data` (a source). Returns when all is written.
pub fn source(listener: Listener, data: Arc<[u8]>, time: Duration) -> Peer<()> {
    let (go, wait) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || -> Result<()> {
        let deadline = Instant::now() + time;
        let stream = listener.accept(deadline)?;
        let mut port = Port::tcp(stream)?;
        wait.recv_timeout(time).map_err(|_| anyhow!("no go"))?;
        port.write_all(&data, deadline)?;
        port.wait_closed(deadline);
        Ok(())
    });
    Peer {
        go: Some(go),
        thread: Some(thread),
    }
}

/// A peer on its own thread: accepts one connection, then reads and verifies exactly
/// `expected` (a sink), calling `on_chunk` with each piece's length (lock-step cases
/// answer with it). Returns the moment the last byte arrived.
pub fn sink(
    listener: Listener,
    expected: Arc<[u8]>,
    ack_every: Option<usize>,
    time: Duration,
) -> Peer<Instant> {
    let (go, _wait) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || -> Result<Instant> {
        let deadline = Instant::now() + time;
        let stream = listener.accept(deadline)?;
        let mut port = Port::tcp(stream)?;
        let mut verifier = Verifier::new(expected.clone());
        let chunk = ack_every.unwrap_or(expected.len()).max(1);
        while verifier.remaining() > 0 {
            let n = verifier.remaining().min(chunk);
            port.take(n, deadline, |b| verifier.feed(b))?;
            if ack_every.is_some() {
                port.write_all(b"k", deadline)?;
            }
        }
        verifier.finish()?;
        Ok(Instant::now())
    });
    Peer {
        go: Some(go),
        thread: Some(thread),
    }
}

/// A peer on its own thread: accepts one connection, then for every `request` bytes it
/// reads answers with the next `chunk` bytes of `data` (lock-step, the reference of a
/// host that asks for its data piece by piece). Returns when all of `data` is sent.
pub fn responder(
    listener: Listener,
    data: Arc<[u8]>,
    request: usize,
    chunk: usize,
    time: Duration,
) -> Peer<()> {
    let (go, _wait) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || -> Result<()> {
        let deadline = Instant::now() + time;
        let stream = listener.accept(deadline)?;
        let mut port = Port::tcp(stream)?;
        for piece in data.chunks(chunk.max(1)) {
            port.take(request, deadline, |_| Ok(()))?;
            port.write_all(piece, deadline)?;
        }
        port.wait_closed(deadline);
        Ok(())
    });
    Peer {
        go: Some(go),
        thread: Some(thread),
    }
}

/// A peer thread and the means to start it.
pub struct Peer<T> {
    go: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<Result<T>>>,
}

impl<T> Peer<T> {
    /// Lets a source start sending.
    pub fn go(&mut self) {
        if let Some(go) = self.go.take() {
            let _ = go.send(());
        }
    }

    /// Waits for the thread's result.
    pub fn join(mut self) -> Result<T> {
        self.go();
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| anyhow!("peer thread panicked"))?,
            None => bail!("peer already joined"),
        }
    }
}
