//! The modem state machine (interface only in this commit; the command machine follows).

use crate::config::ModemConfig;
use crate::io::{Input, Instant, NetCommand, NetEvent};
use std::collections::VecDeque;

/// One AT7600 module.
#[derive(Debug)]
pub struct Modem {
    config: ModemConfig,
    out: Vec<u8>,
    net: VecDeque<NetCommand>,
}

impl Modem {
    /// A modem as it is after power-on.
    pub fn new(config: ModemConfig) -> Self {
        Modem { config, out: Vec::new(), net: VecDeque::new() }
    }

    /// The configuration the modem was built with.
    pub fn config(&self) -> &ModemConfig {
        &self.config
    }

    /// Feeds one input (dispatches to the `handle_*` methods).
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Host(b) => self.handle_host(now, &b),
            Input::Dtr(on) => self.handle_dtr(now, on),
            Input::Net(ev) => self.handle_net(now, ev),
            Input::Timeout => self.handle_timeout(now),
        }
    }

    /// Bytes written by the host.
    pub fn handle_host(&mut self, _now: Instant, bytes: &[u8]) {
        if bytes.ends_with(b"\r") {
            self.out.extend_from_slice(bytes);
            self.out.extend_from_slice(b"\r\nOK\r\n");
        }
    }

    /// The host's DTR line changed.
    pub fn handle_dtr(&mut self, _now: Instant, _on: bool) {}

    /// An event from the network backend.
    pub fn handle_net(&mut self, _now: Instant, _event: NetEvent) {}

    /// The deadline from [`Modem::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, _now: Instant) {}

    /// Bytes waiting for the host.
    pub fn host_output(&self) -> &[u8] {
        &self.out
    }

    /// Marks the first `n` bytes of [`Modem::host_output`] as delivered.
    pub fn consume_host_output(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// The next command for the network backend.
    pub fn poll_net(&mut self) -> Option<NetCommand> {
        self.net.pop_front()
    }

    /// When [`Modem::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Whether the runtime should read more host bytes now (back-pressure).
    pub fn wants_host_input(&self) -> bool {
        true
    }
}
