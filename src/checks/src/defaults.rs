//! Consul's check constants and the defaults the agent applies when it
//! builds a check (agent/checks/check.go, agent/agent.go addCheck).

use std::time::Duration;

/// `checks.DefaultBufSize`: output kept when neither the agent
/// (`check_output_max_size`) nor the check sets a limit.
pub const DEFAULT_BUF_SIZE: usize = 4 * 1024;

/// `checks.UserAgent`, sent by HTTP checks unless a User-Agent header is given.
pub const USER_AGENT: &str = "Consul Health Check";

/// `checks.MinInterval`: intervals below this are raised to it.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// HTTP, TCP (and gRPC/H2PING) checks without a positive timeout use 10s.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Script checks without a positive timeout use 30s.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Go's http.Client follows at most 10 redirects.
pub const MAX_REDIRECTS: usize = 10;

/// The timeout an HTTP or TCP check runs with, from the definition's
/// `Timeout` in nanoseconds (0 or negative: 10s).
pub fn probe_timeout(timeout_ns: i64) -> Duration {
    positive_or(timeout_ns, DEFAULT_PROBE_TIMEOUT)
}

/// The timeout a script check runs with (0 or negative: 30s).
pub fn script_timeout(timeout_ns: i64) -> Duration {
    positive_or(timeout_ns, DEFAULT_SCRIPT_TIMEOUT)
}

/// The interval a periodic check runs at: never below [`MIN_INTERVAL`].
pub fn effective_interval(interval_ns: i64) -> Duration {
    positive_or(interval_ns, Duration::ZERO).max(MIN_INTERVAL)
}

/// agent.go: the agent's `check_output_max_size` (0 means
/// [`DEFAULT_BUF_SIZE`]), lowered to the check's own `OutputMaxSize` when
/// that is positive and smaller.
pub fn effective_output_max_size(agent_max: usize, check_max: usize) -> usize {
    let agent = if agent_max == 0 {
        DEFAULT_BUF_SIZE
    } else {
        agent_max
    };
    if check_max > 0 && agent > check_max {
        check_max
    } else {
        agent
    }
}

/// agent.go: "FailuresBeforeWarning has to default to same value as
/// FailuresBeforeCritical".
pub fn failures_before_warning_default(
    failures_before_warning: u32,
    failures_before_critical: u32,
) -> u32 {
    if failures_before_warning == 0 {
        failures_before_critical
    } else {
        failures_before_warning
    }
}

fn positive_or(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_default_like_consul() {
        // TestCheckHTTPTCP_BigTimeout: 0 and negative fall back to 10s, anything positive is kept.
        assert_eq!(probe_timeout(0), Duration::from_secs(10));
        assert_eq!(probe_timeout(-1_000_000_000), Duration::from_secs(10));
        assert_eq!(probe_timeout(31_000_000_000), Duration::from_secs(31));
        assert_eq!(probe_timeout(9_000_000_000), Duration::from_secs(9));
        assert_eq!(script_timeout(0), Duration::from_secs(30));
        assert_eq!(script_timeout(25_000_000), Duration::from_millis(25));
    }

    #[test]
    fn interval_is_at_least_one_second() {
        assert_eq!(effective_interval(10_000_000), MIN_INTERVAL);
        assert_eq!(effective_interval(0), MIN_INTERVAL);
        assert_eq!(effective_interval(15_000_000_000), Duration::from_secs(15));
    }

    #[test]
    fn output_max_size_takes_the_smaller_positive_limit() {
        assert_eq!(effective_output_max_size(0, 0), 4096);
        assert_eq!(effective_output_max_size(0, 32), 32);
        assert_eq!(effective_output_max_size(0, 10_000), 4096);
        assert_eq!(effective_output_max_size(8192, 10_000), 8192);
        assert_eq!(effective_output_max_size(8192, 100), 100);
    }

    #[test]
    fn warning_threshold_defaults_to_critical_threshold() {
        assert_eq!(failures_before_warning_default(0, 3), 3);
        assert_eq!(failures_before_warning_default(2, 3), 2);
        assert_eq!(failures_before_warning_default(0, 0), 0);
    }
}
