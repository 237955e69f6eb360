//! What the HTTP front end needs from the agent. The agent implements
//! [`Backend`] once per service shard; everything is single-threaded
//! (`Rc`, `!Send` futures on glommio).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ballast_store::{ApplyResult, Command, StateSnapshot, WatchRegistry};
use serde::Serialize;

/// Raft leadership as this server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderStatus {
    /// This server is the leader (and may serve default-consistency reads
    /// from its own state).
    pub is_leader: bool,
    /// Some server is known to be leader (`X-Consul-KnownLeader`).
    pub known_leader: bool,
    /// Milliseconds since the last contact with the leader; 0 on the
    /// leader (`X-Consul-LastContact`).
    pub last_contact_ms: u64,
    /// The leader's RPC address `ip:port` (`/v1/status/leader`).
    pub leader_addr: Option<String>,
}

/// Why a backend call failed. Each maps to the status and text Consul
/// gives for the same situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// 500 `No cluster leader`.
    NoLeader,
    /// 429 with this text (Consul's `rate limit exceeded` path): a bounded
    /// queue is full.
    Overloaded(String),
    /// 500 `timed out enqueuing operation`: the write or barrier did not
    /// complete within its deadline.
    Timeout,
    /// 503: the agent is shutting down.
    ShuttingDown,
    /// 500 with this text.
    Internal(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::NoLeader => f.write_str("No cluster leader"),
            BackendError::Overloaded(m) => f.write_str(m),
            BackendError::Timeout => f.write_str("timed out enqueuing operation"),
            BackendError::ShuttingDown => f.write_str("agent is shutting down"),
            BackendError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BackendError {}

impl BackendError {
    /// HTTP status Consul uses for this failure.
    pub fn status(&self) -> u16 {
        match self {
            BackendError::NoLeader | BackendError::Timeout | BackendError::Internal(_) => 500,
            BackendError::Overloaded(_) => 429,
            BackendError::ShuttingDown => 503,
        }
    }
}

/// The agent's state as the HTTP API needs it. Implemented by the agent per
/// service shard; must be cheap for the non-async methods (they run on
/// every request).
#[allow(async_fn_in_trait)] // futures are !Send by design (glommio)
pub trait Backend {
    /// Lock-free load of the published state snapshot.
    fn state(&self) -> Arc<StateSnapshot>;
    /// Current leadership view.
    fn leader_status(&self) -> LeaderStatus;
    /// Write through Raft; resolves after commit and apply (the result is
    /// the state machine's answer).
    async fn propose(&self, cmd: Command) -> Result<ApplyResult, BackendError>;
    /// Linearizable read point: a ReadIndex round confirmed by a quorum,
    /// and this shard's snapshot applied up to it. Also used for default
    /// reads on a follower (instead of forwarding to the leader).
    async fn consistent_barrier(&self) -> Result<(), BackendError>;
    /// A default-mode read on the leader: resolves once this shard's snapshot holds
    /// everything the leader may already have told followers is committed (a follower
    /// may have acknowledged such a write to its client).
    async fn lease_read_ready(&self) -> Result<(), BackendError> {
        Ok(())
    }
    /// This shard's watch registry (the agent calls `notify` on it after
    /// each publish).
    fn watches(&self) -> &WatchRegistry;
    /// `/v1/agent/self`.
    fn agent_info(&self) -> AgentInfo;
    /// Raft servers' `ip:port` (`/v1/status/peers`).
    fn raft_peers(&self) -> Vec<String>;
    /// Serf members, LAN pool or (`wan`) WAN pool (`/v1/agent/members`).
    fn members(&self, wan: bool) -> Vec<Member>;
    /// `GET /v1/operator/raft/configuration`; `stale` = answer from this
    /// server's own view (no leader needed), else the leader's.
    async fn raft_configuration(&self, stale: bool) -> Result<RaftConfiguration, BackendError>;
    /// `DELETE /v1/operator/raft/peer?id=|?address=`. A peer that is not in
    /// the configuration is an error with Consul's text (`id "x" was not
    /// found in the Raft configuration`), answered as a 500.
    async fn remove_raft_peer(&self, peer: PeerSelector) -> Result<(), BackendError>;
    /// `POST /v1/operator/raft/transfer-leader[?id=]`; `None` lets Raft pick
    /// the new leader.
    async fn transfer_leader(&self, to: Option<String>) -> Result<(), BackendError>;

    /// A client agent: every endpoint that is not agent-local goes to a server
    /// through [`Backend::forward`].
    fn forwards_to_servers(&self) -> bool {
        false
    }
    /// Sends `req` to a server and returns its response as it came.
    async fn forward(&self, _req: &crate::server::Request) -> crate::server::Response {
        crate::server::Response::text(500, "No known Consul servers")
    }
    /// `PUT /v1/agent/join/<addr>`: join the LAN (or `wan`) pool through `addr`.
    async fn join(&self, _addr: String, _wan: bool) -> Result<(), BackendError> {
        Err(BackendError::Internal("gossip is not running on this agent".into()))
    }
    /// `PUT /v1/agent/leave`: leave the pools gracefully, then shut the agent down.
    async fn leave(&self) -> Result<(), BackendError> {
        Err(BackendError::Internal("gossip is not running on this agent".into()))
    }
    /// `PUT /v1/agent/force-leave/<node>`: a failed member becomes left (`prune`:
    /// forgotten at once).
    async fn force_leave(&self, _node: String, _prune: bool, _wan: bool) -> Result<(), BackendError> {
        Err(BackendError::Internal("gossip is not running on this agent".into()))
    }
    /// Vivaldi coordinates this agent knows, by node name, for the LAN pool or (`wan`)
    /// the WAN pool (`/v1/coordinate/*`).
    fn coordinates(&self, _wan: bool) -> Vec<(String, Coord)> {
        Vec::new()
    }
    /// `GET /v1/catalog/datacenters`: every known datacenter, nearest first
    /// (Consul's `GetDatacentersByDistance`); just this agent's without WAN
    /// federation.
    fn datacenters(&self) -> Vec<String> {
        vec![self.agent_info().config.datacenter]
    }
    /// `PUT /v1/coordinate/update`.
    async fn update_coordinate(&self, _node: String, _coord: Coord) -> Result<(), BackendError> {
        Err(BackendError::Internal("coordinates are not kept by this agent".into()))
    }
    /// This agent's own services and checks; None on a backend without them.
    fn local(&self) -> Option<&std::sync::Mutex<ballast_local::LocalState>> {
        None
    }
    /// Called after an endpoint changed the local state (the agent syncs it to the catalog and reschedules checks).
    fn local_changed(&self) {}
    /// `/v1/operator/keyring`: the operation on every pool, one response per pool.
    async fn keyring(&self, _op: ballast_keyring::KeyOp, _local_only: bool) -> Result<Vec<ballast_keyring::KeyringResponse>, BackendError> {
        Err(BackendError::Internal("gossip is not running on this agent".into()))
    }
}

/// One server of the Raft configuration, JSON as Consul's
/// `structs.RaftServer` (fields in its order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RaftServer {
    /// Raft server ID (the node ID, a UUID).
    #[serde(rename = "ID")]
    pub id: String,
    /// Node name, `(unknown)` when the server is not a known Serf member.
    pub node: String,
    /// Raft address `ip:port`.
    pub address: String,
    pub leader: bool,
    /// The member's `raft_vsn` tag (`"3"`), `unknown` when not a member.
    pub protocol_version: String,
    pub voter: bool,
    /// Last log index this server has, as the leader's autopilot tracks it.
    pub last_index: u64,
}

/// The Raft configuration, JSON as Consul's `RaftConfigurationResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RaftConfiguration {
    /// `null` when empty (a Go nil slice).
    #[serde(serialize_with = "nil_if_empty")]
    pub servers: Vec<RaftServer>,
    /// Raft index of this configuration.
    pub index: u64,
}

fn nil_if_empty<S: serde::Serializer>(v: &[RaftServer], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(v)
    }
}

/// Which peer `DELETE /v1/operator/raft/peer` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerSelector {
    /// `?id=`: the Raft server ID.
    Id(String),
    /// `?address=`: the Raft address `ip:port`.
    Address(String),
}

/// A Serf member, JSON exactly as Consul's `serf.Member`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Member {
    pub name: String,
    /// IP address as text.
    pub addr: String,
    /// Serf port.
    pub port: u16,
    /// `role`, `dc`, `id`, `port`, `vsn`, `build`, ...; sorted like Go maps.
    pub tags: BTreeMap<String, String>,
    /// 0 none, 1 alive, 2 leaving, 3 left, 4 failed.
    pub status: u8,
    pub protocol_min: u8,
    pub protocol_max: u8,
    pub protocol_cur: u8,
    pub delegate_min: u8,
    pub delegate_max: u8,
    pub delegate_cur: u8,
}

/// A Vivaldi coordinate, JSON as Consul's `coordinate.Coordinate`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct Coord {
    pub vec: Vec<f64>,
    pub error: f64,
    pub adjustment: f64,
    pub height: f64,
}

/// `Config` of `/v1/agent/self`, fields in Consul's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AgentConfig {
    pub datacenter: String,
    pub primary_datacenter: String,
    pub node_name: String,
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub revision: String,
    pub server: bool,
    pub version: String,
    /// RFC 3339.
    pub build_date: String,
}

/// Everything `/v1/agent/self` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentInfo {
    pub config: AgentConfig,
    /// The sanitized runtime configuration (Patroni reads
    /// `DebugConfig.SessionTTLMin`). A JSON object.
    pub debug_config: serde_json::Map<String, serde_json::Value>,
    pub coord: Option<Coord>,
    pub member: Member,
    /// `Stats` (values are strings, as in Consul).
    pub stats: BTreeMap<String, BTreeMap<String, String>>,
    /// Node metadata.
    pub meta: BTreeMap<String, String>,
    /// `xDS` section, omitted when `None`.
    pub xds: Option<serde_json::Value>,
}
