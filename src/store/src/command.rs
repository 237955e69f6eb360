//! The Raft log payload: what a write asks the state machine to do.
//!
//! New variants go at the END of the enum (and new verbs at the end of
//! `KvVerb`): rkyv stores the variant position, and old logs must keep
//! decoding to the same command.

use rkyv::rancor;
use rkyv::util::AlignedVec;
use rkyv::{Archive, Deserialize, Serialize};

use crate::catalog::{DeregisterRequest, RegisterRequest};
use crate::error::DecodeError;
use crate::txn::TxnOp;

/// A state-machine command (one Raft log entry's payload).
// The catalog variants hold their requests inline: that shape is the shared
// contract (catalog-api.md), and a command lives only while it is applied.
#[allow(clippy::large_enum_variant)]
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `PUT /v1/kv/<key>`: always succeeds; keeps the lock holder.
    KvSet {
        key: String,
        value: Option<Vec<u8>>,
        flags: u64,
    },
    /// `PUT ?cas=<index>`: 0 = create only; N = only if ModifyIndex == N.
    KvCas {
        key: String,
        value: Option<Vec<u8>>,
        flags: u64,
        index: u64,
    },
    /// `PUT ?acquire=<session>`.
    KvAcquire {
        key: String,
        value: Option<Vec<u8>>,
        flags: u64,
        session: String,
    },
    /// `PUT ?release=<session>`.
    KvRelease {
        key: String,
        value: Option<Vec<u8>>,
        flags: u64,
        session: String,
    },
    /// `DELETE /v1/kv/<key>`.
    KvDelete { key: String },
    /// `DELETE ?cas=<index>`: true if deleted or already absent.
    KvDeleteCas { key: String, index: u64 },
    /// `DELETE ?recurse`: plain string prefix ("" = everything).
    KvDeleteTree { prefix: String },
    /// `PUT /v1/txn` with at least one write verb.
    Txn { ops: Vec<TxnOp> },
    /// Leader's tombstone GC: drop tombstones with index <= `upto`.
    ReapTombstones { upto: u64 },
    /// `PUT /v1/catalog/register`, anti-entropy, leader reconciliation:
    /// Consul's `EnsureRegistration`.
    CatalogRegister(RegisterRequest),
    /// `PUT /v1/catalog/deregister`: a service (with its checks), a check,
    /// or the whole node.
    CatalogDeregister(DeregisterRequest),
}

/// Serialize a command for the Raft log.
pub fn encode_command(cmd: &Command) -> Vec<u8> {
    // Serializing plain owned data into a growable buffer cannot fail; an
    // empty result would be rejected by the decoder, never misread.
    match rkyv::to_bytes::<rancor::Error>(cmd) {
        Ok(bytes) => bytes.into_vec(),
        Err(_) => Vec::new(),
    }
}

/// Validate `bytes` (any alignment) and call `f` with the archived command,
/// without copying its strings and values. Apply uses this: it copies only
/// what the store keeps.
pub fn with_archived_command<R>(
    bytes: &[u8],
    f: impl FnOnce(&ArchivedCommand) -> R,
) -> Result<R, DecodeError> {
    const ALIGN: usize = 16;
    if (bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
        let archived = access(bytes)?;
        return Ok(f(archived));
    }
    // Log records may sit at any offset in a read buffer: copy to aligned.
    let mut aligned = AlignedVec::<ALIGN>::with_capacity(bytes.len());
    aligned.extend_from_slice(bytes);
    let archived = access(&aligned)?;
    Ok(f(archived))
}

fn access(bytes: &[u8]) -> Result<&ArchivedCommand, DecodeError> {
    rkyv::access::<ArchivedCommand, rancor::Error>(bytes)
        .map_err(|e| DecodeError::new(format!("command: {e}")))
}

/// Validate and deserialize a command (bytes may be unaligned).
pub fn decode_command(bytes: &[u8]) -> Result<Command, DecodeError> {
    with_archived_command(bytes, |archived| {
        rkyv::deserialize::<Command, rancor::Error>(archived)
            .map_err(|e| DecodeError::new(format!("command: {e}")))
    })?
}
