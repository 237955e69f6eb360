//! Raft's safety properties, checked as the simulation runs.
use ballast_raft::{Entry, Index, NodeId, RaftNode, Role, Term};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Default)]
pub struct Checker {
    leaders: HashMap<Term, NodeId>,
    seen_leadership: HashSet<(NodeId, Term)>,
    /// Term of every index some node reported committed.
    committed: BTreeMap<Index, Term>,
    known_commit: HashMap<NodeId, Index>,
    /// The entry applied at each index, and the state-machine chain hash after it.
    pub applied: HashMap<Index, Entry>,
    pub chain: HashMap<Index, u64>,
    pub max_applied: Index,
}

pub fn mix(h: u64, e: &Entry) -> u64 {
    let mut x = h
        ^ e.term.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ e.index.rotate_left(17)
        ^ (e.kind as u64) << 60;
    for b in &e.data {
        x = (x ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3);
    }
    x ^ (x >> 29)
}

impl Checker {
    /// After any event that touched `id`.
    pub fn observe(&mut self, id: NodeId, raft: &RaftNode) {
        let st = raft.status();
        if st.role == Role::Leader {
            let prev = *self.leaders.entry(st.term).or_insert(id);
            assert_eq!(prev, id, "election safety: two leaders in term {}", st.term);
            if self.seen_leadership.insert((id, st.term)) {
                self.check_leader_completeness(id, st.term, raft);
            }
        }
        let kc = self.known_commit.entry(id).or_insert(0);
        if st.commit > *kc {
            for i in (*kc + 1).max(st.first_index)..=st.commit {
                if let Some(t) = raft.term_at(i) {
                    let prev = *self.committed.entry(i).or_insert(t);
                    assert_eq!(
                        prev, t,
                        "node {id} committed term {t} at {i}, another node committed term {prev}"
                    );
                }
            }
            *kc = st.commit;
        }
    }

    pub fn restarted(&mut self, id: NodeId) {
        self.known_commit.insert(id, 0);
    }

    fn check_leader_completeness(&self, id: NodeId, term: Term, raft: &RaftNode) {
        let first = raft.status().first_index;
        for (&i, &t) in self.committed.range(first..) {
            assert_eq!(
                raft.term_at(i),
                Some(t),
                "leader completeness: leader {id} of term {term} lacks committed entry {i} (term {t})"
            );
        }
    }

    /// State-machine safety: every node applies the same entry at the same index.
    pub fn applied_entry(&mut self, id: NodeId, e: &Entry, chain_after: u64) {
        if let Some(prev) = self.applied.get(&e.index) {
            assert_eq!(
                prev, e,
                "node {id} applied a different entry at {}",
                e.index
            );
        } else {
            self.applied.insert(e.index, e.clone());
        }
        let c = *self.chain.entry(e.index).or_insert(chain_after);
        assert_eq!(
            c, chain_after,
            "node {id} state machine diverged at {}",
            e.index
        );
        if let Some(&t) = self.committed.get(&e.index) {
            assert_eq!(
                t, e.term,
                "node {id} applied an entry that is not the committed one at {}",
                e.index
            );
        }
        self.max_applied = self.max_applied.max(e.index);
    }

    pub fn installed_snapshot(&self, id: NodeId, index: Index, hash: u64) {
        if let Some(&c) = self.chain.get(&index) {
            assert_eq!(
                c, hash,
                "node {id} installed a snapshot at {index} that no node's state matches"
            );
        }
    }
}

/// Log matching over durable logs: where two logs hold the same (index, term), they
/// hold identical entries at and below it.
pub fn check_log_matching(logs: &[(NodeId, Vec<Entry>)]) {
    for (a, la) in logs {
        let ma: HashMap<Index, &Entry> = la.iter().map(|e| (e.index, e)).collect();
        for (b, lb) in logs {
            if a >= b {
                continue;
            }
            let highest_same = lb
                .iter()
                .rev()
                .find(|e| ma.get(&e.index).is_some_and(|x| x.term == e.term));
            let Some(h) = highest_same else { continue };
            for e in lb.iter().filter(|e| e.index <= h.index) {
                if let Some(x) = ma.get(&e.index) {
                    assert_eq!(
                        *x, e,
                        "log matching: nodes {a} and {b} agree at {} but differ at {}",
                        h.index, e.index
                    );
                }
            }
        }
    }
}
