//! What service shards and the control shard say to each other over the bounded queues.
use ballast_http::BackendError;
use ballast_store::{ApplyResult, ChangeSet};

/// Service shard → control shard. Commands arrive already rkyv-encoded, so the control
/// shard spends no time encoding.
pub enum ToControl {
    Propose { id: u64, cmd: Vec<u8> },
    /// A `?consistent` read (or a default read on a follower): confirm leadership with a
    /// quorum (ReadIndex, through the leader when this server follows) and wait until the
    /// state store has applied up to the read index.
    ReadBarrier { id: u64 },
    /// `/v1/operator/raft/...` changes; the leader carries them out.
    Operator { id: u64, op: OperatorOp },
    /// Gossip membership and keyring requests (`/v1/agent/join|leave|force-leave`,
    /// `/v1/operator/keyring`); answered by the gossip pools, no leader needed.
    Gossip { id: u64, op: GossipOp },
}

#[derive(Clone, Debug, PartialEq)]
pub enum GossipOp {
    Join { addr: String, wan: bool },
    Leave,
    ForceLeave { node: String, prune: bool, wan: bool },
    Keyring { op: ballast_keyring::KeyOp, local_only: bool },
    CoordinateUpdate { node: String, coord: ballast_coordinate::Coordinate },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipReply {
    Done,
    Keyring(Vec<ballast_keyring::KeyringResponse>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorOp {
    /// By node ID (UUID) when `by_id`, else by `ip:port` (an empty key is still a key:
    /// Consul answers that it was not found).
    RemovePeer { by_id: bool, key: String },
    /// Empty: let the leader pick the most caught-up voter.
    TransferLeader { to: String },
    /// The leader's view of the configuration (with each server's last index).
    Configuration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorReply {
    Done,
    Configuration(crate::cluster_view::ClusterInfo),
}

/// Control shard → service shard.
pub enum ToService {
    /// Recovery finished and the store is published: start serving.
    Started,
    /// Recovery failed: the message is printed and the agent exits non-zero.
    Fatal,
    Written { id: u64, result: Result<ApplyResult, WriteFailure> },
    ReadReady { id: u64, result: Result<(), WriteFailure> },
    OperatorDone { id: u64, result: Result<OperatorReply, BackendError> },
    GossipDone { id: u64, result: Result<GossipReply, BackendError> },
    /// One publish of the state store: wake the blocking queries it concerns.
    Changes(ChangeSet),
    /// A client agent's forwarding connection, accepted on the server port: serve it as
    /// HTTP on this shard.
    HttpConn(std::os::fd::OwnedFd),
    Shutdown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// Not the leader and no leader to forward to.
    NoLeader,
    /// Raft refused more uncommitted data, or a queue was full.
    Overloaded(String),
    /// The entry was overwritten by a newer leader before it committed.
    LeadershipLost,
    /// The log could not be written: the agent stops accepting writes.
    Storage(String),
    /// Forwarding to the leader failed (it is unreachable or did not answer in time).
    Forward(String),
    ShuttingDown,
}
