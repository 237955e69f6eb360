//! The Raft cluster as the service shards see it: which servers exist, who leads, how far
//! each follower is. Published by the control shard as one immutable value behind an
//! atomic pointer (read without locks on any shard); replaced only when it changed.
use std::sync::Arc;

use arc_swap::ArcSwap;
use ballast_raft::{NodeId, ServerInfo};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerEntry {
    pub info: ServerInfo,
    pub voter: bool,
    /// Highest log index known to be on that server (the leader's match index; on a
    /// follower only its own entry and the leader's are known).
    pub last_index: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterInfo {
    pub servers: Vec<ServerEntry>,
    pub leader: Option<NodeId>,
    pub term: u64,
    pub commit: u64,
    pub last_index: u64,
    pub applied: u64,
    /// Index of the Config entry (or snapshot) that set this membership.
    pub conf_index: u64,
    /// Follower, Candidate, Leader (Consul's `raft.state`).
    pub state: &'static str,
}

impl ClusterInfo {
    pub fn server(&self, id: NodeId) -> Option<&ServerEntry> {
        self.servers.iter().find(|s| s.info.id == id)
    }
}

#[derive(Clone, Default)]
pub struct ClusterView(Arc<ArcSwap<ClusterInfo>>);

impl ClusterView {
    pub fn load(&self) -> Arc<ClusterInfo> {
        self.0.load_full()
    }

    /// Publishes `next` if it differs from what is published (readers keep their copy).
    pub fn publish_if_changed(&self, next: ClusterInfo) {
        if **self.0.load() != next {
            self.0.store(Arc::new(next));
        }
    }
}
