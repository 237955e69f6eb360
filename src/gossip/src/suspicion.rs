//! Lifeguard dynamic suspicion timeouts (memberlist suspicion.go).
//!
//! A suspicion starts at `max` and shrinks towards `min` as independent
//! members confirm it: timeout = max - (max-min) * log(c+1)/log(k+1), with
//! `k` the confirmations we expect. One lone (possibly slow) accuser thus
//! gives the accused a long time to refute.

use std::time::Duration;

use crate::types::Now;

/// The minimum suspicion timeout for a pool of `n` members:
/// `mult * max(1, log10(n)) * interval` (memberlist suspicionTimeout).
pub fn suspicion_timeout(mult: u32, n: usize, interval: Duration) -> Duration {
    let scale = (n.max(1) as f64).log10().max(1.0);
    // memberlist truncates the scale to milliseconds.
    let scale_ms = (scale * 1000.0) as u64;
    interval * mult * (scale_ms as u32) / 1000
}

/// Time left on a suspicion with `n` of `k` confirmations after `elapsed`.
pub fn remaining_suspicion_time(
    n: u32,
    k: u32,
    elapsed: Duration,
    min: Duration,
    max: Duration,
) -> Duration {
    let total = timeout_after_confirmations(n, k, min, max);
    total.saturating_sub(elapsed)
}

fn timeout_after_confirmations(n: u32, k: u32, min: Duration, max: Duration) -> Duration {
    if k == 0 {
        return min;
    }
    let frac = ((n as f64) + 1.0).ln() / ((k as f64) + 1.0).ln();
    let raw = max.as_secs_f64() - frac * (max.as_secs_f64() - min.as_secs_f64());
    let ms = (raw * 1000.0).floor().max(0.0) as u64;
    Duration::from_millis(ms).max(min)
}

#[derive(Clone, Debug)]
pub(crate) struct Suspicion {
    /// Incarnation the suspicion is about.
    pub incarnation: u32,
    start: Now,
    min: Duration,
    max: Duration,
    k: u32,
    n: u32,
    /// The original accuser and every confirmer (at most k+1 names).
    accusers: Vec<String>,
    deadline: Now,
}

impl Suspicion {
    pub fn new(from: &str, incarnation: u32, k: u32, min: Duration, max: Duration, now: Now) -> Self {
        let first = if k < 1 { min } else { max };
        Suspicion {
            incarnation,
            start: now,
            min,
            max,
            k,
            n: 0,
            accusers: vec![from.to_string()],
            deadline: now + first,
        }
    }

    /// A new independent accuser; true if it counted (so it is worth re-gossiping).
    pub fn confirm(&mut self, from: &str) -> bool {
        if self.n >= self.k || self.accusers.iter().any(|a| a == from) {
            return false;
        }
        self.accusers.push(from.to_string());
        self.n += 1;
        self.deadline = self.start + timeout_after_confirmations(self.n, self.k, self.min, self.max);
        true
    }

    pub fn deadline(&self) -> Now {
        self.deadline
    }

    #[cfg(test)]
    pub fn confirmations(&self) -> u32 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn min_timeout_scales_with_log10_n() {
        let s = Duration::from_secs(1);
        assert_eq!(suspicion_timeout(4, 1, s), ms(4000));
        assert_eq!(suspicion_timeout(4, 10, s), ms(4000));
        assert_eq!(suspicion_timeout(4, 100, s), ms(8000));
        assert_eq!(suspicion_timeout(4, 1000, s), ms(12000));
        assert_eq!(suspicion_timeout(3, 1000, ms(200)), ms(1800));
        assert_eq!(suspicion_timeout(4, 0, s), ms(4000));
    }

    #[test]
    fn remaining_time_follows_log_formula() {
        // k=3, min=2s, max=30s: c=1 -> 30 - 28*ln2/ln4 = 16s; c=2 -> 30 - 28*ln3/ln4.
        let (min, max) = (Duration::from_secs(2), Duration::from_secs(30));
        assert_eq!(remaining_suspicion_time(0, 3, Duration::ZERO, min, max), ms(30000));
        assert_eq!(remaining_suspicion_time(1, 3, ms(2000), min, max), ms(14000));
        let t2 = 30.0 - (3f64.ln() / 4f64.ln()) * 28.0;
        assert_eq!(
            remaining_suspicion_time(2, 3, ms(3000), min, max),
            ms((t2 * 1000.0).floor() as u64) - ms(3000)
        );
        // All confirmations in: exactly min, and never below.
        assert_eq!(remaining_suspicion_time(3, 3, ms(4000), min, max), Duration::ZERO);
        assert_eq!(remaining_suspicion_time(3, 3, ms(1000), min, max), ms(1000));
        // Past the deadline: zero, not negative.
        assert_eq!(remaining_suspicion_time(0, 3, ms(40000), min, max), Duration::ZERO);
    }

    #[test]
    fn confirmations_shrink_deadline_and_dedup() {
        let (min, max) = (Duration::from_secs(2), Duration::from_secs(30));
        let mut s = Suspicion::new("a", 1, 3, min, max, Duration::ZERO);
        assert_eq!(s.deadline(), max);
        assert!(!s.confirm("a"), "the original accuser does not confirm");
        assert!(s.confirm("b"));
        assert!(!s.confirm("b"), "a second accusation by the same member is not independent");
        let d1 = s.deadline();
        assert!(d1 < max && d1 > min);
        assert!(s.confirm("c"));
        assert!(s.confirm("d"));
        assert_eq!(s.deadline(), min);
        assert!(!s.confirm("e"), "no more than k confirmations count");
        assert_eq!(s.confirmations(), 3);
    }

    #[test]
    fn k_zero_uses_min_at_once() {
        let s = Suspicion::new("a", 1, 0, ms(500), ms(3000), ms(100));
        assert_eq!(s.deadline(), ms(600));
    }
}
