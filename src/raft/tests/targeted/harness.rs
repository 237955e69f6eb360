//! A small synchronous cluster for scripted scenarios: persisting is instant, messages
//! go through a FIFO queue, links can be cut one way or both.
use ballast_raft::{
    Bootstrap, ConfState, Config, Entry, HardState, Message, NodeId, RaftNode, ReadState, Ready,
    Role,
};
use std::collections::{BTreeMap, HashSet, VecDeque};

pub struct Node {
    pub raft: RaftNode,
    pub hard: HardState,
    pub log: Vec<Entry>,
    pub applied: Vec<Entry>,
    pub read_states: Vec<ReadState>,
    pub readies: Vec<Ready>,
}

pub struct Cluster {
    pub nodes: BTreeMap<NodeId, Node>,
    pub queue: VecDeque<Message>,
    pub blocked: HashSet<(NodeId, NodeId)>,
    pub delivered: Vec<Message>,
}

pub fn voters(ids: &[NodeId]) -> ConfState {
    ConfState {
        voters: ids.to_vec(),
        learners: vec![],
        ..Default::default()
    }
}

impl Cluster {
    pub fn new(n: u64) -> Self {
        let ids: Vec<NodeId> = (1..=n).collect();
        Self::with_conf(&ids, voters(&ids), Config::new)
    }

    pub fn with_conf(ids: &[NodeId], conf: ConfState, cfg: fn(NodeId) -> Config) -> Self {
        let mut c = Self {
            nodes: BTreeMap::new(),
            queue: VecDeque::new(),
            blocked: HashSet::new(),
            delivered: vec![],
        };
        for &id in ids {
            let boot = Bootstrap {
                conf: conf.clone(),
                ..Bootstrap::default()
            };
            c.add_node(id, RaftNode::new(cfg(id), boot, 42 + id).expect("valid"));
        }
        c
    }

    pub fn add_node(&mut self, id: NodeId, raft: RaftNode) {
        let node = Node {
            raft,
            hard: HardState::default(),
            log: vec![],
            applied: vec![],
            read_states: vec![],
            readies: vec![],
        };
        self.nodes.insert(id, node);
    }

    pub fn raft(&mut self, id: NodeId) -> &mut RaftNode {
        &mut self.nodes.get_mut(&id).expect("node").raft
    }

    pub fn status(&self, id: NodeId) -> ballast_raft::Status {
        self.nodes[&id].raft.status()
    }

    pub fn isolate(&mut self, id: NodeId) {
        for &o in self.nodes.keys() {
            if o != id {
                self.blocked.insert((id, o));
                self.blocked.insert((o, id));
            }
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// Persist, advance, queue messages, apply: one Ready cycle for `id`.
    pub fn process(&mut self, id: NodeId) {
        let n = self.nodes.get_mut(&id).expect("node");
        while n.raft.has_ready() {
            let rd = n.raft.ready();
            if let Some(hs) = rd.hard_state {
                n.hard = hs;
            }
            if let Some(first) = rd.entries.first() {
                n.log.retain(|e| e.index < first.index);
                n.log.extend(rd.entries.iter().cloned());
            }
            n.raft.advance(&rd);
            self.queue.extend(rd.messages.iter().cloned());
            n.applied.extend(rd.committed_entries.iter().cloned());
            if let Some(last) = rd.committed_entries.last() {
                n.raft.applied_to(last.index);
            }
            n.read_states.extend(rd.read_states.iter().copied());
            n.readies.push(rd);
        }
    }

    pub fn deliver(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for &id in &ids {
            self.process(id);
        }
        let mut budget = 100_000;
        while let Some(m) = self.queue.pop_front() {
            budget -= 1;
            assert!(budget > 0, "message storm");
            if self.blocked.contains(&(m.from, m.to)) || !self.nodes.contains_key(&m.to) {
                continue;
            }
            let to = m.to;
            self.delivered.push(m.clone());
            self.raft(to).step(m).expect("step");
            self.process(to);
        }
    }

    pub fn tick(&mut self, n: u32) {
        for _ in 0..n {
            let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            for id in ids {
                self.raft(id).tick();
            }
            self.deliver();
        }
    }

    pub fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.raft.status().role == Role::Leader)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Starts node `id` campaigning and delivers until quiet; asserts it won.
    pub fn elect(&mut self, id: NodeId) {
        self.raft(id).campaign();
        self.deliver();
        assert_eq!(
            self.status(id).role,
            Role::Leader,
            "node {id} should have won"
        );
    }

    pub fn bootstrap_of(&self, id: NodeId, conf: ConfState) -> Bootstrap {
        let n = &self.nodes[&id];
        Bootstrap {
            hard_state: n.hard,
            conf,
            snapshot: None,
            entries: n.log.clone(),
        }
    }
}
