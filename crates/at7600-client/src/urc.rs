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
    /// `+CCHSTART: <err>` (ssl.md §6).
    CchStart(u8),
    /// `+CCHSTOP: <err>`.
    CchStop(u8),
    /// `+CCH: CCH STOP`: the a76xx service stopped because the network went (§11.3).
    CchServiceStopped,
    /// `+CCHOPEN: <session>,<err>`.
    CchOpen {
        /// Session (0-1).
        session: u8,
        /// Result (ssl.md §13).
        err: u8,
    },
    /// `+CCHSEND: <session>,<err>`: a send report.
    CchSend {
        /// Session.
        session: u8,
        /// Result.
        err: u8,
    },
    /// `+CCHCLOSE: <session>,<err>`.
    CchClose {
        /// Session.
        session: u8,
        /// Result.
        err: u8,
    },
    /// `+CCHEVENT: <session>,RECV EVENT`: the session's receive cache went from empty
    /// to non-empty (manual receive mode).
    CchEvent(u8),
    /// `+CCHRECV: DATA,<session>,<len>`, followed by `<len>` raw bytes.
    CchData {
        /// Session.
        session: u8,
        /// Bytes that follow.
        len: usize,
    },
    /// `+CCHRECV: <session>,<err>`: the end of an `AT+CCHRECV` block, or its refusal.
    CchRecv {
        /// Session.
        session: u8,
        /// Result (0 after data, 11 nothing cached, 4 peer closed and nothing cached).
        err: u8,
    },
    /// `+CCH_PEER_CLOSED: <session>`: the server ended the session.
    CchPeerClosed(u8),
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
    if line == "+CCH: CCH STOP" {
        return Some(Urc::CchServiceStopped);
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
        "+CCHSTART" => small(nums::<1>(rest)?[0]).map(Urc::CchStart),
        "+CCHSTOP" => small(nums::<1>(rest)?[0]).map(Urc::CchStop),
        "+CCHOPEN" | "+CCHSEND" | "+CCHCLOSE" => {
            let [session, err] = nums::<2>(rest)?;
            let (session, err) = (small(session)?, small(err)?);
            Some(match head {
                "+CCHOPEN" => Urc::CchOpen { session, err },
                "+CCHSEND" => Urc::CchSend { session, err },
                _ => Urc::CchClose { session, err },
            })
        }
        "+CCHEVENT" => {
            let (session, what) = rest.split_once(',')?;
            (what.trim() == "RECV EVENT").then_some(Urc::CchEvent(session.trim().parse().ok()?))
        }
        "+CCHRECV" => {
            if let Some(data) = rest.strip_prefix("DATA,") {
                let [session, len] = nums::<2>(data)?;
                return Some(Urc::CchData {
                    session: small(session)?,
                    len: usize::try_from(len).ok()?,
                });
            }
            // `LEN,<a>,<b>` (the read form's answer) is no URC: `nums` refuses it.
            let [session, err] = nums::<2>(rest)?;
            Some(Urc::CchRecv {
                session: small(session)?,
                err: small(err)?,
            })
        }
        "+CCH_PEER_CLOSED" => small(nums::<1>(rest)?[0]).map(Urc::CchPeerClosed),
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
    fn urcs_of_the_ssl_set() {
        // ssl.md §11.4, as printed in §15.
        assert_eq!(parse_urc("+CCHSTART: 0"), Some(Urc::CchStart(0)));
        assert_eq!(parse_urc("+CCHSTOP: 0"), Some(Urc::CchStop(0)));
        assert_eq!(parse_urc("+CCH: CCH STOP"), Some(Urc::CchServiceStopped));
        assert_eq!(
            parse_urc("+CCHOPEN: 1,19"),
            Some(Urc::CchOpen {
                session: 1,
                err: 19
            })
        );
        assert_eq!(
            parse_urc("+CCHSEND: 0,0"),
            Some(Urc::CchSend { session: 0, err: 0 })
        );
        assert_eq!(
            parse_urc("+CCHCLOSE: 1,0"),
            Some(Urc::CchClose { session: 1, err: 0 })
        );
        assert_eq!(parse_urc("+CCHEVENT: 0,RECV EVENT"), Some(Urc::CchEvent(0)));
        assert_eq!(
            parse_urc("+CCHRECV: DATA,1,1024"),
            Some(Urc::CchData {
                session: 1,
                len: 1024
            })
        );
        assert_eq!(
            parse_urc("+CCHRECV: 0,4"),
            Some(Urc::CchRecv { session: 0, err: 4 })
        );
        assert_eq!(
            parse_urc("+CCH_PEER_CLOSED: 0"),
            Some(Urc::CchPeerClosed(0))
        );
        // Response lines of read commands are not URCs.
        assert_eq!(parse_urc("+CCHRECV: LEN,1300,0"), None);
        assert_eq!(parse_urc("+CCHOPEN: 0,\"example.com\",443,2,"), None);
        assert_eq!(parse_urc("+CCHOPEN: 1,\"\",,,"), None);
        assert_eq!(parse_urc("+CCHSEND: 0,0,1,0"), None);
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
