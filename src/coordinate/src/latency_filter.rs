//! Per-peer moving median of RTT samples: one slow probe (a GC pause, a queue) must not
//! yank the coordinate, while a real change wins after a couple of probes.

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) struct LatencyFilter {
    /// Samples kept per peer; bounded by `size` each. Peers are dropped by `forget`, which
    /// the gossip layer calls when a member is reaped, so the map is bounded by membership.
    samples: HashMap<String, Vec<f64>>,
    size: usize,
}

impl LatencyFilter {
    /// `size` must be > 0; the client checks this.
    pub(crate) fn new(size: usize) -> Self {
        LatencyFilter { samples: HashMap::new(), size: size.max(1) }
    }

    /// Records `rtt_seconds` for `node` and returns the median of its recent samples (the
    /// upper median for an even count, as serf's `sorted[len/2]`).
    pub(crate) fn push(&mut self, node: &str, rtt_seconds: f64) -> f64 {
        let window = match self.samples.get_mut(node) {
            Some(window) => window,
            None => self.samples.entry(node.to_string()).or_insert_with(|| Vec::with_capacity(self.size)),
        };
        window.push(rtt_seconds);
        if window.len() > self.size {
            window.remove(0);
        }
        let mut sorted = window.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }

    pub(crate) fn forget(&mut self, node: &str) {
        self.samples.remove(node);
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.samples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_last_three_rides_out_a_glitch() {
        let mut f = LatencyFilter::new(3);
        assert_eq!(f.push("alice", 0.201), 0.201);
        assert_eq!(f.push("alice", 0.200), 0.201);
        assert_eq!(f.push("alice", 0.207), 0.201);
        // The 1.9 s spike never becomes the median.
        assert_eq!(f.push("alice", 1.9), 0.207);
        assert_eq!(f.push("alice", 0.203), 0.207);
        assert_eq!(f.push("alice", 0.199), 0.203);
        assert_eq!(f.push("alice", 0.211), 0.203);
        // Peers are independent.
        assert_eq!(f.push("bob", 0.310), 0.310);
        // Forgetting drops the history.
        f.forget("alice");
        assert_eq!(f.tracked(), 1);
        assert_eq!(f.push("alice", 0.888), 0.888);
    }

    #[test]
    fn window_of_one_passes_samples_through() {
        let mut f = LatencyFilter::new(1);
        assert_eq!(f.push("a", 0.5), 0.5);
        assert_eq!(f.push("a", 0.1), 0.1);
    }
}
