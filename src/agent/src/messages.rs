//! What service shards and the control shard say to each other over the bounded queues.
use ballast_store::{ApplyResult, ChangeSet};

/// Service shard → control shard. Commands arrive already rkyv-encoded, so the control
/// shard spends no time encoding.
pub enum ToControl {
    Propose { id: u64, cmd: Vec<u8> },
    /// A `?consistent` read: confirm leadership with a quorum (ReadIndex) and wait until
    /// the state store has applied up to the read index.
    ReadBarrier { id: u64 },
}

/// Control shard → service shard.
pub enum ToService {
    /// Recovery finished and the store is published: start serving.
    Started,
    /// Recovery failed: the message is printed and the agent exits non-zero.
    Fatal,
    Written { id: u64, result: Result<ApplyResult, WriteFailure> },
    ReadReady { id: u64, result: Result<(), WriteFailure> },
    /// One publish of the state store: wake the blocking queries it concerns.
    Changes(ChangeSet),
    Shutdown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteFailure {
    /// Not the leader and no leader to forward to (single server: not elected yet).
    NoLeader,
    /// Raft refused more uncommitted data, or a queue was full.
    Overloaded(String),
    /// The entry was overwritten by a newer leader before it committed.
    LeadershipLost,
    /// The log could not be written: the agent stops accepting writes.
    Storage(String),
    ShuttingDown,
}
