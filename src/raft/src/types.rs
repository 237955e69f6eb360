//! Types shared by the Raft core, the log storage and the agent's driver.
//! Entries and hard state are rkyv types because the storage layer archives them as-is.
use rkyv::{Archive, Deserialize, Serialize};

pub type NodeId = u64;
pub type Term = u64;
pub type Index = u64;

/// What an entry carries. `Normal` entries hold an rkyv-encoded state-store command;
/// `Noop` is the entry a new leader appends to commit its term; `Config` holds an
/// rkyv-encoded `ConfState` (membership change through the log).
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
#[repr(u8)]
pub enum EntryKind {
    Normal = 0,
    Noop = 1,
    Config = 2,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    pub data: Vec<u8>,
}

/// Persisted before any message that depends on it is sent.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct HardState {
    pub term: Term,
    /// 0 = voted for nobody in `term`.
    pub vote: NodeId,
    pub commit: Index,
}

/// Where a server is reached and what operators call it: carried through Config entries and
/// snapshots unchanged (like hashicorp/raft's Configuration.Servers); the core never reads it.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ServerInfo {
    pub id: NodeId,
    pub address: String,
    pub node: String,
    pub node_id: String,
}

/// The cluster membership in force.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ConfState {
    pub voters: Vec<NodeId>,
    /// Non-voters: replicate and serve stale reads, never vote nor count for quorum.
    pub learners: Vec<NodeId>,
    /// Addresses and names of the members, opaque to the core (quorum and replication
    /// only look at `voters`/`learners`).
    pub servers: Vec<ServerInfo>,
}

impl ConfState {
    /// The address book entry for `id`, if the membership carries one.
    pub fn server(&self, id: NodeId) -> Option<&ServerInfo> {
        self.servers.iter().find(|s| s.id == id)
    }
}

/// Where a state-store snapshot ends in the log.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub conf: ConfState,
}
