//! Lifeguard local health awareness (memberlist awareness.go): a score that
//! rises when our own probes fail without the nacks that would prove the
//! network healthy, and scales our probe interval so a struggling node slows
//! down instead of accusing healthy peers.

use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) struct Awareness {
    max: u32,
    score: u32,
}

impl Awareness {
    /// `max` is the multiplier cap; scores run 0..max-1. `max <= 1` disables it.
    pub fn new(max: u32) -> Awareness {
        Awareness { max: max.max(1), score: 0 }
    }

    pub fn apply_delta(&mut self, delta: i32) {
        let top = (self.max - 1) as i64;
        let s = (self.score as i64 + delta as i64).clamp(0, top);
        self.score = s as u32;
    }

    pub fn score(&self) -> u32 {
        self.score
    }

    pub fn scale(&self, d: Duration) -> Duration {
        d * (self.score + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_scales() {
        let mut a = Awareness::new(8);
        assert_eq!(a.scale(Duration::from_secs(1)), Duration::from_secs(1));
        a.apply_delta(-1);
        assert_eq!(a.score(), 0);
        a.apply_delta(3);
        assert_eq!(a.score(), 3);
        assert_eq!(a.scale(Duration::from_secs(1)), Duration::from_secs(4));
        a.apply_delta(100);
        assert_eq!(a.score(), 7);
        assert_eq!(a.scale(Duration::from_millis(500)), Duration::from_secs(4));
        a.apply_delta(-2);
        assert_eq!(a.score(), 5);
    }

    #[test]
    fn max_one_disables() {
        let mut a = Awareness::new(1);
        a.apply_delta(5);
        assert_eq!(a.score(), 0);
        assert_eq!(a.scale(Duration::from_secs(2)), Duration::from_secs(2));
    }
}
