//! The member table: one entry per known node (ourselves included), holding
//! both the SWIM view (alive/suspect/dead/left) and the Serf view (status,
//! status Lamport time). Dead members stay until Serf reaps them.

use crate::fxhash::FxMap;

use crate::types::{Member, Now};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeState {
    Alive = 0,
    Suspect = 1,
    Dead = 2,
    Left = 3,
}

impl NodeState {
    pub fn from_u8(v: u8) -> Option<NodeState> {
        Some(match v {
            0 => NodeState::Alive,
            1 => NodeState::Suspect,
            2 => NodeState::Dead,
            3 => NodeState::Left,
            _ => return None,
        })
    }
    pub fn is_live(self) -> bool {
        matches!(self, NodeState::Alive | NodeState::Suspect)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct NodeEntry {
    pub member: Member,
    /// Change only through `Nodes::set_state` (it keeps the live count).
    state: NodeState,
    pub state_change: Now,
    pub status_ltime: u64,
}

impl NodeEntry {
    pub fn new(member: Member, state: NodeState, now: Now) -> Self {
        NodeEntry { member, state, state_change: now, status_ltime: 0 }
    }
    pub fn state(&self) -> NodeState {
        self.state
    }
}

#[derive(Default, Clone)]
pub(crate) struct Nodes {
    list: Vec<NodeEntry>,
    index: FxMap<String, usize>,
    live: usize,
}

impl Nodes {
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// Members SWIM considers alive or suspect (ourselves included).
    pub fn live(&self) -> usize {
        self.live
    }
    pub fn idx(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    pub fn get(&self, name: &str) -> Option<&NodeEntry> {
        self.idx(name).map(|i| &self.list[i])
    }
    pub fn at(&self, i: usize) -> &NodeEntry {
        &self.list[i]
    }
    pub fn at_mut(&mut self, i: usize) -> &mut NodeEntry {
        &mut self.list[i]
    }
    pub fn iter(&self) -> impl Iterator<Item = &NodeEntry> {
        self.list.iter()
    }
    pub fn insert(&mut self, e: NodeEntry) -> usize {
        if let Some(i) = self.idx(&e.member.name) {
            return i;
        }
        if e.state.is_live() {
            self.live += 1;
        }
        let i = self.list.len();
        self.index.insert(e.member.name.clone(), i);
        self.list.push(e);
        i
    }
    pub fn set_state(&mut self, i: usize, s: NodeState, now: Now) {
        let e = &mut self.list[i];
        if e.state == s {
            return;
        }
        match (e.state.is_live(), s.is_live()) {
            (true, false) => self.live -= 1,
            (false, true) => self.live += 1,
            _ => {}
        }
        e.state = s;
        e.state_change = now;
    }
    /// Forget a node. Indices of other nodes may change.
    pub fn remove(&mut self, name: &str) -> Option<NodeEntry> {
        let i = self.index.remove(name)?;
        let e = self.list.swap_remove(i);
        if i < self.list.len() {
            let moved = self.list[i].member.name.clone();
            self.index.insert(moved, i);
        }
        if e.state.is_live() {
            self.live -= 1;
        }
        Some(e)
    }
}
