//! Consul's `checks.CheckTTL` as plain state: the agent keeps one per TTL
//! check, calls [`TtlState::set_status`] on `/v1/agent/check/update` (and
//! pass/warn/fail), and arms a timer at [`TtlState::deadline`].

use std::time::{Duration, Instant};

use crate::outcome::{static_status, Outcome};
use crate::output::truncate_ttl_output;

#[derive(Debug, Clone)]
pub struct TtlState {
    ttl: Duration,
    output_max_size: usize,
    last_output: String,
    /// `None` once the TTL fired and no status came since (Go's timer
    /// fires once until Reset).
    deadline: Option<Instant>,
}

impl TtlState {
    /// CheckTTL.Start at `now`: the TTL runs from here. An `output_max_size`
    /// of 0 means [`crate::DEFAULT_BUF_SIZE`].
    pub fn new(ttl: Duration, output_max_size: usize, now: Instant) -> Self {
        let output_max_size = if output_max_size == 0 {
            crate::DEFAULT_BUF_SIZE
        } else {
            output_max_size
        };
        TtlState {
            ttl,
            output_max_size,
            last_output: String::new(),
            deadline: Some(now + ttl),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// CheckTTL.SetStatus: truncates the output, remembers it for the
    /// expiry message and restarts the TTL. Returns what to report (the
    /// status as given, the possibly truncated output).
    pub fn set_status(&mut self, status: &str, output: &str, now: Instant) -> Outcome {
        let output = truncate_ttl_output(output, self.output_max_size);
        self.last_output = output.clone();
        self.deadline = Some(now + self.ttl);
        Outcome {
            status: static_status(status),
            output,
            immediate: true,
        }
    }

    /// When the TTL fires, if it is armed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Call when the timer may have fired: past the deadline this disarms
    /// and returns the critical outcome to report, once.
    pub fn poll_expired(&mut self, now: Instant) -> Option<Outcome> {
        match self.deadline {
            Some(d) if now >= d => {
                self.deadline = None;
                Some(Outcome::critical(self.expired_output()).immediately())
            }
            _ => None,
        }
    }

    /// `TTL expired`, or `TTL expired (last output before timeout follows): <output>`.
    pub fn expired_output(&self) -> String {
        const PREFIX: &str = "TTL expired";
        if self.last_output.is_empty() {
            PREFIX.to_string()
        } else {
            format!(
                "{PREFIX} (last output before timeout follows): {}",
                self.last_output
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{CRITICAL, PASSING, WARNING};

    #[test]
    fn expires_once_with_consul_text() {
        let t0 = Instant::now();
        let mut ttl = TtlState::new(Duration::from_secs(10), 0, t0);
        assert_eq!(ttl.deadline(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(ttl.poll_expired(t0 + Duration::from_secs(9)), None);
        let fired = ttl
            .poll_expired(t0 + Duration::from_secs(10))
            .expect("expired");
        assert_eq!(
            (fired.status, fired.output.as_str()),
            (CRITICAL, "TTL expired")
        );
        assert_eq!(ttl.deadline(), None);
        assert_eq!(ttl.poll_expired(t0 + Duration::from_secs(30)), None);
    }

    #[test]
    fn set_status_restarts_the_ttl_and_is_kept_for_the_expiry_text() {
        let t0 = Instant::now();
        let mut ttl = TtlState::new(Duration::from_secs(10), 0, t0);
        let t1 = t0 + Duration::from_secs(8);
        let o = ttl.set_status(PASSING, "test-output", t1);
        assert_eq!((o.status, o.output.as_str()), (PASSING, "test-output"));
        assert_eq!(ttl.poll_expired(t0 + Duration::from_secs(12)), None);
        let fired = ttl
            .poll_expired(t1 + Duration::from_secs(10))
            .expect("expired");
        assert_eq!(
            fired.output,
            "TTL expired (last output before timeout follows): test-output"
        );
        // A status after expiry re-arms the TTL.
        let t2 = t1 + Duration::from_secs(20);
        assert_eq!(ttl.set_status(WARNING, "", t2).status, WARNING);
        assert_eq!(ttl.deadline(), Some(t2 + Duration::from_secs(10)));
        assert_eq!(
            ttl.poll_expired(t2 + Duration::from_secs(10))
                .unwrap()
                .output,
            "TTL expired"
        );
    }

    #[test]
    fn set_status_truncates_to_output_max_size() {
        let t0 = Instant::now();
        let mut ttl = TtlState::new(Duration::from_secs(1), 4, t0);
        let o = ttl.set_status(PASSING, "abcdefgh", t0);
        assert_eq!(o.output, "abcd ... (captured 4 of 8 bytes)");
        assert!(ttl
            .expired_output()
            .ends_with("follows): abcd ... (captured 4 of 8 bytes)"));
    }
}
