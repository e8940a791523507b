//! Receiving: direct push (`+IPD`), buffer access (`AT+CIPRXGET`), and the
//! back-pressure that keeps every received byte until the host has it.

use super::sockets::link_arg;
use super::{Failure, Modem, Step, LINKS};
use crate::errors::ErrInfo;
use crate::io::ConnId;
use crate::link::LinkState;
use crate::parser::Form;
use std::fmt::Write as _;
use std::net::SocketAddrV4;
use std::time::Duration;

/// Largest chunk of one direct-push report, and of one `AT+CIPRXGET=2` read.
const MAX_PUSH: usize = 1500;
/// Largest `AT+CIPRXGET=3` read (two hex characters a byte).
const MAX_HEX: usize = 750;

impl Modem {
    pub(super) fn cmd_ciprxget(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+CIPRXGET: (0-4),(0-9),(1-1500)"),
            Form::Read => return self.info_step(&format!("+CIPRXGET: {}", self.s.rxget)),
            Form::Execute => return Step::Fail(Failure::Param),
            Form::Write(args) => args,
        };
        let Some(mode) = args.first().and_then(|a| a.in_range(0..=4)) else {
            return Step::Fail(Failure::Param);
        };
        match mode {
            0 | 1 => {
                if args.len() != 1 {
                    return Step::Fail(Failure::Param);
                }
                let was = self.s.rxget;
                self.s.rxget = mode as u8;
                if was == 1 && mode == 0 {
                    self.flush_buffers_as_push();
                }
                Step::Next
            }
            // "The 2-4 modes take effect when mode is 1."
            _ if self.s.rxget != 1 => Step::Fail(Failure::Param),
            4 => {
                let i = match link_arg(args.get(1)) {
                    Ok(i) if args.len() == 2 => i,
                    Ok(_) => return Step::Fail(Failure::Ip(ErrInfo::InvalidParameter)),
                    Err(step) => return step,
                };
                match &self.links[i] {
                    Some(l) if l.state != LinkState::Opening && !l.transparent => {
                        let line = format!("+CIPRXGET: 4,{i},{}", l.rx.len());
                        self.info_step(&line)
                    }
                    _ => Step::Fail(Failure::Ip(ErrInfo::NoData)),
                }
            }
            _ => {
                let hex = mode == 3;
                let max = if hex { MAX_HEX } else { MAX_PUSH };
                let i = match link_arg(args.get(1)) {
                    Ok(i) => i,
                    Err(step) => return step,
                };
                let len = match args.get(2) {
                    None => max,
                    Some(a) if a.is_empty() => max,
                    Some(a) => match a.in_range(1..=max as u64) {
                        Some(n) if args.len() == 3 => n as usize,
                        _ => return Step::Fail(Failure::Ip(ErrInfo::InvalidParameter)),
                    },
                };
                self.read_buffer(i, len, hex)
            }
        }
    }

    /// `AT+CIPRXGET=2/3`: the header line, exactly the bytes read, then `OK`.
    fn read_buffer(&mut self, i: usize, len: usize, hex: bool) -> Step {
        let Some(link) = self.links[i]
            .as_mut()
            .filter(|l| !l.rx.is_empty() && !l.transparent)
        else {
            return Step::Fail(Failure::Ip(ErrInfo::NoData));
        };
        let (data, _) = link.rx.take(len);
        let rest = link.rx.len();
        let mode = if hex { 3 } else { 2 };
        let header = format!("+CIPRXGET: {mode},{i},{},{rest}", data.len());
        self.info(&header);
        if hex {
            let mut text = String::with_capacity(data.len() * 2);
            for b in &data {
                let _ = write!(text, "{b:02X}");
            }
            self.out.extend(text.as_bytes());
        } else {
            self.out.extend(&data);
        }
        self.after_buffer_read(i);
        Step::Next
    }

    /// A drained link that the peer closed is free again; a link whose buffer has room
    /// again reads from the network again.
    fn after_buffer_read(&mut self, i: usize) {
        let Some(link) = &self.links[i] else {
            return;
        };
        if link.rx.is_empty() && link.state == LinkState::PeerClosed {
            return self.drop_link(i);
        }
        if link.paused_rx && link.rx.len() <= self.config.limits.rx_buffer / 2 {
            self.set_link_pause(i, |l| &mut l.paused_rx, false);
        }
    }

    /// Leaving buffer access mode: what was buffered goes out as direct push, in chunks
    /// of at most 1500 bytes (manual §2.5).
    fn flush_buffers_as_push(&mut self) {
        for i in 0..LINKS {
            if self.is_data_link(i) {
                continue;
            }
            while let Some(link) = self.links[i].as_mut().filter(|l| !l.rx.is_empty()) {
                let remote = link.remote;
                let (data, from) = link.rx.take(MAX_PUSH);
                self.push_data(i, from.unwrap_or(remote), &data);
            }
            self.after_buffer_read(i);
        }
    }

    pub(super) fn on_data(&mut self, conn: ConnId, from: Option<SocketAddrV4>, data: &[u8]) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        let buffered = self.s.rxget == 1;
        let limit = self.config.limits.rx_buffer;
        let Some(link) = self.links[i].as_mut() else {
            return;
        };
        if link.state != LinkState::Open || data.is_empty() {
            return;
        }
        link.received += data.len() as u64;
        if link.transparent {
            return self.data_to_host(data);
        }
        if buffered {
            let was_empty = link.rx.is_empty();
            match from {
                Some(from) => link.rx.push_datagram(from, data),
                None => link.rx.push_stream(data),
            }
            let full = link.rx.len() >= limit;
            if was_empty {
                self.urc(&format!("+CIPRXGET: 1,{i}"));
            }
            if full {
                self.set_link_pause(i, |l| &mut l.paused_rx, true);
            }
        } else {
            let from = from.unwrap_or(link.remote);
            for chunk in data.chunks(MAX_PUSH) {
                self.push_data(i, from, chunk);
            }
        }
    }

    /// One direct-push report: `RECV FROM` and `+IPD` lines as configured, then the raw
    /// bytes (no CRLF after them), delayed by `AT+CIPCCFG` DelayTm.
    fn push_data(&mut self, i: usize, from: SocketAddrV4, data: &[u8]) {
        let mut lines = Vec::with_capacity(2);
        if self.s.cipsrip {
            lines.push(format!("RECV FROM:{}:{}", from.ip(), from.port()));
        }
        if self.s.ciphead {
            lines.push(if self.s.ccfg.header_type == 1 {
                format!("+RECEIVE,{i},{}", data.len())
            } else {
                format!("+IPD{}", data.len())
            });
        }
        let mut bytes = Vec::with_capacity(data.len() + 48);
        if !lines.is_empty() {
            bytes.extend(format!("\r\n{}\r\n", lines.join("\r\n")).as_bytes());
        }
        bytes.extend(data);
        let at = self.now + Duration::from_millis(self.s.ccfg.delay_ms.into());
        self.urc_bytes_at(at, bytes);
    }
}
