//! Reading the module's lines: final result codes and unsolicited result codes.

use std::net::SocketAddrV4;

/// How a command ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <text>`
    Cme(String),
    /// `CONNECT [<text>]`: the line is in data mode now.
    Connect,
    /// `CONNECT FAIL` or `NO CARRIER`.
    NoConnect(String),
}

/// The final result code on this line, if it is one.
pub fn final_code(line: &str) -> Option<Final> {
    match line {
        "OK" => Some(Final::Ok),
        "ERROR" => Some(Final::Error),
        "NO CARRIER" | "CONNECT FAIL" => Some(Final::NoConnect(line.to_string())),
        _ if line.starts_with("+CME ERROR:") => Some(Final::Cme(
            line.trim_start_matches("+CME ERROR:").trim().to_string(),
        )),
        _ if line == "CONNECT" || line.starts_with("CONNECT ") => Some(Final::Connect),
        _ => None,
    }
}

/// An unsolicited result code (or a line shaped like one, which a command in flight
/// may claim as its own response).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Urc {
    /// `+NETOPEN: <err>`
    NetOpen(u8),
    /// `+NETCLOSE: <err>`
    NetClose(u8),
    /// `+CIPOPEN: <link>,<err>`
    CipOpen {
        /// Link.
        link: u8,
        /// Result.
        err: u8,
    },
    /// `+CIPSEND: <link>,<req>,<cnf>`
    CipSend {
        /// Link.
        link: u8,
        /// Requested.
        req: usize,
        /// Confirmed (-1 disconnected).
        cnf: i64,
    },
    /// `+CIPCLOSE: <link>,<err>`
    CipClose {
        /// Link.
        link: u8,
        /// Result.
        err: u8,
    },
    /// `+SERVERSTOP: <index>,<err>`
    ServerStop {
        /// Server index.
        index: u8,
        /// Result.
        err: u8,
    },
    /// `+CIPRXGET: 1,<link>`: the link's buffer went from empty to non-empty.
    RxData(u8),
    /// `+IPCLOSE: <link>,<reason>`
    IpClose {
        /// Link.
        link: u8,
        /// Reason number.
        reason: u8,
    },
    /// `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY`
    NetworkLost,
    /// `+CLIENT: <link>,<server_index>,<ip>:<port>`
    Client {
        /// Link of the accepted socket.
        link: u8,
        /// Server index.
        server: u8,
        /// The peer.
        peer: SocketAddrV4,
    },
    /// `RECV FROM:<ip>:<port>` before a direct-push payload.
    RecvFrom(SocketAddrV4),
    /// `+RECEIVE,<link>,<len>` before a direct-push payload.
    Receive(u8),
    /// `CLOSED`: the transparent link ended.
    Closed,
}

fn nums<const N: usize>(text: &str) -> Option<[i64; N]> {
    let mut out = [0i64; N];
    let mut parts = text.split(',');
    for slot in out.iter_mut() {
        *slot = parts.next()?.trim().parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn small(v: i64) -> Option<u8> {
    u8::try_from(v).ok()
}

/// The URC on this line, if it is one.
pub fn parse_urc(line: &str) -> Option<Urc> {
    if line == "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY" {
        return Some(Urc::NetworkLost);
    }
    if line == "CLOSED" {
        return Some(Urc::Closed);
    }
    if let Some(addr) = line.strip_prefix("RECV FROM:") {
        return addr.trim().parse().ok().map(Urc::RecvFrom);
    }
    if let Some(rest) = line.strip_prefix("+RECEIVE,") {
        let [link, _len] = nums::<2>(rest)?;
        return small(link).map(Urc::Receive);
    }
    let (head, rest) = line.split_once(": ")?;
    match head {
        "+NETOPEN" => small(nums::<1>(rest)?[0]).map(Urc::NetOpen),
        "+NETCLOSE" => small(nums::<1>(rest)?[0]).map(Urc::NetClose),
        "+CIPOPEN" => {
            let [link, err] = nums::<2>(rest)?;
            Some(Urc::CipOpen {
                link: small(link)?,
                err: small(err)?,
            })
        }
        "+CIPSEND" => {
            let [link, req, cnf] = nums::<3>(rest)?;
            Some(Urc::CipSend {
                link: small(link)?,
                req: usize::try_from(req).ok()?,
                cnf,
            })
        }
        "+CIPCLOSE" => {
            let [link, err] = nums::<2>(rest)?;
            Some(Urc::CipClose {
                link: small(link)?,
                err: small(err)?,
            })
        }
        "+SERVERSTOP" => {
            let [index, err] = nums::<2>(rest)?;
            Some(Urc::ServerStop {
                index: small(index)?,
                err: small(err)?,
            })
        }
        "+CIPRXGET" => {
            let [mode, link] = nums::<2>(rest)?;
            (mode == 1).then_some(Urc::RxData(small(link)?))
        }
        "+IPCLOSE" => {
            let [link, reason] = nums::<2>(rest)?;
            Some(Urc::IpClose {
                link: small(link)?,
                reason: small(reason)?,
            })
        }
        "+CLIENT" => {
            let mut parts = rest.splitn(3, ',');
            let link = parts.next()?.trim().parse().ok()?;
            let server = parts.next()?.trim().parse().ok()?;
            let peer = parts.next()?.trim().trim_matches('"').parse().ok()?;
            Some(Urc::Client { link, server, peer })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urcs_from_the_manual() {
        assert_eq!(parse_urc("+NETOPEN: 0"), Some(Urc::NetOpen(0)));
        assert_eq!(
            parse_urc("+CIPOPEN: 1,0"),
            Some(Urc::CipOpen { link: 1, err: 0 })
        );
        assert_eq!(
            parse_urc("+CIPSEND: 1,10,10"),
            Some(Urc::CipSend {
                link: 1,
                req: 10,
                cnf: 10
            })
        );
        assert_eq!(
            parse_urc("+CIPSEND: 2,5,-1"),
            Some(Urc::CipSend {
                link: 2,
                req: 5,
                cnf: -1
            })
        );
        assert_eq!(parse_urc("+CIPRXGET: 1,1"), Some(Urc::RxData(1)));
        assert_eq!(parse_urc("+CIPRXGET: 4,1,16"), None);
        assert_eq!(parse_urc("+CIPRXGET: 2,1,5,11"), None);
        assert_eq!(
            parse_urc("+IPCLOSE: 3,1"),
            Some(Urc::IpClose { link: 3, reason: 1 })
        );
        assert_eq!(
            parse_urc("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY"),
            Some(Urc::NetworkLost)
        );
        assert_eq!(
            parse_urc("+CLIENT: 0,1,192.168.108.5:57202"),
            Some(Urc::Client {
                link: 0,
                server: 1,
                peer: "192.168.108.5:57202".parse().unwrap()
            })
        );
        assert_eq!(
            parse_urc("RECV FROM:117.131.85.139:5253"),
            Some(Urc::RecvFrom("117.131.85.139:5253".parse().unwrap()))
        );
        assert_eq!(parse_urc("+RECEIVE,4,16"), Some(Urc::Receive(4)));
        assert_eq!(parse_urc("+CIPOPEN: 1,\"TCP\",\"1.2.3.4\",80,-1"), None);
        assert_eq!(parse_urc("+CIPOPEN: 1"), None);
        assert_eq!(parse_urc("+CIPCLOSE: 0,1,0,0,0,0,0,0,0,0"), None);
    }

    #[test]
    fn final_codes() {
        assert_eq!(final_code("OK"), Some(Final::Ok));
        assert_eq!(final_code("ERROR"), Some(Final::Error));
        assert_eq!(final_code("CONNECT 115200"), Some(Final::Connect));
        assert_eq!(
            final_code("CONNECT FAIL"),
            Some(Final::NoConnect("CONNECT FAIL".into()))
        );
        assert_eq!(
            final_code("+CME ERROR: unknown"),
            Some(Final::Cme("unknown".into()))
        );
        assert_eq!(final_code("+IP ERROR: No data"), None);
    }
}
