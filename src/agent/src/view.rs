//! The control shard's Raft status as the service shards see it: a handful of atomics
//! written by the control shard when they change, read by any shard without locks.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct RaftView(Arc<Inner>);

struct Inner {
    epoch: Instant,
    /// Leader AND has applied an entry of its own term: may serve default-mode reads.
    leader_ready: AtomicBool,
    known_leader: AtomicBool,
    /// Milliseconds since `epoch` at which a leader was last heard from (or we led).
    last_contact_ms: AtomicU64,
    leader_id: AtomicU64,
    term: AtomicU64,
    applied: AtomicU64,
    /// The highest commit index any message from this server may have told a peer.
    commit: AtomicU64,
}

impl Default for RaftView {
    fn default() -> Self {
        RaftView(Arc::new(Inner {
            epoch: Instant::now(),
            leader_ready: AtomicBool::new(false),
            known_leader: AtomicBool::new(false),
            last_contact_ms: AtomicU64::new(0),
            leader_id: AtomicU64::new(0),
            term: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            commit: AtomicU64::new(0),
        }))
    }
}

impl RaftView {
    pub fn set_leader(&self, leader: Option<u64>, is_self_and_ready: bool, term: u64) {
        self.0.leader_id.store(leader.unwrap_or(0), Ordering::Relaxed);
        self.0.known_leader.store(leader.is_some(), Ordering::Relaxed);
        self.0.term.store(term, Ordering::Relaxed);
        self.0.leader_ready.store(is_self_and_ready, Ordering::Release);
    }

    /// Called when the leader was just heard from (or we are it): X-Consul-LastContact
    /// counts from here, so it grows while a dead leader is still "known".
    pub fn touch_contact(&self) {
        let now = self.0.epoch.elapsed().as_millis() as u64;
        self.0.last_contact_ms.store(now, Ordering::Relaxed);
    }

    pub fn set_applied(&self, index: u64) {
        self.0.applied.store(index, Ordering::Relaxed);
    }

    /// Published before any message carrying `index` as the commit leaves this server: a
    /// follower can acknowledge a forwarded write once it applied it, so a read on the
    /// leader must see everything up to here (see `lease_read_ready`).
    pub fn set_commit(&self, index: u64) {
        self.0.commit.fetch_max(index, Ordering::Release);
    }

    pub fn commit(&self) -> u64 {
        self.0.commit.load(Ordering::Acquire)
    }

    pub fn is_leader_ready(&self) -> bool {
        self.0.leader_ready.load(Ordering::Acquire)
    }

    pub fn known_leader(&self) -> bool {
        self.0.known_leader.load(Ordering::Relaxed)
    }

    pub fn leader_id(&self) -> Option<u64> {
        match self.0.leader_id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }

    /// Consul's X-Consul-LastContact: 0 on the leader, else ms since the leader was heard.
    pub fn last_contact_ms(&self) -> u64 {
        if self.is_leader_ready() {
            return 0;
        }
        let now = self.0.epoch.elapsed().as_millis() as u64;
        now.saturating_sub(self.0.last_contact_ms.load(Ordering::Relaxed))
    }

    pub fn term(&self) -> u64 {
        self.0.term.load(Ordering::Relaxed)
    }

    pub fn applied(&self) -> u64 {
        self.0.applied.load(Ordering::Relaxed)
    }
}
