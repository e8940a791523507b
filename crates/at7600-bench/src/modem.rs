//! The host's side of an AT session, written straight on the port (no driver), with
//! the exact answers the manual and docs/data-mode.md give.

use crate::io::{within, Port};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::time::Duration;

/// Longest wait for one answer.
pub const ANSWER: Duration = Duration::from_secs(10);

/// An AT session with echo off.
pub struct Host {
    /// The port.
    pub port: Port,
}

impl Host {
    /// Opens the modem's port and turns echo off. The first command is repeated a few
    /// times: a PTY modem notices that its port was opened only after a moment.
    pub fn open(path: &Path) -> Result<Self> {
        let port = Port::open_tty(path)?;
        let mut host = Host { port };
        for _ in 0..10 {
            host.port.write_all(b"ATE0\r", within(ANSWER))?;
            if host
                .port
                .until(b"OK\r\n", within(Duration::from_millis(500)))
                .is_ok()
            {
                // Let a repeated ATE0's answer arrive and be dropped.
                while !host.port.is_quiet(Duration::from_millis(50)) {
                    let _ = host
                        .port
                        .until(b"OK\r\n", within(Duration::from_millis(100)));
                }
                return Ok(host);
            }
        }
        bail!("no answer to ATE0 on {}", path.display())
    }

    /// Writes `line` and waits for `answer` (which ends the exchange).
    pub fn command(&mut self, line: &str, answer: &str) -> Result<Vec<u8>> {
        self.port.write_all(line.as_bytes(), within(ANSWER))?;
        self.port
            .until(answer.as_bytes(), within(ANSWER))
            .with_context(|| format!("{:?}", line.trim_end()))
    }

    /// `AT+NETOPEN`: the PDP context on the real network.
    pub fn netopen(&mut self) -> Result<()> {
        self.command("AT+NETOPEN\r", "+NETOPEN: 0\r\n")?;
        Ok(())
    }

    /// `AT+CIPOPEN=<link>` to a TCP peer on 127.0.0.1 in command mode.
    pub fn open_link(&mut self, link: u8, port: u16) -> Result<()> {
        self.command(
            &format!("AT+CIPOPEN={link},\"TCP\",\"127.0.0.1\",{port}\r"),
            &format!("+CIPOPEN: {link},0\r\n"),
        )?;
        Ok(())
    }

    /// Transparent mode on link 0 to `port`: `AT+CIPMODE=1`, `AT+NETOPEN`,
    /// `AT+CIPOPEN=0` until `CONNECT 115200`.
    pub fn transparent(&mut self, port: u16) -> Result<()> {
        self.command("AT+CIPMODE=1\r", "OK\r\n")?;
        self.netopen()?;
        self.command(
            &format!("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",{port}\r"),
            "CONNECT 115200\r\n",
        )?;
        Ok(())
    }

    /// Reads the start of a direct-push frame (`[\r\nRECV FROM:ip:port]\r\n+IPD<n>\r\n`)
    /// and returns `n`.
    pub fn ipd_header(&mut self) -> Result<usize> {
        self.port.until(b"+IPD", within(ANSWER))?;
        let digits = self.port.until(b"\r\n", within(ANSWER))?;
        parse_len(&digits[..digits.len() - 2]).context("+IPD length")
    }
}

/// A decimal length.
pub fn parse_len(digits: &[u8]) -> Result<usize> {
    let text = std::str::from_utf8(digits).context("not text")?;
    text.trim()
        .parse()
        .with_context(|| format!("bad length {text:?}"))
}

/// The fields of `+CIPRXGET: 2,<link>,<read>,<rest>` after the `2,` (given up to its
/// `\r\n`): (read, rest).
pub fn parse_rxget(fields: &[u8]) -> Result<(usize, usize)> {
    let text = std::str::from_utf8(fields).context("not text")?;
    let mut parts = text.trim_end().split(',');
    let _link = parts.next();
    match (parts.next(), parts.next()) {
        (Some(read), Some(rest)) => Ok((
            read.trim().parse().context("read length")?,
            rest.trim().parse().context("rest length")?,
        )),
        _ => bail!("bad +CIPRXGET line {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciprxget_2_report_gives_read_and_rest() {
        assert_eq!(
            parse_rxget(b"1,1500,2000\r\n").expect("parsed"),
            (1500, 2000)
        );
        assert!(parse_rxget(b"1,x,0\r\n").is_err());
        assert!(parse_rxget(b"1\r\n").is_err());
    }

    /// A PTY pair: what the test writes on the master, the host reads on the slave.
    fn pty_host() -> (Port, Host) {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        crate::io::make_raw(&pty.slave).expect("raw");
        let master = Port::new(pty.master).expect("master");
        let port = Port::new(pty.slave).expect("slave");
        (master, Host { port })
    }

    /// Reads `frames` as direct push and checks them against `sent`.
    fn read_push(frames: &[u8], sent: &[u8]) -> Result<()> {
        let (mut modem, mut host) = pty_host();
        modem.write_all(frames, within(ANSWER))?;
        let mut verifier = crate::payload::Verifier::new(sent.into());
        while verifier.remaining() > 0 {
            let n = host.ipd_header()?;
            host.port.take(n, within(ANSWER), |b| verifier.feed(b))?;
        }
        verifier.finish()
    }

    #[test]
    fn direct_push_frames_are_parsed_and_their_data_checked() {
        let frames = b"\r\nRECV FROM:127.0.0.1:5253\r\n+IPD5\r\n+IPD1\r\nRECV FROM:127.0.0.1:5253\r\n+IPD3\r\n\r\nx";
        read_push(frames, b"+IPD1\r\nx").expect("the bytes that were sent");
        let err = read_push(frames, b"+IPD1\r\ny").expect_err("one byte differs");
        assert!(err.to_string().contains("byte 7"), "{err}");
    }

    #[test]
    fn lengths_are_decimal() {
        assert_eq!(parse_len(b"1500").expect("parsed"), 1500);
        assert!(parse_len(b"15a").is_err());
    }
}
