//! The standard `process_*` families (CPU time, memory, descriptors, start time), read
//! from `/proc/self` at each scrape. Elsewhere than Linux they are simply absent.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// What `/proc/self` says about this process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Process {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    open_fds: f64,
    max_fds: f64,
    start_time_seconds: f64,
}

impl Process {
    /// Reads `/proc/self/stat`, `/proc/stat` (boot time) and `/proc/self/fd`; `None`
    /// if any of it cannot be read or understood.
    pub(super) fn read() -> Option<Process> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count();
        let max_fds = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .ok()
            .map_or(0, |(soft, _)| soft);
        // SAFETY: sysconf only reads a system constant.
        let (ticks, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        parse(&stat, &boot, ticks as f64, page as f64).map(|mut p| {
            // One of them is read_dir's own descriptor, gone by now.
            p.open_fds = open_fds.saturating_sub(1) as f64;
            p.max_fds = max_fds as f64;
            p
        })
    }

    /// Writes the families.
    pub(super) fn encode(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = ConstCounter::new(self.cpu_seconds);
        c.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "user and system CPU time spent, in seconds",
            None,
            c.metric_type(),
        )?)?;
        for (name, help, value) in [
            (
                "process_resident_memory_bytes",
                "resident memory size in bytes",
                self.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "virtual memory size in bytes",
                self.virtual_bytes,
            ),
            ("process_open_fds", "open file descriptors", self.open_fds),
            (
                "process_max_fds",
                "the limit of open file descriptors",
                self.max_fds,
            ),
            (
                "process_start_time_seconds",
                "start time of the process since the Unix epoch, in seconds",
                self.start_time_seconds,
            ),
        ] {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        Ok(())
    }
}

/// The figures from a `/proc/PID/stat` line and `/proc/stat`, given the clock ticks
/// per second and the page size (descriptors are filled in by the caller).
fn parse(stat: &str, proc_stat: &str, ticks: f64, page: f64) -> Option<Process> {
    if ticks <= 0.0 || page <= 0.0 {
        return None;
    }
    // The command name, in parentheses, may hold spaces and parentheses: count fields
    // from after its last `)`. Field 3 of the line is then the first one here.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field =
        |n: usize| -> Option<f64> { fields.get(n - 3)?.parse::<u64>().ok().map(|v| v as f64) };
    let (utime, stime, start) = (field(14)?, field(15)?, field(22)?);
    let (vsize, rss) = (field(23)?, field(24)?);
    let boot_time = proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<u64>()
        .ok()? as f64;
    Some(Process {
        cpu_seconds: (utime + stime) / ticks,
        resident_bytes: rss * page,
        virtual_bytes: vsize,
        open_fds: 0.0,
        max_fds: 0.0,
        start_time_seconds: boot_time + start / ticks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis, as the kernel allows.
        let stat = "4242 (at 7600) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 3 0 1000 123456789 300 18446744073709551615";
        let p = parse(stat, "cpu 1 2 3\nbtime 1700000000\n", 100.0, 4096.0).expect("parses");
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(p.start_time_seconds, 1_700_000_010.0);
        assert_eq!(p.virtual_bytes, 123_456_789.0);
        assert_eq!(p.resident_bytes, 300.0 * 4096.0);
        assert_eq!(parse("garbage", "btime 1", 100.0, 4096.0), None);
        assert_eq!(parse(stat, "no boot time", 100.0, 4096.0), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let p = Process::read().expect("/proc/self");
        assert!(p.open_fds >= 3.0 && p.max_fds >= p.open_fds, "{p:?}");
        assert!(
            p.resident_bytes > 0.0 && p.start_time_seconds > 1e9,
            "{p:?}"
        );
    }
}
