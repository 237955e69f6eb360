//! Telling followers about a new commit index as soon as the leader learns it, instead of
//! on the next heartbeat (as etcd-raft's bcastAppend after maybeCommit): a write forwarded
//! by a follower, or a stale read served there, would otherwise wait a heartbeat interval.
use crate::message::MessageBody;
use crate::ready::{ReplicationState, Role};
use crate::types::NodeId;
use crate::RaftNode;

impl RaftNode {
    /// Advances the commit index if a quorum allows it and, when it moved, sends every
    /// replicating follower that has not been told the new commit an Append carrying it.
    pub(crate) fn commit_and_broadcast(&mut self) {
        if !self.maybe_commit() || self.role != Role::Leader {
            return;
        }
        let me = self.id;
        let peers: Vec<NodeId> = self
            .progress
            .iter()
            .filter(|(id, p)| **id != me && p.state == ReplicationState::Replicate)
            .map(|(id, _)| *id)
            .collect();
        for p in peers {
            // New entries carry the commit too; only fall back to an empty Append.
            while self.send_append(p, false) {}
            self.send_commit(p);
        }
    }

    /// An empty Append carrying the commit index to a replicating follower that was told
    /// less than it can use. Anchored at its match index (which it is known to hold), so
    /// it is accepted even when it overtakes Appends still in flight; it takes no slot
    /// in the in-flight window, but a follower whose window is full is left alone: the
    /// acknowledgements it owes bring it back here.
    pub(crate) fn send_commit(&mut self, to: NodeId) {
        let committed = self.log.committed;
        let Some(pr) = self.progress.get(&to) else {
            return;
        };
        if to == self.id || pr.state != ReplicationState::Replicate || pr.is_paused() {
            return;
        }
        let usable = committed.min(pr.matched);
        if pr.commit_sent >= usable {
            return;
        }
        let prev_index = pr.matched;
        // Compacted away: the next heartbeat carries the commit instead.
        let Some(prev_term) = self.log.term(prev_index) else {
            return;
        };
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.told_commit(usable);
        }
        self.send(
            to,
            MessageBody::Append {
                prev_index,
                prev_term,
                entries: Vec::new(),
                commit: committed,
            },
        );
    }
}
