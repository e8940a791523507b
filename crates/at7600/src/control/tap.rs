//! What a modem's line carries, for the dashboard: the live transcript (only while
//! someone watches) and the last command lines the host typed.

use super::api::{TapDir, TapLine, COMMAND_CHARS, LAST_COMMANDS};
use std::collections::VecDeque;
use tokio::sync::broadcast;

/// Pieces of the transcript held for a slow reader; past that the oldest are dropped
/// for it (it is told how many), and the modem never waits.
const TAP_PIECES: usize = 256;

/// The longest piece of the transcript: a burst of data is cut into pieces this size,
/// so what a slow reader can hold back is at most [`TAP_PIECES`] times it.
const PIECE_BYTES: usize = 256;

/// A modem's transcript tap. Costs one branch per host read and write while nobody
/// watches: the channel exists only from the first subscription until its last reader
/// is gone.
#[derive(Debug, Default)]
pub struct Tap {
    tx: Option<broadcast::Sender<TapLine>>,
    last: LastCommands,
}

impl Tap {
    /// A new reader of everything from now on.
    pub fn subscribe(&mut self) -> broadcast::Receiver<TapLine> {
        match &self.tx {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(TAP_PIECES);
                self.tx = Some(tx);
                rx
            }
        }
    }

    /// Bytes from the host; `ran` says whether they ran a command: only then are the
    /// lines they end taken as commands (payload, in data mode or after a `>` prompt,
    /// also holds line ends but runs nothing).
    pub fn host_in(&mut self, bytes: &[u8], ran: bool) {
        self.last.feed(bytes, ran);
        self.send(TapDir::In, bytes);
    }

    /// Bytes to the host.
    pub fn host_out(&mut self, bytes: &[u8]) {
        self.send(TapDir::Out, bytes);
    }

    /// The last command lines, oldest first.
    pub fn last_commands(&self) -> Vec<String> {
        self.last.lines.iter().cloned().collect()
    }

    fn send(&mut self, dir: TapDir, bytes: &[u8]) {
        let Some(tx) = &self.tx else {
            return;
        };
        if tx.receiver_count() == 0 {
            // The last reader left: back to costing nothing.
            self.tx = None;
            return;
        }
        for piece in bytes.chunks(PIECE_BYTES) {
            let line = TapLine {
                dir,
                text: at7600_core::escape::c_string(piece),
            };
            // Never blocks; a reader that fell behind loses the oldest pieces.
            let _ = tx.send(line);
        }
    }
}

/// The last [`LAST_COMMANDS`] lines the host typed that ran as commands.
#[derive(Debug, Default)]
struct LastCommands {
    /// The line being typed, at most [`COMMAND_CHARS`] bytes of it.
    partial: Vec<u8>,
    lines: VecDeque<String>,
}

impl LastCommands {
    fn feed(&mut self, bytes: &[u8], ran: bool) {
        if !ran {
            // Nothing ran: only the line still being typed matters, found from the end
            // (a burst of payload is not walked byte by byte).
            let tail = match bytes.iter().rposition(|&b| b == b'\r' || b == b'\n') {
                Some(end) => {
                    self.partial.clear();
                    &bytes[end + 1..]
                }
                None => bytes,
            };
            let room = COMMAND_CHARS.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&tail[..tail.len().min(room)]);
            return;
        }
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                let line = std::mem::take(&mut self.partial);
                if line.len() >= 2 && line[..2].eq_ignore_ascii_case(b"AT") {
                    if self.lines.len() == LAST_COMMANDS {
                        self.lines.pop_front();
                    }
                    self.lines
                        .push_back(String::from_utf8_lossy(&line).into_owned());
                }
            } else if self.partial.len() < COMMAND_CHARS {
                self.partial.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_commands_are_the_lines_that_ran() {
        let mut tap = Tap::default();
        tap.host_in(b"AT", false);
        tap.host_in(b"+CSQ\r", true);
        tap.host_in(b"hello\rATX\r", false);
        for n in 0..6 {
            tap.host_in(format!("ATE{n}\r").as_bytes(), true);
        }
        assert_eq!(
            tap.last_commands(),
            ["ATE1", "ATE2", "ATE3", "ATE4", "ATE5"]
        );
    }

    #[test]
    fn a_slow_reader_loses_pieces_and_is_told() {
        let mut tap = Tap::default();
        tap.host_out(b"unseen");
        let mut rx = tap.subscribe();
        for _ in 0..TAP_PIECES + 10 {
            tap.host_out(b"OK\r\n");
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(10))
        ));
        let line = rx.try_recv().expect("the newest pieces are kept");
        assert_eq!(line.text, "OK\\r\\n");
        drop(rx);
        tap.host_out(b"x");
        assert!(tap.tx.is_none(), "no reader, no channel");
    }
}
