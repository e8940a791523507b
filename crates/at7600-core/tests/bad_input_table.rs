//! The bad-input table: each malformed command family with the exact bytes the module
//! answers, per the manual's error rules (chapter 4's per-command error responses,
//! `AT+CMEE` in chapter 3 and the `+IP ERROR` table in chapter 6) and
//! `docs/behaviour.md` where the manual is silent:
//! - a syntax error or an unknown command: `ERROR` (`+CME ERROR: 100` / `unknown` with
//!   `AT+CMEE=1` / `2`);
//! - a bad parameter to a general command: `ERROR` (`+CME ERROR: 50` / `Incorrect
//!   parameters`);
//! - a TCP/IP command's own error line (`+IP ERROR:`, `+CIPERROR:`, `+CIPOPEN: <n>,<err>`,
//!   ...) followed by a plain `ERROR`.
//!
//! Every row runs on a fresh modem in the state it names, and afterwards the modem must
//! still answer `AT` with `OK` (a bad line never leaves it stuck). All mismatches are
//! listed at once.
mod common;
use common::Bench;

/// The state a row runs in.
#[derive(Clone, Copy, Debug)]
enum Setup {
    /// Powered on, echo off.
    Fresh,
    /// With `AT+CMEE=1` (numeric error codes).
    Cmee1,
    /// With `AT+CMEE=2` (verbose error codes).
    Cmee2,
    /// The network open (`AT+NETOPEN`).
    Net,
    /// The network open and TCP link 1 connected.
    Link,
    /// As `Link`, in buffer access mode (`AT+CIPRXGET=1`).
    Buffered,
}

/// `ERROR` alone.
const ERROR: &str = r"\r\nERROR\r\n";
/// A TCP/IP command's invalid parameter (chapter 6).
const IP_INVALID: &str = r"\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n";
/// `AT+CIPSEND`'s and `AT+SERVERSTART`'s parameter error.
const CIPERROR_3: &str = r"\r\n+CIPERROR: 3\r\n\r\nERROR\r\n";

/// (family, state, the host's line without `\r`, the exact answer).
const TABLE: &[(&str, Setup, &str, &str)] = &[
    // Unknown commands and syntax errors.
    ("unknown command", Setup::Fresh, "AT+FOO", ERROR),
    (
        "unknown command",
        Setup::Cmee1,
        "AT+FOO",
        r"\r\n+CME ERROR: 100\r\n",
    ),
    (
        "unknown command",
        Setup::Cmee2,
        "AT+FOO",
        r"\r\n+CME ERROR: unknown\r\n",
    ),
    ("unknown basic command", Setup::Fresh, "ATB", ERROR),
    ("lone prefix", Setup::Fresh, "AT+", ERROR),
    ("unknown prefix", Setup::Fresh, "AT#X", ERROR),
    ("name with a tail", Setup::Fresh, "AT+CIPOPENX?", ERROR),
    (
        "missing closing quote",
        Setup::Fresh,
        "AT+CDNSGIP=\"www.baidu.com",
        ERROR,
    ),
    (
        "missing closing quote",
        Setup::Net,
        "AT+CIPOPEN=1,\"TCP",
        ERROR,
    ),
    (
        "text after a quoted string",
        Setup::Fresh,
        "AT+CIPHEAD=1\"2\"",
        ERROR,
    ),
    ("garbage after a command", Setup::Fresh, "AT+CSQ x", ERROR),
    ("empty S-register", Setup::Fresh, "ATS", ERROR),
    ("lone ampersand", Setup::Fresh, "AT&", ERROR),
    ("dangling separator", Setup::Fresh, "AT+CIPHEAD=0;;+", ERROR),
    // Bad numbers to general and TCP/IP settings commands.
    ("quoted number", Setup::Fresh, "AT+CIPHEAD=\"1\"", ERROR),
    ("negative number", Setup::Fresh, "AT+CIPHEAD=-1", ERROR),
    ("number with letters", Setup::Fresh, "AT+CIPHEAD=1a", ERROR),
    ("hex number", Setup::Fresh, "AT+CIPMODE=0x1", ERROR),
    ("signed number", Setup::Fresh, "AT+CIPCCFG=+5", ERROR),
    ("missing value", Setup::Fresh, "AT+CIPHEAD=", ERROR),
    (
        "number past 64 bits",
        Setup::Fresh,
        "AT+CIPTIMEOUT=99999999999999999999999999",
        ERROR,
    ),
    ("out of range", Setup::Fresh, "ATE2", ERROR),
    (
        "out of range",
        Setup::Cmee1,
        "ATE2",
        r"\r\n+CME ERROR: 50\r\n",
    ),
    (
        "out of range",
        Setup::Cmee2,
        "ATE2",
        r"\r\n+CME ERROR: Incorrect parameters\r\n",
    ),
    ("out of range", Setup::Fresh, "AT&D3", ERROR),
    ("out of range", Setup::Fresh, "AT+CMEE=3", ERROR),
    ("out of range", Setup::Fresh, "AT+CIPSRIP=2", ERROR),
    ("out of range", Setup::Fresh, "AT+CIPSENDMODE=2", ERROR),
    ("out of range", Setup::Fresh, "AT+CIPRXGET=9", ERROR),
    ("out of range", Setup::Fresh, "AT+CIPMODE=2", ERROR),
    // Too many parameters.
    ("too many parameters", Setup::Fresh, "AT+CIPHEAD=1,1", ERROR),
    ("too many parameters", Setup::Fresh, "AT+CIPMODE=0,0", ERROR),
    (
        "too many parameters",
        Setup::Link,
        "AT+CIPSEND=1,5,6",
        CIPERROR_3,
    ),
    // Link numbers outside 0-9, or not numbers.
    (
        "link out of range",
        Setup::Net,
        "AT+CIPOPEN=10,\"TCP\",\"1.2.3.4\",80",
        IP_INVALID,
    ),
    (
        "link not a number",
        Setup::Net,
        "AT+CIPOPEN=x,\"TCP\",\"1.2.3.4\",80",
        IP_INVALID,
    ),
    (
        "negative link",
        Setup::Net,
        "AT+CIPOPEN=-1,\"TCP\",\"1.2.3.4\",80",
        IP_INVALID,
    ),
    (
        "link out of range",
        Setup::Link,
        "AT+CIPSEND=10,5",
        IP_INVALID,
    ),
    ("quoted link", Setup::Link, "AT+CIPSEND=\"1\",5", IP_INVALID),
    (
        "link out of range",
        Setup::Link,
        "AT+CIPCLOSE=10",
        IP_INVALID,
    ),
    (
        "link past 64 bits",
        Setup::Link,
        "AT+CIPCLOSE=99999999999999999999",
        IP_INVALID,
    ),
    (
        "link out of range",
        Setup::Buffered,
        "AT+CIPRXGET=4,10",
        IP_INVALID,
    ),
    (
        "link not a number",
        Setup::Buffered,
        "AT+CIPRXGET=2,x",
        IP_INVALID,
    ),
    ("link out of range", Setup::Link, "AT+CIPACK=10", IP_INVALID),
    ("missing link", Setup::Link, "AT+CIPACK=", IP_INVALID),
    // AT+CIPOPEN's own parameter errors: `+CIPOPEN: <n>,3`.
    (
        "empty host",
        Setup::Net,
        "AT+CIPOPEN=1,\"TCP\",\"\",80",
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n",
    ),
    (
        "unknown type",
        Setup::Net,
        "AT+CIPOPEN=1,\"SCTP\",\"1.2.3.4\",80",
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n",
    ),
    (
        "TCP port 0",
        Setup::Net,
        "AT+CIPOPEN=1,\"TCP\",\"1.2.3.4\",0",
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n",
    ),
    (
        "port past 65535",
        Setup::Net,
        "AT+CIPOPEN=1,\"TCP\",\"1.2.3.4\",65536",
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n",
    ),
    (
        "UDP without local port",
        Setup::Net,
        "AT+CIPOPEN=1,\"UDP\"",
        r"\r\n+CIPOPEN: 1,3\r\n\r\nERROR\r\n",
    ),
    (
        "network not open",
        Setup::Fresh,
        "AT+CIPOPEN=1,\"TCP\",\"1.2.3.4\",80",
        r"\r\n+CIPOPEN: 1,2\r\n\r\nERROR\r\n",
    ),
    (
        "link in use",
        Setup::Link,
        "AT+CIPOPEN=1,\"TCP\",\"1.2.3.4\",80",
        r"\r\n+CIPOPEN: 1,4\r\n\r\nERROR\r\n",
    ),
    // AT+CIPSEND's parameter errors: `+CIPERROR: 3`.
    (
        "length not a number",
        Setup::Link,
        "AT+CIPSEND=1,abc",
        CIPERROR_3,
    ),
    (
        "negative length",
        Setup::Link,
        "AT+CIPSEND=1,-5",
        CIPERROR_3,
    ),
    (
        "length past 64 bits",
        Setup::Link,
        "AT+CIPSEND=1,99999999999999999999",
        CIPERROR_3,
    ),
    ("length 0", Setup::Link, "AT+CIPSEND=1,0", CIPERROR_3),
    (
        "length over 1500",
        Setup::Link,
        "AT+CIPSEND=1,1501",
        CIPERROR_3,
    ),
    ("link not open", Setup::Link, "AT+CIPSEND=2,5", CIPERROR_3),
    (
        "network not open",
        Setup::Fresh,
        "AT+CIPSEND=1,5",
        CIPERROR_3,
    ),
    // AT+CIPRXGET's lengths.
    (
        "read length 0",
        Setup::Buffered,
        "AT+CIPRXGET=2,1,0",
        IP_INVALID,
    ),
    (
        "read length over 1500",
        Setup::Buffered,
        "AT+CIPRXGET=2,1,1501",
        IP_INVALID,
    ),
    (
        "hex read length over 750",
        Setup::Buffered,
        "AT+CIPRXGET=3,1,751",
        IP_INVALID,
    ),
    (
        "too many parameters",
        Setup::Buffered,
        "AT+CIPRXGET=4,1,5",
        IP_INVALID,
    ),
    (
        "no link established",
        Setup::Buffered,
        "AT+CIPRXGET=4,2",
        r"\r\n+IP ERROR: No data\r\n\r\nERROR\r\n",
    ),
    // "The 2-4 modes take effect when mode is 1."
    (
        "read outside buffer mode",
        Setup::Link,
        "AT+CIPRXGET=2,1,10",
        ERROR,
    ),
    // AT+SERVERSTART's and AT+SERVERSTOP's.
    (
        "server without network",
        Setup::Fresh,
        "AT+SERVERSTART=8080,0",
        r"\r\n+CIPERROR: 2\r\n\r\nERROR\r\n",
    ),
    (
        "server index out of range",
        Setup::Net,
        "AT+SERVERSTART=8080,4",
        CIPERROR_3,
    ),
    (
        "server port past 65535",
        Setup::Net,
        "AT+SERVERSTART=65536,0",
        CIPERROR_3,
    ),
    (
        "server backlog out of range",
        Setup::Net,
        "AT+SERVERSTART=8080,0,4",
        CIPERROR_3,
    ),
    (
        "stopping a server not listening",
        Setup::Net,
        "AT+SERVERSTOP=0",
        r"\r\n+SERVERSTOP: 0,4\r\n\r\nERROR\r\n",
    ),
    // Wrong forms of commands of the manual.
    ("test form of an action", Setup::Fresh, "AT+IPADDR=1", ERROR),
    ("read form of CIPSEND", Setup::Link, "AT+CIPSEND?", ERROR),
    ("set form of CSQ", Setup::Fresh, "AT+CSQ=1", ERROR),
    ("set form of NETOPEN", Setup::Fresh, "AT+NETOPEN=1", ERROR),
    ("set form of NETCLOSE", Setup::Net, "AT+NETCLOSE=1", ERROR),
];

/// The state `setup` on a fresh bench.
fn bench(setup: Setup) -> Bench {
    let mut b = Bench::quiet();
    match setup {
        Setup::Fresh => {}
        Setup::Cmee1 => assert_eq!(b.host("AT+CMEE=1\r"), r"\r\nOK\r\n"),
        Setup::Cmee2 => assert_eq!(b.host("AT+CMEE=2\r"), r"\r\nOK\r\n"),
        Setup::Net => b.netopen(),
        Setup::Link | Setup::Buffered => {
            b.netopen();
            b.open_tcp(1);
        }
    }
    if let Setup::Buffered = setup {
        assert_eq!(b.host("AT+CIPRXGET=1\r"), r"\r\nOK\r\n");
    }
    b
}

#[test]
fn every_malformed_command_family_gets_its_exact_answer() {
    let mut wrong = Vec::new();
    for (family, setup, line, want) in TABLE {
        let mut b = bench(*setup);
        let got = b.host(format!("{line}\r"));
        if got != *want {
            wrong.push(format!(
                "{family} ({setup:?}) {line}\n   want {want}\n   got  {got}"
            ));
        }
        let after = b.host("AT\r");
        if after != r"\r\nOK\r\n" {
            wrong.push(format!(
                "{family} ({setup:?}) {line}: AT afterwards got {after}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn an_overlong_line_is_error_and_a_line_at_the_limit_is_not() {
    for setup in [Setup::Fresh, Setup::Link] {
        let mut b = bench(setup);
        // 1024 bytes between `AT` and `\r` (the limit): 512 basic commands.
        let at_limit = format!("AT{}\r", "E0".repeat(512));
        assert_eq!(b.host(&at_limit), r"\r\nOK\r\n", "{setup:?}");
        let over = format!("AT{}E\r", "E0".repeat(512));
        assert_eq!(b.host(&over), ERROR, "{setup:?}");
        assert_eq!(b.host("AT\r"), r"\r\nOK\r\n");
    }
}
