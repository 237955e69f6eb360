//! Raft messages. rkyv types because they go on the wire between servers.
use crate::types::{Entry, Index, NodeId, SnapshotMeta, Term};
use rkyv::{Archive, Deserialize, Serialize};

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    /// Sender's term; for `PreVote` the term the sender would campaign in.
    pub term: Term,
    pub body: MessageBody,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub enum MessageBody {
    PreVote {
        last_index: Index,
        last_term: Term,
    },
    PreVoteResp {
        reject: bool,
    },
    /// `transfer`: the candidate campaigns because the leader told it to (TimeoutNow),
    /// so followers grant even while they still hear from that leader.
    Vote {
        last_index: Index,
        last_term: Term,
        transfer: bool,
    },
    VoteResp {
        reject: bool,
    },
    Append {
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    },
    /// Success: the follower's log matches the leader's up to `index`.
    /// Rejection: `index` is the rejected `prev_index`; `reject_hint`/`hint_term` are the
    /// follower's guess of the last index that may match (fast log backtracking).
    AppendResp {
        reject: bool,
        index: Index,
        reject_hint: Index,
        hint_term: Term,
    },
    /// `read_ctx` > 0 asks the follower to echo it so pending ReadIndex requests up to
    /// that sequence number are confirmed.
    Heartbeat {
        commit: Index,
        read_ctx: u64,
    },
    HeartbeatResp {
        read_ctx: u64,
    },
    TimeoutNow,
    /// Snapshot data travels beside this message (streamed by the driver).
    InstallSnapshot {
        meta: SnapshotMeta,
    },
}

impl MessageBody {
    pub fn kind(&self) -> &'static str {
        match self {
            MessageBody::PreVote { .. } => "PreVote",
            MessageBody::PreVoteResp { .. } => "PreVoteResp",
            MessageBody::Vote { .. } => "Vote",
            MessageBody::VoteResp { .. } => "VoteResp",
            MessageBody::Append { .. } => "Append",
            MessageBody::AppendResp { .. } => "AppendResp",
            MessageBody::Heartbeat { .. } => "Heartbeat",
            MessageBody::HeartbeatResp { .. } => "HeartbeatResp",
            MessageBody::TimeoutNow => "TimeoutNow",
            MessageBody::InstallSnapshot { .. } => "InstallSnapshot",
        }
    }

    /// Heartbeats (and their replies) should travel on the driver's priority lane.
    pub fn is_heartbeat(&self) -> bool {
        matches!(
            self,
            MessageBody::Heartbeat { .. } | MessageBody::HeartbeatResp { .. }
        )
    }
}
