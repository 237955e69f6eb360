//! What the core hands back to the driver, and its read-only status.
use crate::message::Message;
use crate::types::{ConfState, Entry, HardState, Index, NodeId, SnapshotMeta, Term};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// Volatile state worth telling the driver about when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftState {
    pub leader: Option<NodeId>,
    pub role: Role,
}

/// A linearizable read may be served once the state machine has applied `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadState {
    pub index: Index,
    pub ctx: u64,
}

/// One batch of work for the driver. Order: install `snapshot` (if any), persist
/// `hard_state` (term and vote must not become durable after the entries: entries of a
/// term the hard state does not know yet are refused at restart), truncate and append
/// `entries`, fsync when `must_sync()`; then call `advance`; then send `messages`, apply
/// `committed_entries` and call `applied_to`. Take one Ready at a time; `step` and
/// `tick` may be called while the driver is persisting it.
#[derive(Clone, Debug, Default)]
pub struct Ready {
    pub soft_state: Option<SoftState>,
    pub hard_state: Option<HardState>,
    /// A state-store snapshot received from the leader: install its data (which the
    /// driver received with the InstallSnapshot message) and reset the log to start
    /// after `snapshot.index`.
    pub snapshot: Option<SnapshotMeta>,
    /// If `entries[0].index <= the stable last index`, truncate the log from there first.
    pub entries: Vec<Entry>,
    pub committed_entries: Vec<Entry>,
    pub messages: Vec<Message>,
    pub read_states: Vec<ReadState>,
}

impl Ready {
    /// True when the batch must be fsynced before `advance` (a commit-index-only
    /// change does not need it: the commit index is re-learned after a crash).
    pub fn must_sync(&self, previous: &HardState) -> bool {
        self.snapshot.is_some()
            || !self.entries.is_empty()
            || self
                .hard_state
                .is_some_and(|h| h.term != previous.term || h.vote != previous.vote)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicationState {
    Probe,
    Replicate,
    Snapshot,
}

/// The leader's view of one member (empty on followers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub id: NodeId,
    pub match_index: Index,
    pub next_index: Index,
    pub state: ReplicationState,
    pub recent_active: bool,
    pub learner: bool,
    /// Ticks since the leader last heard an Append or heartbeat reply from this peer (0
    /// for the leader itself; counts from the start of this leadership). Consul's
    /// `LastContact` and autopilot's health input.
    pub ticks_since_contact: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub id: NodeId,
    pub term: Term,
    pub vote: NodeId,
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: Index,
    pub applied: Index,
    pub first_index: Index,
    pub last_index: Index,
    pub conf: ConfState,
    /// Ticks since this node last heard from the leader (0 on the leader). Consul's
    /// `LastContact`.
    pub ticks_since_leader_contact: u32,
    pub transferring_to: Option<NodeId>,
    pub peers: Vec<PeerStatus>,
}
