//! The HTTP API's view of the agent on one service shard: lock-free snapshot reads, writes
//! and consistent-read barriers sent to the control shard over this shard's bounded queue,
//! and the shard's own watch registry for blocking queries.
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_http::{AgentInfo, Backend, BackendError, LeaderStatus, Member, PeerSelector, RaftConfiguration, RaftServer};
use ballast_shards::{QueueSender, TrySendError};
use ballast_store::{encode_command, ApplyResult, Command, StateSnapshot, Store, WatchRegistry};

use super::forwarder::Forwarder;
use super::pending::Pending;
use crate::cluster_view::ClusterView;
use crate::gossip::MembersView;
use crate::identity::Identity;
use crate::messages::{GossipOp, GossipReply, OperatorOp, OperatorReply, ToControl, WriteFailure};
use crate::view::RaftView;

/// How long a write waits for a leader before answering "No cluster leader" (Consul's
/// rpc_hold_timeout), and how long it may take to commit once queued.
const HOLD_TIMEOUT: Duration = Duration::from_secs(7);
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

pub type WriteSlots = Pending<Result<ApplyResult, WriteFailure>>;
pub type ReadSlots = Pending<Result<(), WriteFailure>>;
pub type OperatorSlots = Pending<Result<OperatorReply, BackendError>>;
pub type GossipSlots = Pending<Result<GossipReply, BackendError>>;
/// A join or a keyring query waits on the network; a leave on its spreading.
const GOSSIP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ServiceBackend {
    pub store: Store,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub to_control: QueueSender<ToControl>,
    pub writes: Rc<WriteSlots>,
    pub reads: Rc<ReadSlots>,
    pub ops: Rc<OperatorSlots>,
    pub gossip_ops: Rc<GossipSlots>,
    pub watches: WatchRegistry,
    pub identity: Arc<Identity>,
    pub members: Arc<MembersView>,
    /// Set on client agents: everything but agent-local endpoints goes to a server.
    pub forwarder: Option<Forwarder>,
    pub local: Arc<crate::local_agent::LocalAgent>,
    /// Wakes this shard's anti-entropy worker.
    pub sync_kick: crate::local_agent::SyncKick,
}

impl ServiceBackend {
    /// Local services or checks changed: push the change to the catalog.
    pub fn kick_sync(&self) {
        self.sync_kick.kick();
    }

    /// Waits (Consul's rpc_hold_timeout) until this server can lead the request or knows a
    /// leader to forward it to.
    async fn await_leader(&self) -> Result<(), BackendError> {
        let deadline = Instant::now() + HOLD_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        while !(self.view.is_leader_ready() || self.view.leader_id().is_some_and(|l| l != self.identity.raft_id)) {
            if Instant::now() >= deadline {
                return Err(BackendError::NoLeader);
            }
            glommio::timer::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        Ok(())
    }

    async fn operate(&self, op: OperatorOp) -> Result<OperatorReply, BackendError> {
        self.await_leader().await?;
        let ticket = self.ops.begin().ok_or_else(|| BackendError::Overloaded("rate limit exceeded".into()))?;
        self.enqueue(ToControl::Operator { id: ticket.id, op })?;
        match with_deadline(ticket, COMMIT_TIMEOUT).await {
            Some(result) => result,
            None => Err(BackendError::Timeout),
        }
    }

    async fn gossip(&self, op: GossipOp) -> Result<GossipReply, BackendError> {
        let ticket = self.gossip_ops.begin().ok_or_else(|| BackendError::Overloaded("rate limit exceeded".into()))?;
        self.enqueue(ToControl::Gossip { id: ticket.id, op })?;
        match with_deadline(ticket, GOSSIP_TIMEOUT).await {
            Some(result) => result,
            None => Err(BackendError::Timeout),
        }
    }

    fn enqueue(&self, msg: ToControl) -> Result<(), BackendError> {
        match self.to_control.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(BackendError::Overloaded("rate limit exceeded".into())),
            Err(TrySendError::Closed(_)) => Err(BackendError::ShuttingDown),
        }
    }
}

fn map_failure(f: WriteFailure) -> BackendError {
    match f {
        WriteFailure::NoLeader => BackendError::NoLeader,
        WriteFailure::Overloaded(m) => BackendError::Overloaded(m),
        WriteFailure::LeadershipLost => BackendError::Internal("leadership lost while committing log".into()),
        WriteFailure::Storage(m) | WriteFailure::Forward(m) => BackendError::Internal(m),
        WriteFailure::ShuttingDown => BackendError::ShuttingDown,
    }
}

async fn with_deadline<T>(fut: impl std::future::Future<Output = T>, limit: Duration) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        glommio::timer::sleep(limit).await;
        None
    })
    .await
}

impl Backend for ServiceBackend {
    fn state(&self) -> Arc<StateSnapshot> {
        self.store.load()
    }

    fn leader_status(&self) -> LeaderStatus {
        let leader = self.view.leader_id();
        LeaderStatus {
            is_leader: self.view.is_leader_ready(),
            known_leader: self.view.known_leader(),
            last_contact_ms: self.view.last_contact_ms(),
            leader_addr: leader.and_then(|id| self.cluster.load().server(id).map(|s| s.info.address.clone())),
        }
    }

    async fn propose(&self, cmd: Command) -> Result<ApplyResult, BackendError> {
        self.await_leader().await?;
        let ticket = self.writes.begin().ok_or_else(|| BackendError::Overloaded("rate limit exceeded".into()))?;
        self.enqueue(ToControl::Propose { id: ticket.id, cmd: encode_command(&cmd) })?;
        match with_deadline(ticket, COMMIT_TIMEOUT).await {
            Some(result) => result.map_err(map_failure),
            None => Err(BackendError::Timeout),
        }
    }

    async fn consistent_barrier(&self) -> Result<(), BackendError> {
        self.await_leader().await?;
        let ticket = self.reads.begin().ok_or_else(|| BackendError::Overloaded("rate limit exceeded".into()))?;
        self.enqueue(ToControl::ReadBarrier { id: ticket.id })?;
        match with_deadline(ticket, COMMIT_TIMEOUT).await {
            Some(result) => result.map_err(map_failure),
            None => Err(BackendError::Timeout),
        }
    }

    async fn lease_read_ready(&self) -> Result<(), BackendError> {
        let want = self.view.commit();
        if self.store.load().applied_index() >= want {
            return Ok(()); // the usual case: applying trails committing by microseconds
        }
        let deadline = Instant::now() + COMMIT_TIMEOUT;
        while self.store.load().applied_index() < want {
            if Instant::now() >= deadline {
                return Err(BackendError::Timeout);
            }
            glommio::timer::sleep(Duration::from_micros(200)).await;
        }
        Ok(())
    }

    fn watches(&self) -> &WatchRegistry {
        &self.watches
    }

    fn agent_info(&self) -> AgentInfo {
        let mut info = self.identity.agent_info(&self.view);
        info.coord = self.members.coord();
        if !self.identity.server {
            // A client has no Raft; Consul shows how many servers it knows instead.
            info.stats.remove("raft");
            let consul = info.stats.entry("consul".into()).or_default();
            consul.remove("leader");
            consul.insert("known_servers".into(), self.members.servers().len().to_string());
        }
        if let Some(me) = self.members.members(false).iter().find(|m| m.name == self.identity.node_name) {
            info.member = me.clone();
        }
        info
    }

    fn raft_peers(&self) -> Vec<String> {
        // Consul lists the voters' addresses.
        self.cluster.load().servers.iter().filter(|s| s.voter).map(|s| s.info.address.clone()).collect()
    }

    async fn raft_configuration(&self, stale: bool) -> Result<RaftConfiguration, BackendError> {
        // Consul answers from the leader (which knows how far each server is) unless stale.
        let info = match stale {
            true => self.cluster.load(),
            false => match self.operate(OperatorOp::Configuration).await? {
                OperatorReply::Configuration(info) => Arc::new(info),
                OperatorReply::Done => self.cluster.load(),
            },
        };
        let servers = info
            .servers
            .iter()
            .map(|s| RaftServer {
                id: s.info.node_id.clone(),
                node: if s.info.node.is_empty() { "(unknown)".into() } else { s.info.node.clone() },
                address: s.info.address.clone(),
                leader: info.leader == Some(s.info.id),
                protocol_version: "3".into(),
                voter: s.voter,
                last_index: s.last_index,
            })
            .collect();
        Ok(RaftConfiguration { servers, index: info.conf_index })
    }

    async fn remove_raft_peer(&self, peer: PeerSelector) -> Result<(), BackendError> {
        let op = match peer {
            PeerSelector::Id(key) => OperatorOp::RemovePeer { by_id: true, key },
            PeerSelector::Address(key) => OperatorOp::RemovePeer { by_id: false, key },
        };
        self.operate(op).await.map(|_| ())
    }

    async fn transfer_leader(&self, to: Option<String>) -> Result<(), BackendError> {
        self.operate(OperatorOp::TransferLeader { to: to.unwrap_or_default() }).await.map(|_| ())
    }

    fn members(&self, wan: bool) -> Vec<Member> {
        let members = self.members.members(wan);
        if members.is_empty() {
            // Before the pool's first publish: ourselves, as Serf lists its own node.
            return vec![self.identity.member(wan)];
        }
        members.as_ref().clone()
    }

    fn coordinates(&self, wan: bool) -> Vec<(String, ballast_http::Coord)> {
        self.members.coords(wan).as_ref().clone()
    }

    async fn update_coordinate(&self, node: String, coord: ballast_http::Coord) -> Result<(), BackendError> {
        let coord = ballast_coordinate::Coordinate { vec: coord.vec, error: coord.error, adjustment: coord.adjustment, height: coord.height };
        self.gossip(GossipOp::CoordinateUpdate { node, coord }).await.map(|_| ())
    }

    fn local(&self) -> Option<&std::sync::Mutex<ballast_local::LocalState>> {
        Some(self.local.state())
    }

    fn local_changed(&self) {
        self.kick_sync();
    }

    fn forwards_to_servers(&self) -> bool {
        self.forwarder.is_some()
    }

    async fn forward(&self, req: &ballast_http::Request) -> ballast_http::Response {
        match &self.forwarder {
            Some(f) => f.forward(req).await,
            None => ballast_http::Response::text(500, "this agent does not forward requests"),
        }
    }

    async fn join(&self, addr: String, wan: bool) -> Result<(), BackendError> {
        self.gossip(GossipOp::Join { addr, wan }).await.map(|_| ())
    }

    async fn leave(&self) -> Result<(), BackendError> {
        self.gossip(GossipOp::Leave).await.map(|_| ())
    }

    async fn force_leave(&self, node: String, prune: bool, wan: bool) -> Result<(), BackendError> {
        self.gossip(GossipOp::ForceLeave { node, prune, wan }).await.map(|_| ())
    }

    async fn keyring(&self, op: ballast_keyring::KeyOp, local_only: bool) -> Result<Vec<ballast_keyring::KeyringResponse>, BackendError> {
        match self.gossip(GossipOp::Keyring { op, local_only }).await? {
            GossipReply::Keyring(r) => Ok(r),
            GossipReply::Done => Ok(Vec::new()),
        }
    }
}
