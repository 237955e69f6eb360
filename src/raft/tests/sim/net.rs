//! Simulated network: per-message delay (so reordering), drop, duplication, directed
//! link blocks for full, one-way and split partitions, and partial loss on the links of
//! one node.
use crate::kv::Sm;
use ballast_raft::{Index, Message, NodeId};
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::{HashMap, HashSet};

/// A message plus what the driver streams beside it (the snapshot's state hash).
#[derive(Clone, Debug)]
pub struct Envelope {
    pub msg: Message,
    pub snap_data: Option<(Index, Sm)>,
}

pub struct Net {
    pub blocked: HashSet<(NodeId, NodeId)>,
    /// Extra loss, in percent, on every message to or from a node (a flaky NIC).
    pub lossy: HashMap<NodeId, u32>,
    pub drop_pct: u32,
    pub dup_pct: u32,
    pub min_delay: u64,
    pub max_delay: u64,
}

impl Net {
    pub fn new() -> Self {
        Self {
            blocked: HashSet::new(),
            lossy: HashMap::new(),
            drop_pct: 0,
            dup_pct: 0,
            min_delay: 1,
            max_delay: 6,
        }
    }

    /// Delivery delays for one send: empty when lost, two when duplicated.
    pub fn route(&self, rng: &mut StdRng, from: NodeId, to: NodeId) -> Vec<u64> {
        if self.blocked.contains(&(from, to)) || rng.gen_range(0..100) < self.drop_pct {
            return Vec::new();
        }
        for n in [from, to] {
            if let Some(&pct) = self.lossy.get(&n) {
                if rng.gen_range(0..100) < pct {
                    return Vec::new();
                }
            }
        }
        let mut out = vec![rng.gen_range(self.min_delay..=self.max_delay)];
        if rng.gen_range(0..100) < self.dup_pct {
            out.push(rng.gen_range(self.min_delay..=self.max_delay * 3));
        }
        out
    }

    pub fn isolate(&mut self, n: NodeId, all: &[NodeId]) {
        for &o in all {
            if o != n {
                self.blocked.insert((n, o));
                self.blocked.insert((o, n));
            }
        }
    }

    pub fn split(&mut self, side: &[NodeId], all: &[NodeId]) {
        for &a in side {
            for &b in all.iter().filter(|b| !side.contains(b)) {
                self.blocked.insert((a, b));
                self.blocked.insert((b, a));
            }
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
        self.lossy.clear();
    }
}
