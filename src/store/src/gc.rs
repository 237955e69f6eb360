//! Tombstone GC schedule (Consul's `TombstoneGC`), sans-IO: the caller
//! passes the time in. The leader hints every tombstone index it sees in a
//! `ChangeSet`; when [`expire`](TombstoneGc::expire) yields an index, it
//! proposes `Command::ReapTombstones { upto }` through Raft.

use std::collections::BTreeMap;

/// Consul's default `TombstoneTTL` (15 minutes).
pub const DEFAULT_TOMBSTONE_TTL_MS: u64 = 15 * 60 * 1000;
/// Consul's default `TombstoneTTLGranularity` (30 seconds).
pub const DEFAULT_TOMBSTONE_GRANULARITY_MS: u64 = 30 * 1000;

/// Bins tombstone indexes by expiry time (rounded up to the granularity),
/// keeping the highest index per bin.
#[derive(Debug, Clone)]
pub struct TombstoneGc {
    ttl_ms: u64,
    granularity_ms: u64,
    enabled: bool,
    bins: BTreeMap<u64, u64>,
}

impl Default for TombstoneGc {
    fn default() -> Self {
        TombstoneGc::new(DEFAULT_TOMBSTONE_TTL_MS, DEFAULT_TOMBSTONE_GRANULARITY_MS)
    }
}

impl TombstoneGc {
    /// Disabled until [`set_enabled`](Self::set_enabled)(true) (leaders only).
    pub fn new(ttl_ms: u64, granularity_ms: u64) -> Self {
        TombstoneGc {
            ttl_ms,
            granularity_ms: granularity_ms.max(1),
            enabled: false,
            bins: BTreeMap::new(),
        }
    }

    /// Enable on gaining leadership; disabling drops all pending bins.
    pub fn set_enabled(&mut self, enabled: bool) {
        if !enabled {
            self.bins.clear();
        }
        self.enabled = enabled;
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Tombstones were created at `index` (ignored while disabled).
    pub fn hint(&mut self, now_ms: u64, index: u64) {
        if !self.enabled {
            return;
        }
        let expires = now_ms.saturating_add(self.ttl_ms);
        let bin = expires.saturating_add(self.granularity_ms - expires % self.granularity_ms);
        let max = self.bins.entry(bin).or_insert(index);
        *max = (*max).max(index);
    }

    /// When the next bin expires, for the caller's timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.bins.keys().next().copied()
    }

    /// Whether any expiry is pending.
    pub fn pending(&self) -> bool {
        !self.bins.is_empty()
    }

    /// Remove every bin due at `now_ms`; the highest index among them is
    /// what to reap (`None` if nothing is due).
    pub fn expire(&mut self, now_ms: u64) -> Option<u64> {
        let later = self.bins.split_off(&now_ms.saturating_add(1));
        let due = std::mem::replace(&mut self.bins, later);
        due.into_values().max().filter(|i| *i > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::TombstoneGc;

    #[test]
    fn disabled_gc_ignores_hints() {
        let mut gc = TombstoneGc::new(10_000, 1_000);
        gc.hint(0, 5);
        assert!(!gc.pending());
        assert_eq!(gc.expire(u64::MAX), None);
    }

    #[test]
    fn hints_bin_by_rounded_expiry_and_keep_the_max_index() {
        let mut gc = TombstoneGc::new(10_000, 1_000);
        gc.set_enabled(true);
        gc.hint(1_000, 5); // expires 11_000 -> bin 12_000 (Go rounds up a whole step)
        gc.hint(1_500, 7); // 11_500 -> 12_000
        gc.hint(2_100, 9); // 12_100 -> 13_000
        assert_eq!(gc.next_deadline(), Some(12_000));
        assert_eq!(gc.expire(11_999), None);
        assert_eq!(gc.expire(12_000), Some(7));
        assert_eq!(gc.next_deadline(), Some(13_000));
        assert_eq!(gc.expire(20_000), Some(9));
        assert!(!gc.pending());
    }

    #[test]
    fn several_due_bins_reap_up_to_the_highest() {
        let mut gc = TombstoneGc::new(10, 10);
        gc.set_enabled(true);
        gc.hint(0, 3);
        gc.hint(100, 8);
        gc.hint(200, 6);
        assert_eq!(gc.expire(1_000), Some(8));
    }

    #[test]
    fn losing_leadership_drops_pending_bins() {
        let mut gc = TombstoneGc::default();
        gc.set_enabled(true);
        gc.hint(0, 1);
        gc.set_enabled(false);
        assert!(!gc.pending() && !gc.is_enabled());
    }
}
