//! `at7600 ctl`: the control API's command-line client. Plain HTTP/1.1 over a loopback
//! TCP connection; no client library needed for five requests.

use crate::cli::{CtlAction, CtlArgs};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one `ctl` action and prints the answer.
pub fn run(args: &CtlArgs) -> Result<()> {
    let (method, path, body) = match &args.action {
        CtlAction::List => ("GET", "/modems".to_string(), None),
        CtlAction::Show { id } => ("GET", format!("/modems/{id}"), None),
        CtlAction::Fault { id, json } => {
            ("POST", format!("/modems/{id}/fault"), Some(json.clone()))
        }
        CtlAction::Dtr { id, state } => (
            "POST",
            format!("/modems/{id}/dtr"),
            Some(format!("{{\"on\":{}}}", state == "on")),
        ),
        CtlAction::Metrics => ("GET", "/metrics".to_string(), None),
        CtlAction::Health => ("GET", "/health".to_string(), None),
    };
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var(crate::config::TOKEN_ENV).ok());
    // A name such as localhost may resolve to ::1 and 127.0.0.1: the first that
    // answers is the daemon.
    let mut answer = Err(anyhow::anyhow!("no address to try"));
    for addr in control_addresses(&args.control)? {
        answer = request(addr, token.as_deref(), method, &path, body.as_deref());
        if answer.is_ok() {
            break;
        }
    }
    let (status, text) = answer?;
    println!("{}", text.trim_end());
    if !(200..300).contains(&status) {
        bail!("the daemon answered {status}");
    }
    Ok(())
}

/// `--control` / `AT7600_CONTROL`: `HOST:PORT`, where HOST is a name or an address
/// (`localhost:7600`, `127.0.0.1:7600`, `[::1]:7600`); every address it resolves to.
pub fn control_addresses(given: &str) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = given
        .to_socket_addrs()
        .with_context(|| {
            format!(
                "the control address {given:?} is not a reachable HOST:PORT (e.g. 127.0.0.1:7600)"
            )
        })?
        .collect();
    if addrs.is_empty() {
        bail!("the control address {given:?} resolves to no address");
    }
    Ok(addrs)
}

/// One request, with the bearer token if given; returns the status code and the body.
pub fn request(
    addr: SocketAddr,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .with_context(|| format!("cannot reach the control API at {addr}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).context("reading the answer")?;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        bail!("malformed answer");
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("malformed status line")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

/// Undoes chunked transfer encoding.
fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
