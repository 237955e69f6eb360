//! The HTTP API's view of the agent on one service shard: lock-free snapshot reads, writes
//! and consistent-read barriers sent to the control shard over this shard's bounded queue,
//! and the shard's own watch registry for blocking queries.
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_http::{AgentInfo, Backend, BackendError, LeaderStatus, Member, PeerSelector, RaftConfiguration, RaftServer};
use ballast_shards::{QueueSender, TrySendError};
use ballast_store::{encode_command, ApplyResult, Command, StateSnapshot, Store, WatchRegistry};

use super::pending::Pending;
use crate::cluster_view::ClusterView;
use crate::identity::Identity;
use crate::messages::{OperatorOp, OperatorReply, ToControl, WriteFailure};
use crate::view::RaftView;

/// How long a write waits for a leader before answering "No cluster leader" (Consul's
/// rpc_hold_timeout), and how long it may take to commit once queued.
const HOLD_TIMEOUT: Duration = Duration::from_secs(7);
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

pub type WriteSlots = Pending<Result<ApplyResult, WriteFailure>>;
pub type ReadSlots = Pending<Result<(), WriteFailure>>;
pub type OperatorSlots = Pending<Result<OperatorReply, BackendError>>;

pub struct ServiceBackend {
    pub store: Store,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub to_control: QueueSender<ToControl>,
    pub writes: Rc<WriteSlots>,
    pub reads: Rc<ReadSlots>,
    pub ops: Rc<OperatorSlots>,
    pub watches: WatchRegistry,
    pub identity: Arc<Identity>,
}

impl ServiceBackend {
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

    fn watches(&self) -> &WatchRegistry {
        &self.watches
    }

    fn agent_info(&self) -> AgentInfo {
        self.identity.agent_info(&self.view)
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
        vec![self.identity.member(wan)]
    }
}
