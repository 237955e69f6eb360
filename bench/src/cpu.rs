//! CPU time used by processes (servers under test, and this client), read
//! from /proc. On a 2-core machine shared by client and server, CPU per
//! request is a steadier comparison than req/s, and an idle server that
//! burns CPU (busy polling) is visible instead of silently slowing the other.

use std::fs;

/// User + system CPU seconds of all threads of `pid` so far, or None if the
/// process is gone or /proc is unreadable.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu_ticks(&stat).map(|ticks| ticks as f64 / clock_ticks_per_second())
}

/// The same for this process.
pub fn self_cpu_seconds() -> Option<f64> {
    process_cpu_seconds(std::process::id())
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions and only reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// utime + stime (fields 14 and 15) from a /proc/<pid>/stat line. The command
/// name (field 2) is in parentheses and may contain spaces or ')', so fields
/// are counted from the last ')'.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    // after_name starts at field 3 (state); utime is field 14 => index 11.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_after_a_tricky_name() {
        let line = "1234 (we ird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 100 0 0";
        assert_eq!(parse_stat_cpu_ticks(line), Some(325));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
        assert_eq!(parse_stat_cpu_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn reads_own_cpu() {
        assert!(self_cpu_seconds().is_some());
        assert_eq!(process_cpu_seconds(u32::MAX), None);
    }
}
