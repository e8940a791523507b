//! Splitting the module's output into frames: lines, the `>` prompt, and counted raw
//! payloads. Sans-IO: feed bytes in any chunking, take frames out.
//!
//! Payloads are read by count, never by line: the line `+CIPRXGET: 2,<n>,<read>,<rest>`
//! is followed by exactly `<read>` raw bytes, and `+IPD<len>` / `+RECEIVE,<n>,<len>` by
//! `<len>`. In transparent data mode everything is raw until `\r\nCLOSED\r\n` (or the
//! `\r\nOK\r\n` that answers a `+++` escape, when one was sent).

use std::collections::VecDeque;

/// One unit of the module's output.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Frame {
    /// A non-empty line, without its `\r\n`.
    Line(String),
    /// The `>` prompt of `AT+CIPSEND`.
    Prompt,
    /// The raw bytes announced by the previous line.
    Payload(Vec<u8>),
    /// Transparent-mode data.
    Raw(Vec<u8>),
}

const CLOSED: &[u8] = b"\r\nCLOSED\r\n";
const ESCAPED: &[u8] = b"\r\nOK\r\n";

/// The frame splitter.
#[derive(Default, Debug)]
pub struct Parser {
    buf: Vec<u8>,
    /// Raw bytes still owed to the current payload.
    owed: usize,
    payload: Vec<u8>,
    raw: bool,
    /// In raw mode, whether `\r\nOK\r\n` also ends data mode (a `+++` was sent).
    escaping: bool,
    frames: VecDeque<Frame>,
}

impl Parser {
    /// A parser in line mode.
    pub fn new() -> Self {
        Self::default()
    }

    /// Switches to transparent data mode (after `CONNECT`).
    pub fn set_raw(&mut self) {
        self.raw = true;
        self.escaping = false;
    }

    /// A `+++` was sent: `\r\nOK\r\n` now also ends data mode.
    pub fn set_escaping(&mut self) {
        self.escaping = true;
    }

    /// Whether the parser is in data mode.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// Adds bytes from the line.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.run();
    }

    /// The next complete frame.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    /// Data-mode bytes held back because they might start `\r\nCLOSED\r\n`: released
    /// when nothing more arrived for a while.
    pub fn flush_raw(&mut self) -> Option<Frame> {
        if self.raw && !self.buf.is_empty() {
            return Some(Frame::Raw(std::mem::take(&mut self.buf)));
        }
        None
    }

    /// Whether data-mode bytes are held back.
    pub fn holds_raw(&self) -> bool {
        self.raw && !self.buf.is_empty()
    }

    fn run(&mut self) {
        loop {
            let progressed = if self.raw {
                self.run_raw()
            } else if self.owed > 0 {
                self.run_payload()
            } else {
                self.run_lines()
            };
            if !progressed {
                return;
            }
        }
    }

    fn run_payload(&mut self) -> bool {
        if self.buf.is_empty() {
            return false;
        }
        let n = self.owed.min(self.buf.len());
        self.payload.extend(self.buf.drain(..n));
        self.owed -= n;
        if self.owed == 0 {
            self.frames
                .push_back(Frame::Payload(std::mem::take(&mut self.payload)));
        }
        true
    }

    fn run_lines(&mut self) -> bool {
        let start = self
            .buf
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(self.buf.len());
        self.buf.drain(..start);
        match self.buf.first() {
            None => false,
            Some(b'>') => {
                // The prompt has no line end; a real module may add one space.
                let n = if self.buf.get(1) == Some(&b' ') { 2 } else { 1 };
                self.buf.drain(..n);
                self.frames.push_back(Frame::Prompt);
                true
            }
            Some(_) => {
                let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                    return false;
                };
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line).trim().to_string();
                if text.starts_with("CONNECT") && text != "CONNECT FAIL" {
                    // Data mode starts with the very next byte, which may already be
                    // in the buffer.
                    self.set_raw();
                }
                self.owed = payload_len(&text);
                if self.owed == 0 && announces_payload(&text) {
                    self.frames.push_back(Frame::Line(text));
                    self.frames.push_back(Frame::Payload(Vec::new()));
                } else {
                    self.frames.push_back(Frame::Line(text));
                }
                true
            }
        }
    }

    fn run_raw(&mut self) -> bool {
        if self.buf.is_empty() {
            return false;
        }
        let mut ends: Vec<(&[u8], &str)> = vec![(CLOSED, "CLOSED")];
        if self.escaping {
            ends.push((ESCAPED, "OK"));
        }
        let found = ends
            .iter()
            .filter_map(|(pat, name)| find(&self.buf, pat).map(|at| (at, pat.len(), *name)))
            .min_by_key(|(at, _, _)| *at);
        if let Some((at, len, name)) = found {
            let data: Vec<u8> = self.buf.drain(..at).collect();
            self.buf.drain(..len);
            if !data.is_empty() {
                self.frames.push_back(Frame::Raw(data));
            }
            self.frames.push_back(Frame::Line(name.to_string()));
            self.raw = false;
            self.escaping = false;
            return true;
        }
        // Hold back a tail that could be the start of an end marker.
        let keep = ends
            .iter()
            .map(|(pat, _)| partial_suffix(&self.buf, pat))
            .max()
            .unwrap_or(0);
        let n = self.buf.len() - keep;
        if n > 0 {
            let data: Vec<u8> = self.buf.drain(..n).collect();
            self.frames.push_back(Frame::Raw(data));
        }
        false
    }
}

/// Raw bytes that follow a line: `+CIPRXGET: 2,<n>,<read>,<rest>`, `+IPD<len>`,
/// `+RECEIVE,<n>,<len>`, `+CCHRECV: DATA,<s>,<len>`.
fn payload_len(line: &str) -> usize {
    if let Some(rest) = line.strip_prefix("+CCHRECV: DATA,") {
        return rest
            .split(',')
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
    }
    if let Some(rest) = line.strip_prefix("+CIPRXGET: 2,") {
        return rest
            .split(',')
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
    }
    if let Some(rest) = line.strip_prefix("+IPD") {
        return rest.trim().parse().unwrap_or(0);
    }
    if let Some(rest) = line.strip_prefix("+RECEIVE,") {
        return rest
            .split(',')
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
    }
    0
}

fn announces_payload(line: &str) -> bool {
    line.starts_with("+CIPRXGET: 2,")
        || line.starts_with("+IPD")
        || line.starts_with("+RECEIVE,")
        || line.starts_with("+CCHRECV: DATA,")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest suffix of `buf` that is a proper prefix of `pat`.
fn partial_suffix(buf: &[u8], pat: &[u8]) -> usize {
    (1..pat.len().min(buf.len() + 1))
        .rev()
        .find(|&k| buf[buf.len() - k..] == pat[..k])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Frame {
        Frame::Line(s.to_string())
    }

    /// Frames from `input` fed in two chunks split at every position, all equal.
    fn frames_at_every_split(input: &[u8]) -> Vec<Frame> {
        let mut whole = Parser::new();
        whole.feed(input);
        let expected: Vec<Frame> = std::iter::from_fn(|| whole.next_frame()).collect();
        for split in 0..=input.len() {
            let mut p = Parser::new();
            p.feed(&input[..split]);
            let mut got: Vec<Frame> = std::iter::from_fn(|| p.next_frame()).collect();
            p.feed(&input[split..]);
            got.extend(std::iter::from_fn(|| p.next_frame()));
            assert_eq!(got, expected, "split at {split}");
        }
        // And one byte at a time.
        let mut p = Parser::new();
        let mut got = Vec::new();
        for b in input {
            p.feed(std::slice::from_ref(b));
            got.extend(std::iter::from_fn(|| p.next_frame()));
        }
        assert_eq!(got, expected, "byte by byte");
        expected
    }

    #[test]
    fn netopen_ok_then_urc() {
        let f = frames_at_every_split(b"\r\nOK\r\n\r\n+NETOPEN: 0\r\n");
        assert_eq!(f, [line("OK"), line("+NETOPEN: 0")]);
    }

    #[test]
    fn echo_then_information_and_final() {
        let f = frames_at_every_split(b"AT+IPADDR\r\r\n+IPADDR: 10.148.0.17\r\n\r\nOK\r\n");
        assert_eq!(
            f,
            [line("AT+IPADDR"), line("+IPADDR: 10.148.0.17"), line("OK")]
        );
    }

    #[test]
    fn cipsend_prompt_then_report() {
        let f = frames_at_every_split(b"\r\n>\r\nOK\r\n\r\n+CIPSEND: 1,5,5\r\n");
        assert_eq!(f, [Frame::Prompt, line("OK"), line("+CIPSEND: 1,5,5")]);
    }

    #[test]
    fn ciprxget_payload_is_read_by_count_even_with_line_ends_inside() {
        // Manual 6.2.2.3, and a payload that itself looks like lines and a prompt.
        let f = frames_at_every_split(b"\r\n+CIPRXGET: 2,1,5,11\r\ndata \r\nOK\r\n");
        assert_eq!(
            f,
            [
                line("+CIPRXGET: 2,1,5,11"),
                Frame::Payload(b"data ".to_vec()),
                line("OK")
            ]
        );
        let f = frames_at_every_split(b"\r\n+CIPRXGET: 2,3,8,0\r\n>\r\nOK\r\n\n\r\nOK\r\n");
        assert_eq!(
            f,
            [
                line("+CIPRXGET: 2,3,8,0"),
                Frame::Payload(b">\r\nOK\r\n\n".to_vec()),
                line("OK")
            ]
        );
    }

    #[test]
    fn urcs_and_errors_are_lines() {
        let input = b"\r\n+CIPRXGET: 1,1\r\n\r\n+IPCLOSE: 1,1\r\n\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n\r\n+CLIENT: 0,1,192.168.108.5:57202\r\n\r\n+IP ERROR: No data\r\n\r\nERROR\r\n";
        let f = frames_at_every_split(input);
        assert_eq!(
            f,
            [
                line("+CIPRXGET: 1,1"),
                line("+IPCLOSE: 1,1"),
                line("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY"),
                line("+CLIENT: 0,1,192.168.108.5:57202"),
                line("+IP ERROR: No data"),
                line("ERROR"),
            ]
        );
    }

    #[test]
    fn direct_push_headers_announce_raw_data() {
        let f = frames_at_every_split(
            b"\r\nRECV FROM:117.131.85.139:5253\r\n+IPD16\r\ndata from server\r\nRECV FROM:1.2.3.4:5\r\n+RECEIVE,2,3\r\n\r\n\n",
        );
        assert_eq!(
            f,
            [
                line("RECV FROM:117.131.85.139:5253"),
                line("+IPD16"),
                Frame::Payload(b"data from server".to_vec()),
                line("RECV FROM:1.2.3.4:5"),
                line("+RECEIVE,2,3"),
                Frame::Payload(b"\r\n\n".to_vec()),
            ]
        );
    }

    #[test]
    fn cchrecv_data_frames_are_read_by_count_without_a_line_end_after_them() {
        // ssl.md §10.2: `OK` first, then the frames, each `<k>` raw bytes with nothing
        // after them, then the trailer.
        let f = frames_at_every_split(
            b"\r\nOK\r\n\r\n+CCHRECV: DATA,0,4\r\n\r\nOK\r\n+CCHRECV: DATA,0,2\r\n>\n\r\n+CCHRECV: 0,0\r\n",
        );
        assert_eq!(
            f,
            [
                line("OK"),
                line("+CCHRECV: DATA,0,4"),
                Frame::Payload(b"\r\nOK".to_vec()),
                line("+CCHRECV: DATA,0,2"),
                Frame::Payload(b">\n".to_vec()),
                line("+CCHRECV: 0,0"),
            ]
        );
    }

    #[test]
    fn transparent_data_until_closed() {
        let mut p = Parser::new();
        p.feed(b"\r\nCONNECT 115200\r\n");
        assert_eq!(p.next_frame(), Some(line("CONNECT 115200")));
        p.set_raw();
        p.feed(b"DATA FROM SERVER\r\n");
        // "\r\n" might start "\r\nCLOSED": held back until flushed or completed.
        assert_eq!(
            p.next_frame(),
            Some(Frame::Raw(b"DATA FROM SERVER".to_vec()))
        );
        assert_eq!(p.next_frame(), None);
        assert!(p.holds_raw());
        p.feed(b"more\r\nCLOSED\r\n\r\n+CIPCLOSE: 0,0\r\n");
        let got: Vec<Frame> = std::iter::from_fn(|| p.next_frame()).collect();
        assert_eq!(
            got,
            [
                Frame::Raw(b"\r\nmore".to_vec()),
                line("CLOSED"),
                line("+CIPCLOSE: 0,0")
            ]
        );
        assert!(!p.is_raw());
    }

    #[test]
    fn data_right_behind_connect_is_raw_at_every_split() {
        let input = b"\r\nCONNECT 115200\r\nbye\r\nCLOSED\r\n\r\n+CIPCLOSE: 0,0\r\n";
        for split in 0..=input.len() {
            let mut p = Parser::new();
            let mut frames = Vec::new();
            for part in [&input[..split], &input[split..]] {
                p.feed(part);
                frames.extend(std::iter::from_fn(|| p.next_frame()));
            }
            let mut raw = Vec::new();
            let mut lines = Vec::new();
            for f in frames {
                match f {
                    Frame::Raw(d) => raw.extend(d),
                    Frame::Line(l) => lines.push(l),
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(raw, b"bye", "split at {split}");
            assert_eq!(lines, ["CONNECT 115200", "CLOSED", "+CIPCLOSE: 0,0"]);
        }
    }

    #[test]
    fn transparent_escape_answer_ends_data_mode_only_after_plus() {
        let mut p = Parser::new();
        p.set_raw();
        p.feed(b"x\r\nOK\r\ny");
        let got: Vec<Frame> = std::iter::from_fn(|| p.next_frame()).collect();
        assert_eq!(got, [Frame::Raw(b"x\r\nOK\r\ny".to_vec())]);
        p.set_escaping();
        p.feed(b"z\r\nOK\r\n");
        let got: Vec<Frame> = std::iter::from_fn(|| p.next_frame()).collect();
        assert_eq!(got, [Frame::Raw(b"z".to_vec()), line("OK")]);
        assert_eq!(p.flush_raw(), None);
    }
}
