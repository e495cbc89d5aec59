//! What the process uses, from `/proc`: resident memory (`VmRSS`), its peak (`VmHWM`), and
//! CPU time (`utime + stime` of `/proc/self/stat`).

/// `VmRSS` and `VmHWM` in KiB (0 when `/proc` cannot be read).
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time used by the whole process so far (every thread), in clock ticks of 10 ms
/// (Linux reports `/proc` times in `USER_HZ` = 100).
pub fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Nanoseconds per clock tick of [`cpu_ticks`].
pub const NANOS_PER_TICK: u64 = 10_000_000;
