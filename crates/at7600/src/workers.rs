//! The threads modems run on.
//!
//! Each worker is a single-threaded tokio runtime on its own thread, and a modem lives
//! wholly on one: its driver and the tasks of its links (they are spawned on the runtime
//! the modem's network handle was made in). A command, the socket write it causes and
//! the event coming back thus never cross threads: no futex, no context switch per
//! exchange. Modems are dealt out round-robin, so a fleet still uses every core.

use anyhow::{Context, Result};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A pool of single-threaded runtimes. Dropping it stops them (their tasks are dropped).
pub struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
    /// Dropping a sender ends its worker thread.
    _stops: Vec<oneshot::Sender<()>>,
}

impl Workers {
    /// Starts `n` workers (at least one).
    pub fn start(n: usize) -> Result<Workers> {
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start a modem runtime")?;
            handles.push(runtime.handle().clone());
            let (stop, stopped) = oneshot::channel::<()>();
            stops.push(stop);
            std::thread::Builder::new()
                .name(format!("modems-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })
                .context("cannot start a modem thread")?;
        }
        Ok(Workers {
            handles,
            next: AtomicUsize::new(0),
            _stops: stops,
        })
    }

    /// As many workers as the machine has cores.
    pub fn per_core() -> Result<Workers> {
        Self::start(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The next worker's runtime (round-robin), for `JoinSet::spawn_on`.
    pub fn next_handle(&self) -> &Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[i]
    }

    /// Runs `future` on the next worker; it and everything it spawns stay there.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.next_handle().spawn(future)
    }
}
