//! `at7600 ctl`: the control API's command-line client, on ureq (a small blocking
//! HTTP client: no async runtime and, without its TLS feature, no TLS stack for a
//! loopback API; see `docs/control-api.md`).

use crate::cli::{CtlAction, CtlArgs};
use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, ToSocketAddrs};
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
    let mut reached = None;
    for addr in control_addresses(&args.control)? {
        answer = request(addr, token.as_deref(), method, &path, body.as_deref());
        if answer.is_ok() {
            reached = Some(addr);
            break;
        }
    }
    let (status, text) = answer?;
    println!("{}", text.trim_end());
    if !(200..300).contains(&status) {
        // A body the daemon did not take as a fault: say which ones it takes, from its
        // own description.
        if let (CtlAction::Fault { .. }, Some(addr), 400 | 422) = (&args.action, reached, status) {
            if let Some(kinds) = fault_kinds(addr, token.as_deref()) {
                eprintln!("{kinds}");
            }
        }
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

/// One request (`method` such as `GET` or `POST`; a `body` is sent as JSON), with the
/// bearer token if given; returns the status code and the body (whatever the status:
/// the API's errors are JSON bodies worth showing).
pub fn request(
    addr: SocketAddr,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        // The API is on this host or a named one: never through an HTTP proxy from the
        // environment, and never elsewhere by a redirect.
        .proxy(None)
        .max_redirects(0)
        .build()
        .into();
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("Content-Type", "application/json");
    }
    let req = req
        .body(body.unwrap_or("").to_string())
        .with_context(|| format!("cannot make a {method} request for {path}"))?;
    let answer = agent.run(req);
    let mut answer = answer.with_context(|| format!("cannot reach the control API at {addr}"))?;
    let status = answer.status().as_u16();
    let text = answer
        .body_mut()
        .read_to_string()
        .context("reading the answer")?;
    Ok((status, text))
}

/// The fault kinds the daemon takes, with an example of each, from its
/// `/openapi.json`; `None` if it cannot be read.
fn fault_kinds(addr: SocketAddr, token: Option<&str>) -> Option<String> {
    let (status, text) = request(addr, token, "GET", "/openapi.json", None).ok()?;
    if status != 200 {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let kinds = doc["components"]["schemas"]["Fault"]["oneOf"].as_array()?;
    let mut out = String::from("fault kinds this daemon takes:");
    for kind in kinds {
        let example = kind["examples"][0].to_string();
        let title = kind["title"].as_str().unwrap_or("?");
        out.push_str(&format!("\n  {title:<14} {example}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ctl_fault_help_names_every_kind() {
        for (kind, _, _) in crate::control::openapi::FAULTS {
            assert!(
                crate::cli::FAULT_KINDS.contains(&format!("\"kind\":\"{kind}\"")),
                "{kind} is missing from ctl fault --help"
            );
        }
    }
}
