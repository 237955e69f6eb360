//! The leader's per-member replication progress and flow control (etcd's model:
//! probe one message at a time until a match is found, then pipeline up to an in-flight
//! window; snapshot when the follower needs entries already compacted).
use crate::ready::ReplicationState;
use crate::types::Index;
use std::collections::VecDeque;

/// Last indexes of Append messages sent but not yet acknowledged, bounded.
#[derive(Debug)]
pub(crate) struct Inflights {
    cap: usize,
    last_indexes: VecDeque<Index>,
}

impl Inflights {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            last_indexes: VecDeque::new(),
        }
    }
    pub(crate) fn full(&self) -> bool {
        self.last_indexes.len() >= self.cap
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.last_indexes.is_empty()
    }
    pub(crate) fn add(&mut self, last: Index) {
        if !self.full() {
            self.last_indexes.push_back(last);
        }
    }
    /// Acknowledges every message whose last index is `<= index`.
    pub(crate) fn free_le(&mut self, index: Index) {
        while self.last_indexes.front().is_some_and(|&l| l <= index) {
            self.last_indexes.pop_front();
        }
    }
    pub(crate) fn reset(&mut self) {
        self.last_indexes.clear();
    }
}

#[derive(Debug)]
pub(crate) struct Progress {
    pub(crate) matched: Index,
    pub(crate) next: Index,
    pub(crate) state: ReplicationState,
    /// Probe state: one Append is out; wait for its answer or a heartbeat reply.
    pub(crate) probe_sent: bool,
    pub(crate) pending_snapshot: Index,
    pub(crate) inflights: Inflights,
    /// Heard from since the last CheckQuorum round.
    pub(crate) recent_active: bool,
    /// Ticks with outstanding Appends or a snapshot but no new acknowledgement; after an
    /// election timeout of that, a heartbeat reply sends the follower back to probing
    /// (recovers from an Append or a snapshot lost on the way).
    pub(crate) stall_ticks: u32,
    pub(crate) learner: bool,
    /// Highest commit index sent to this member that it can act on (an Append's commit
    /// capped by the entries the message proves it holds). Optimistic: a lost message
    /// is repaired by the next heartbeat.
    pub(crate) commit_sent: Index,
    /// Ticks since the leader last heard from this member (`PeerStatus`, LastContact).
    pub(crate) ticks_since_contact: u32,
}

impl Progress {
    pub(crate) fn new(next: Index, inflight_cap: usize, learner: bool) -> Self {
        Self {
            matched: 0,
            next,
            state: ReplicationState::Probe,
            probe_sent: false,
            pending_snapshot: 0,
            inflights: Inflights::new(inflight_cap),
            recent_active: true,
            stall_ticks: 0,
            learner,
            commit_sent: 0,
            ticks_since_contact: 0,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        match self.state {
            ReplicationState::Probe => self.probe_sent,
            ReplicationState::Replicate => self.inflights.full(),
            ReplicationState::Snapshot => true,
        }
    }

    pub(crate) fn become_probe(&mut self) {
        self.next = if self.state == ReplicationState::Snapshot {
            (self.matched + 1).max(self.pending_snapshot + 1)
        } else {
            self.matched + 1
        };
        self.state = ReplicationState::Probe;
        self.probe_sent = false;
        self.pending_snapshot = 0;
        // The member may have restarted with an older commit: assume nothing.
        self.commit_sent = 0;
        self.inflights.reset();
        self.stall_ticks = 0;
    }

    pub(crate) fn become_replicate(&mut self) {
        self.state = ReplicationState::Replicate;
        self.next = self.matched + 1;
        self.probe_sent = false;
        self.inflights.reset();
        self.stall_ticks = 0;
    }

    pub(crate) fn become_snapshot(&mut self, index: Index) {
        self.state = ReplicationState::Snapshot;
        self.pending_snapshot = index;
        self.probe_sent = false;
        self.inflights.reset();
        self.stall_ticks = 0;
    }

    /// A successful AppendResp up to `index`. Returns whether `matched` moved.
    pub(crate) fn maybe_update(&mut self, index: Index) -> bool {
        let updated = index > self.matched;
        if updated {
            self.matched = index;
            self.probe_sent = false;
            self.stall_ticks = 0;
        }
        self.next = self.next.max(index + 1);
        updated
    }

    /// A rejected Append for `rejected` (its prev_index); `hint` is the highest index that
    /// may match. Returns false for stale rejections.
    pub(crate) fn maybe_decr_to(&mut self, rejected: Index, hint: Index) -> bool {
        if self.state == ReplicationState::Replicate {
            if rejected <= self.matched {
                return false;
            }
            self.next = self.matched + 1;
            return true;
        }
        if self.next.saturating_sub(1) != rejected {
            return false;
        }
        self.next = rejected.min(hint + 1).max(self.matched + 1);
        self.probe_sent = false;
        true
    }

    /// Bookkeeping after an Append carrying entries up to `last` (0: no entries).
    pub(crate) fn sent_append(&mut self, last: Index) {
        match self.state {
            ReplicationState::Replicate => {
                if last > 0 {
                    self.next = last + 1;
                    self.inflights.add(last);
                }
            }
            ReplicationState::Probe => self.probe_sent = true,
            ReplicationState::Snapshot => {}
        }
    }

    pub(crate) fn told_commit(&mut self, commit: Index) {
        self.commit_sent = self.commit_sent.max(commit);
    }

    pub(crate) fn waiting_for_ack(&self) -> bool {
        match self.state {
            ReplicationState::Replicate => !self.inflights.is_empty(),
            ReplicationState::Snapshot => true,
            ReplicationState::Probe => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicate_pipelines_until_window_full() {
        let mut p = Progress::new(1, 2, false);
        p.become_replicate();
        p.sent_append(3);
        assert!(!p.is_paused());
        p.sent_append(5);
        assert!(p.is_paused());
        assert!(p.maybe_update(3));
        p.inflights.free_le(3);
        assert!(!p.is_paused());
        assert_eq!(p.next, 6);
    }

    #[test]
    fn probe_rejections_move_next_down_and_ignore_stale_ones() {
        let mut p = Progress::new(11, 4, false);
        p.sent_append(0);
        assert!(p.is_paused());
        assert!(!p.maybe_decr_to(7, 3), "not the outstanding probe");
        assert!(p.maybe_decr_to(10, 4));
        assert_eq!(p.next, 5);
        assert!(!p.is_paused());
    }
}
