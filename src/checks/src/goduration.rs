//! Go's `time.Duration.String()`, used in Consul's messages
//! ("Timed out (30s) running check").

use std::time::Duration;

/// Formats like Go: `0s`, `1.5µs`, `25ms`, `30s`, `1m30s`, `2h0m0s`.
pub fn go_duration_string(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", fraction(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", fraction(ns, 1_000_000));
    }
    let secs_ns = ns % 60_000_000_000;
    let total_minutes = ns / 60_000_000_000;
    let seconds = format!("{}s", fraction(secs_ns, 1_000_000_000));
    if total_minutes == 0 {
        return seconds;
    }
    let minutes = total_minutes % 60;
    let hours = total_minutes / 60;
    if hours == 0 {
        format!("{minutes}m{seconds}")
    } else {
        format!("{hours}h{minutes}m{seconds}")
    }
}

/// `value / unit` with Go's trailing-zero-free fraction.
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(go_duration_string(Duration::ZERO), "0s");
        assert_eq!(go_duration_string(Duration::from_nanos(15)), "15ns");
        assert_eq!(go_duration_string(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(go_duration_string(Duration::from_millis(25)), "25ms");
        assert_eq!(go_duration_string(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration_string(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(go_duration_string(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration_string(Duration::from_secs(7200)), "2h0m0s");
        assert_eq!(
            go_duration_string(Duration::from_millis(60_001)),
            "1m0.001s"
        );
    }
}
