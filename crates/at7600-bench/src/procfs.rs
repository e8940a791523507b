//! What /proc says about the machine, a process's CPU time and memory, and the TCP
//! stack's listen overflows.

use crate::report::Machine;
use anyhow::{anyhow, Context, Result};

/// CPU model, cores and kernel now; the load before the run (`load_after` is filled in
/// at the end).
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    Machine {
        cpu,
        cores,
        kernel,
        load_before: loadavg(),
        load_after: String::new(),
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// User plus system CPU ticks (1/100 s on Linux) a process has used.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("process {pid} is gone"))?;
    parse_ticks(&stat)
}

/// utime + stime from a /proc/PID/stat line (fields 14 and 15; the command name in
/// parentheses may hold spaces, so count from its closing parenthesis).
fn parse_ticks(stat: &str) -> Result<u64> {
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("bad stat line"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")" come field 3 (state) onwards: utime is field 14, i.e. index 11 here.
    let get = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .ok_or_else(|| anyhow!("short stat line"))?
            .parse()
            .context("stat field")
    };
    Ok(get(11)? + get(12)?)
}

/// Resident memory of a process in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))
}

/// The system-wide count of connections dropped because a listen queue was full
/// (TcpExt ListenOverflows).
pub fn listen_overflows() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").context("/proc/net/netstat")?;
    parse_netstat(&text, "TcpExt:", "ListenOverflows")
}

fn parse_netstat(text: &str, prefix: &str, key: &str) -> Result<u64> {
    let mut lines = text.lines().filter(|l| l.starts_with(prefix));
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if let Some(i) = names.split_whitespace().position(|n| n == key) {
            return values
                .split_whitespace()
                .nth(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("no value for {key}"));
        }
    }
    Err(anyhow!("no {key} in /proc/net/netstat"))
}

/// Raises this process's open-file limit to the hard limit (children inherit it);
/// returns the new soft limit.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_utime_plus_stime_even_with_spaces_in_the_name() {
        let line = "1234 (at 7600) S 1 2 3 4 5 6 7 8 9 10 250 40 0 0 20 0 4 0";
        assert_eq!(parse_ticks(line).expect("parsed"), 290);
    }

    #[test]
    fn listen_overflows_is_found_by_name() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\n\
                    TcpExt: 0 17 18\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        assert_eq!(
            parse_netstat(text, "TcpExt:", "ListenOverflows").expect("found"),
            17
        );
    }

    #[test]
    fn this_process_has_ticks_and_memory() {
        let pid = std::process::id();
        assert!(rss_kib(pid).expect("rss") > 0);
        cpu_ticks(pid).expect("ticks");
    }
}
