//! A real store behind the [`Backend`] trait: proposals are applied at
//! once by a `ballast_store::Applier` at the next index, published, and
//! the shard's watch registry is notified, exactly as the agent's control
//! shard would do after commit.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use ballast_local::{LocalConfig, LocalState, NodeInfo};
use ballast_store::{Applier, ApplyResult, Command, StateSnapshot, Store, WatchRegistry};

use super::raft::FakeRaft;
use crate::backend::{
    AgentConfig, AgentInfo, Backend, BackendError, LeaderStatus, Member, PeerSelector,
    RaftConfiguration,
};

/// In-process backend for tests: single node, leader unless told otherwise.
pub struct TestBackend {
    applier: RefCell<Applier>,
    store: Store,
    next_index: Cell<u64>,
    watches: WatchRegistry,
    leader: RefCell<LeaderStatus>,
    /// Error returned by the next `propose` (then cleared).
    pub fail_next_propose: RefCell<Option<BackendError>>,
    /// Error returned by every `consistent_barrier` while set.
    pub barrier_error: RefCell<Option<BackendError>>,
    /// Number of barriers taken.
    pub barriers: Cell<u64>,
    /// Number of proposals applied.
    pub proposals: Cell<u64>,
    /// The Raft configuration the operator endpoints see and change.
    pub raft: FakeRaft,
    /// This agent's own services and checks (no data dir: nothing persisted).
    pub local: std::sync::Mutex<LocalState>,
    /// Number of `local_changed` calls.
    pub local_changes: Cell<u64>,
}

impl TestBackend {
    /// A fresh store whose first write lands at raft index 2 (index 1 is
    /// Consul's initial configuration entry).
    pub fn new() -> Rc<TestBackend> {
        let store = Store::new();
        Rc::new(TestBackend {
            applier: RefCell::new(Applier::new(store.clone())),
            store,
            next_index: Cell::new(2),
            watches: WatchRegistry::new(),
            leader: RefCell::new(LeaderStatus {
                is_leader: true,
                known_leader: true,
                last_contact_ms: 0,
                leader_addr: Some("127.0.0.1:8300".to_string()),
            }),
            fail_next_propose: RefCell::new(None),
            barrier_error: RefCell::new(None),
            barriers: Cell::new(0),
            proposals: Cell::new(0),
            raft: FakeRaft::new(),
            local: std::sync::Mutex::new(LocalState::new(local_node(), LocalConfig::default())),
            local_changes: Cell::new(0),
        })
    }

    /// Apply `cmd` at the next index, publish and notify watchers.
    pub fn apply(&self, cmd: &Command) -> ApplyResult {
        let index = self.next_index.get();
        self.next_index.set(index + 1);
        let mut applier = self.applier.borrow_mut();
        let result = applier.apply_command(index, cmd);
        let changes = applier.publish();
        drop(applier);
        self.watches.notify(&changes);
        result
    }

    /// Replace the leadership view.
    pub fn set_leader(&self, status: LeaderStatus) {
        self.raft.set_known_leader(status.known_leader);
        *self.leader.borrow_mut() = status;
    }

    /// The index the next write will get.
    pub fn next_index(&self) -> u64 {
        self.next_index.get()
    }
}

/// The agent `agent_info` describes, as its local state knows it.
fn local_node() -> NodeInfo {
    NodeInfo {
        node_name: "node-1".to_string(),
        node_id: "0b5f7c4e-0000-4000-8000-000000000001".to_string(),
        datacenter: "dc1".to_string(),
        address: "127.0.0.1".to_string(),
        ..NodeInfo::default()
    }
}

impl Backend for TestBackend {
    fn state(&self) -> Arc<StateSnapshot> {
        self.store.load()
    }

    fn leader_status(&self) -> LeaderStatus {
        self.leader.borrow().clone()
    }

    async fn propose(&self, cmd: Command) -> Result<ApplyResult, BackendError> {
        if let Some(e) = self.fail_next_propose.borrow_mut().take() {
            return Err(e);
        }
        if !self.leader.borrow().known_leader {
            return Err(BackendError::NoLeader);
        }
        self.proposals.set(self.proposals.get() + 1);
        Ok(self.apply(&cmd))
    }

    async fn consistent_barrier(&self) -> Result<(), BackendError> {
        self.barriers.set(self.barriers.get() + 1);
        if let Some(e) = self.barrier_error.borrow().clone() {
            return Err(e);
        }
        if !self.leader.borrow().known_leader {
            return Err(BackendError::NoLeader);
        }
        Ok(())
    }

    fn watches(&self) -> &WatchRegistry {
        &self.watches
    }

    fn agent_info(&self) -> AgentInfo {
        let mut stats = BTreeMap::new();
        let mut agent = BTreeMap::new();
        agent.insert("checks".to_string(), "0".to_string());
        stats.insert("agent".to_string(), agent);
        let mut debug = serde_json::Map::new();
        debug.insert("SessionTTLMin".to_string(), serde_json::json!("10s"));
        AgentInfo {
            config: AgentConfig {
                datacenter: "dc1".to_string(),
                primary_datacenter: "dc1".to_string(),
                node_name: "node-1".to_string(),
                node_id: "0b5f7c4e-0000-4000-8000-000000000001".to_string(),
                revision: "test".to_string(),
                server: true,
                version: "1.20.0".to_string(),
                build_date: "2024-01-01T00:00:00Z".to_string(),
            },
            debug_config: debug,
            coord: None,
            member: self.members(false).remove(0),
            stats,
            meta: BTreeMap::new(),
            xds: None,
        }
    }

    fn raft_peers(&self) -> Vec<String> {
        vec!["127.0.0.1:8300".to_string()]
    }

    fn members(&self, wan: bool) -> Vec<Member> {
        let mut tags = BTreeMap::new();
        tags.insert("dc".to_string(), "dc1".to_string());
        tags.insert("role".to_string(), "consul".to_string());
        let name = if wan { "node-1.dc1" } else { "node-1" };
        vec![Member {
            name: name.to_string(),
            addr: "127.0.0.1".to_string(),
            port: if wan { 8302 } else { 8301 },
            tags,
            status: 1,
            protocol_min: 1,
            protocol_max: 5,
            protocol_cur: 2,
            delegate_min: 2,
            delegate_max: 5,
            delegate_cur: 4,
        }]
    }

    async fn raft_configuration(&self, stale: bool) -> Result<RaftConfiguration, BackendError> {
        self.raft.read(stale)
    }

    async fn remove_raft_peer(&self, peer: PeerSelector) -> Result<(), BackendError> {
        self.raft.remove(peer)
    }

    async fn transfer_leader(&self, to: Option<String>) -> Result<(), BackendError> {
        self.raft.transfer(to)
    }

    fn local(&self) -> Option<&std::sync::Mutex<LocalState>> {
        Some(&self.local)
    }

    fn local_changed(&self) {
        self.local_changes.set(self.local_changes.get() + 1);
    }
}
