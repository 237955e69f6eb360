//! ReadIndex bookkeeping at the leader: each request records the commit index at
//! arrival and a sequence number that rides on heartbeats. A heartbeat reply echoing
//! sequence `s` proves this node was still leader after every request `<= s` arrived,
//! so one reply confirms a whole batch.
use crate::ready::ReadState;
use crate::types::{Index, NodeId};
use std::collections::VecDeque;

#[derive(Debug)]
struct PendingRead {
    seq: u64,
    index: Index,
    ctx: u64,
    acks: Vec<NodeId>,
}

#[derive(Debug, Default)]
pub(crate) struct ReadQueue {
    next_seq: u64,
    pending: VecDeque<PendingRead>,
    /// Requests that arrived before the leader committed an entry of its term: the
    /// commit index is not yet known to be current, so they wait.
    waiting_for_commit: VecDeque<u64>,
}

impl ReadQueue {
    pub(crate) fn len(&self) -> usize {
        self.pending.len() + self.waiting_for_commit.len()
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
        self.waiting_for_commit.clear();
    }

    /// Sequence number for heartbeats to carry: the newest pending request, or 0.
    pub(crate) fn last_seq(&self) -> u64 {
        self.pending.back().map_or(0, |r| r.seq)
    }

    pub(crate) fn wait_for_commit(&mut self, ctx: u64) {
        self.waiting_for_commit.push_back(ctx);
    }

    pub(crate) fn take_waiting(&mut self) -> Vec<u64> {
        self.waiting_for_commit.drain(..).collect()
    }

    /// Registers a read at `index`, acknowledged by `me` when it is a voter.
    pub(crate) fn add(&mut self, index: Index, ctx: u64, self_ack: Option<NodeId>) -> u64 {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.pending.push_back(PendingRead {
            seq,
            index,
            ctx,
            acks: self_ack.into_iter().collect(),
        });
        seq
    }

    /// Records `from`'s echo of `seq` and returns reads now confirmed by a quorum
    /// (`is_quorum` decides over the set of voters acknowledging).
    pub(crate) fn ack(
        &mut self,
        from: NodeId,
        seq: u64,
        is_quorum: impl Fn(&[NodeId]) -> bool,
    ) -> Vec<ReadState> {
        for r in self.pending.iter_mut().take_while(|r| r.seq <= seq) {
            if !r.acks.contains(&from) {
                r.acks.push(from);
            }
        }
        self.release(is_quorum)
    }

    /// Releases every read up to the newest one a quorum has confirmed (earlier reads
    /// have at least the acknowledgements of later ones).
    pub(crate) fn release(&mut self, is_quorum: impl Fn(&[NodeId]) -> bool) -> Vec<ReadState> {
        let Some(pos) = self.pending.iter().rposition(|r| is_quorum(&r.acks)) else {
            return Vec::new();
        };
        self.pending
            .drain(..=pos)
            .map(|r| ReadState {
                index: r.index,
                ctx: r.ctx,
            })
            .collect()
    }
}

impl crate::RaftNode {
    /// Linearizable read: a `ReadState { index, ctx }` appears in a later Ready once a
    /// quorum confirmed this node is still leader; serve the read after applying `index`.
    pub fn read_index(&mut self, ctx: u64) -> Result<(), crate::ProposeError> {
        if self.role != crate::Role::Leader {
            return Err(crate::ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if self.reads.len() >= self.cfg.max_pending_reads {
            return Err(crate::ProposeError::Overloaded);
        }
        if !self.committed_in_term() {
            // Until an entry of this term commits, our commit index may lag the cluster's.
            self.reads.wait_for_commit(ctx);
            return Ok(());
        }
        self.start_read(ctx);
        Ok(())
    }

    fn start_read(&mut self, ctx: u64) {
        let index = self.log.committed;
        let me = self.id;
        if self.conf.voters == [me] {
            self.read_states.push(ReadState { index, ctx });
            return;
        }
        let self_ack = self.conf.voters.contains(&me).then_some(me);
        let seq = self.reads.add(index, ctx, self_ack);
        let peers: Vec<NodeId> = self.progress.keys().copied().filter(|&p| p != me).collect();
        for to in peers {
            let Some(pr) = self.progress.get_mut(&to) else {
                continue;
            };
            let commit = pr.matched.min(index);
            pr.told_commit(commit);
            self.send(
                to,
                crate::MessageBody::Heartbeat {
                    commit,
                    read_ctx: seq,
                },
            );
        }
    }

    /// Called whenever the commit index moves at the leader.
    pub(crate) fn on_commit_in_term(&mut self) {
        if self.committed_in_term() {
            for ctx in self.reads.take_waiting() {
                self.start_read(ctx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_echo_confirms_earlier_reads_and_only_with_quorum() {
        let mut q = ReadQueue::default();
        let quorum2 = |acks: &[NodeId]| acks.len() >= 2;
        q.add(5, 100, Some(1));
        let s2 = q.add(6, 200, Some(1));
        assert!(q.ack(2, 0, quorum2).is_empty());
        let out = q.ack(3, s2, quorum2);
        assert_eq!(
            out,
            vec![
                ReadState { index: 5, ctx: 100 },
                ReadState { index: 6, ctx: 200 }
            ]
        );
        assert_eq!(q.len(), 0);
    }
}
