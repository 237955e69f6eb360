//! Go's `time.Duration.String()` for non-negative durations, so error texts read exactly
//! as serf's (`11s`, `1m0.5s`, `1.5µs`).

use std::time::Duration;

pub fn format_go_duration(d: Duration) -> String {
    let total_nanos = d.as_nanos();
    if total_nanos == 0 {
        return "0s".to_string();
    }
    if total_nanos < 1_000_000_000 {
        let n = total_nanos as u64;
        return if n < 1_000 {
            format!("{n}ns")
        } else if n < 1_000_000 {
            format!("{}µs", with_fraction(n / 1_000, n % 1_000, 3))
        } else {
            format!("{}ms", with_fraction(n / 1_000_000, n % 1_000_000, 6))
        };
    }
    let secs = d.as_secs();
    let seconds = with_fraction(secs % 60, u64::from(d.subsec_nanos()), 9);
    let minutes = (secs / 60) % 60;
    let hours = secs / 3600;
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// `whole` followed by `frac` as `digits` decimal places with trailing zeros (and a bare
/// point) dropped, the way Go's fmtFrac does.
fn with_fraction(whole: u64, frac: u64, digits: usize) -> String {
    if frac == 0 {
        return whole.to_string();
    }
    let text = format!("{frac:0digits$}");
    format!("{whole}.{}", text.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_formatting() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(999), "999ns"),
            (Duration::from_nanos(1_500), "1.5µs"),
            (Duration::from_micros(1_100), "1.1ms"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(11), "11s"),
            (Duration::from_millis(60_500), "1m0.5s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::new(3661, 1), "1h1m1.000000001s"),
            (Duration::from_nanos(i64::MAX as u64), "2562047h47m16.854775807s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_go_duration(d), want, "{d:?}");
        }
    }
}
