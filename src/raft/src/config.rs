//! Node configuration, recovery input and the errors the core reports.
use crate::types::{ConfState, Entry, HardState, NodeId, SnapshotMeta};
use std::fmt;

/// Tunables of one Raft node. Ticks are driver intervals (the driver multiplies its
/// tick length by Consul's `raft_multiplier`; the core only counts).
#[derive(Clone, Debug)]
pub struct Config {
    pub id: NodeId,
    /// Followers campaign after a random timeout in `[election_tick, 2*election_tick)`.
    pub election_tick: u32,
    pub heartbeat_tick: u32,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Append messages in flight per follower in the replicate state.
    pub max_inflight_msgs: usize,
    pub max_entries_per_msg: usize,
    pub max_bytes_per_msg: usize,
    /// Upper bound on proposed-but-uncommitted payload bytes at the leader (back-pressure).
    pub max_uncommitted_bytes: usize,
    /// Upper bound on payload bytes handed out in one `Ready::committed_entries`.
    pub max_committed_bytes_per_ready: usize,
    /// Upper bound on outstanding `read_index` requests at the leader.
    pub max_pending_reads: usize,
}

impl Config {
    pub fn new(id: NodeId) -> Self {
        Self {
            id,
            election_tick: 10,
            heartbeat_tick: 1,
            pre_vote: true,
            check_quorum: true,
            max_inflight_msgs: 256,
            max_entries_per_msg: 512,
            max_bytes_per_msg: 1 << 20,
            max_uncommitted_bytes: 64 << 20,
            max_committed_bytes_per_ready: 8 << 20,
            max_pending_reads: 4096,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), RaftError> {
        if self.id == 0 {
            return Err(RaftError::InvalidConfig("id 0 is reserved for 'no node'"));
        }
        if self.heartbeat_tick == 0 {
            return Err(RaftError::InvalidConfig("heartbeat_tick must be > 0"));
        }
        if self.election_tick <= self.heartbeat_tick {
            return Err(RaftError::InvalidConfig(
                "election_tick must be > heartbeat_tick",
            ));
        }
        if self.max_inflight_msgs == 0
            || self.max_entries_per_msg == 0
            || self.max_bytes_per_msg == 0
        {
            return Err(RaftError::InvalidConfig(
                "message and in-flight limits must be > 0",
            ));
        }
        if self.max_pending_reads == 0 || self.max_committed_bytes_per_ready == 0 {
            return Err(RaftError::InvalidConfig(
                "read and apply limits must be > 0",
            ));
        }
        Ok(())
    }
}

/// What the driver recovered from disk.
///
/// `conf` is the membership in force at the snapshot (equal to `snapshot.conf` when a
/// snapshot exists), or the initial cluster membership on a fresh start. `Config`
/// entries in `entries` override it, the latest one winning (membership is taken
/// from the log, as in the Raft thesis). `entries` start right after the snapshot.
#[derive(Clone, Debug, Default)]
pub struct Bootstrap {
    pub hard_state: HardState,
    pub conf: ConfState,
    pub snapshot: Option<SnapshotMeta>,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftError {
    InvalidConfig(&'static str),
    InvalidBootstrap(String),
    /// A message addressed to another node reached this one.
    WrongRecipient {
        to: NodeId,
        me: NodeId,
    },
    /// A leader tried to overwrite a committed entry: a safety violation elsewhere.
    CommittedConflict {
        index: u64,
    },
    /// A `Config` entry whose payload does not decode as a `ConfState`.
    CorruptConfEntry {
        index: u64,
    },
}

impl fmt::Display for RaftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftError::InvalidConfig(why) => write!(f, "invalid raft config: {why}"),
            RaftError::InvalidBootstrap(why) => write!(f, "invalid raft bootstrap state: {why}"),
            RaftError::WrongRecipient { to, me } => {
                write!(f, "message for node {to} delivered to node {me}")
            }
            RaftError::CommittedConflict { index } => {
                write!(f, "append conflicts with committed entry {index}")
            }
            RaftError::CorruptConfEntry { index } => {
                write!(f, "config entry {index} does not decode")
            }
        }
    }
}
impl std::error::Error for RaftError {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeError {
    NotLeader {
        leader: Option<NodeId>,
    },
    TransferInProgress,
    TooLarge {
        size: usize,
        max: usize,
    },
    /// Too much uncommitted data or too many pending reads: retry later.
    Overloaded,
    /// A membership change is not committed yet, or this leader has not yet
    /// committed an entry of its own term.
    ConfChangePending,
    InvalidConfChange(&'static str),
}

impl fmt::Display for ProposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeError::NotLeader { leader: Some(l) } => {
                write!(f, "not the leader (leader is {l})")
            }
            ProposeError::NotLeader { leader: None } => {
                write!(f, "not the leader (no known leader)")
            }
            ProposeError::TransferInProgress => write!(f, "leadership transfer in progress"),
            ProposeError::TooLarge { size, max } => {
                write!(f, "entry of {size} bytes exceeds {max}")
            }
            ProposeError::Overloaded => write!(f, "raft is overloaded, retry later"),
            ProposeError::ConfChangePending => {
                write!(f, "a configuration change is already in progress")
            }
            ProposeError::InvalidConfChange(why) => {
                write!(f, "invalid configuration change: {why}")
            }
        }
    }
}
impl std::error::Error for ProposeError {}
