//! Errors of the transport. Each carries enough context to be logged as is.
use std::fmt;

use ballast_raft::NodeId;

use crate::Lane;

/// Why a message (or a snapshot stream) was not sent. A refused message is dropped:
/// Raft retries on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    UnknownPeer(NodeId),
    /// The lane's queue is at its bound (the peer is slow, stuck or unreachable).
    QueueFull {
        peer: NodeId,
        lane: Lane,
    },
    /// The encoded message (or snapshot) is bigger than a frame, a queue or the snapshot
    /// limit allows.
    TooLarge {
        peer: NodeId,
        bytes: u64,
        max: u64,
    },
    /// The message cannot be encoded (or frames were given for a non-Append message).
    Encode(String),
    /// A snapshot is already streaming to that peer.
    SnapshotInProgress(NodeId),
    /// `send_snapshot` was given a message that is not `InstallSnapshot`.
    NotASnapshot(NodeId),
    /// Streaming a snapshot failed: connect, write, deadline, or the receiver refused it.
    Stream {
        peer: NodeId,
        reason: String,
    },
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::UnknownPeer(id) => write!(f, "unknown peer {id}"),
            SendError::QueueFull { peer, lane } => {
                write!(
                    f,
                    "{lane:?} lane queue to peer {peer} is full, message dropped"
                )
            }
            SendError::TooLarge { peer, bytes, max } => {
                write!(
                    f,
                    "message to peer {peer} is {bytes} bytes, over the limit of {max}"
                )
            }
            SendError::Encode(e) => write!(f, "cannot encode message: {e}"),
            SendError::SnapshotInProgress(id) => {
                write!(f, "a snapshot is already streaming to peer {id}")
            }
            SendError::NotASnapshot(id) => {
                write!(
                    f,
                    "send_snapshot to peer {id} needs an InstallSnapshot message"
                )
            }
            SendError::Stream { peer, reason } => {
                write!(f, "streaming a snapshot to peer {peer} failed: {reason}")
            }
        }
    }
}

impl std::error::Error for SendError {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// Too many calls outstanding to that address (locally), or the remote refused the
    /// call because it has too many running on this connection.
    Overloaded(String),
    /// The deadline passed before the response arrived.
    Timeout,
    /// No connection to the address (refused, unreachable, connect deadline).
    Connect(String),
    /// The connection broke after the request may have been sent: the outcome is unknown.
    Disconnected(String),
    TooLarge {
        bytes: usize,
        max: usize,
    },
    /// The peer answered something that is not a valid response.
    Protocol(String),
    /// The server could not answer (e.g. its response was over the frame limit).
    Remote(String),
    /// The transport was dropped.
    Closed,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Overloaded(why) => write!(f, "call refused, overloaded: {why}"),
            CallError::Timeout => write!(f, "call deadline expired"),
            CallError::Connect(e) => write!(f, "cannot connect: {e}"),
            CallError::Disconnected(e) => write!(f, "connection lost during the call: {e}"),
            CallError::TooLarge { bytes, max } => {
                write!(
                    f,
                    "call request is {bytes} bytes, over the frame limit of {max}"
                )
            }
            CallError::Protocol(e) => write!(f, "bad response: {e}"),
            CallError::Remote(e) => write!(f, "server failed the call: {e}"),
            CallError::Closed => write!(f, "transport closed"),
        }
    }
}

impl std::error::Error for CallError {}

/// Bad bytes from the network. Any of these closes the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    BadMagic([u8; 4]),
    UnsupportedVersion(u8),
    UnknownLane(u8),
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    FrameTooLarge {
        len: u64,
        max: u64,
    },
    CrcMismatch {
        stored: u32,
        computed: u32,
    },
    UnknownKind {
        kind: u8,
        expected: &'static str,
    },
    /// An rkyv archive that does not validate (detail from bytecheck).
    InvalidMessage(String),
    /// Append entries frames that do not verify.
    InvalidFrames(String),
    /// Structurally valid but not allowed here (wrong sender, out-of-order chunk, ...).
    Protocol(String),
    SnapshotTooLarge {
        len: u64,
        max: u64,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadMagic(m) => write!(f, "bad preamble magic {m:02x?}"),
            WireError::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            WireError::UnknownLane(l) => write!(f, "unknown lane {l}"),
            WireError::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, have {have}")
            }
            WireError::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max}")
            }
            WireError::CrcMismatch { stored, computed } => write!(
                f,
                "frame crc mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            WireError::UnknownKind { kind, expected } => {
                write!(f, "unexpected frame kind {kind} (expected {expected})")
            }
            WireError::InvalidMessage(e) => write!(f, "invalid message archive: {e}"),
            WireError::InvalidFrames(e) => write!(f, "invalid entry frames: {e}"),
            WireError::Protocol(e) => write!(f, "protocol error: {e}"),
            WireError::SnapshotTooLarge { len, max } => {
                write!(
                    f,
                    "announced snapshot of {len} bytes is over the limit of {max}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}
