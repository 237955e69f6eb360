//! ballast-store: the replicated state machine's data.
//!
//! Pure data and logic (no I/O, no runtime): apply runs on the control shard,
//! every shard reads the published [`StateSnapshot`] lock-free through [`Store`].
//! KV semantics follow Consul's state store (`agent/consul/state/kvs.go`,
//! `txn.go`, `graveyard.go`) so clients cannot tell the difference.

pub mod catalog;
mod codec;
mod command;
mod error;
mod gc;
mod goquote;
mod kv;
mod kv_write;
mod publish;
mod state;
pub mod topic;
mod txn;
mod watch;

pub use codec::{decode_snapshot, encode_snapshot};
pub use command::{
    decode_command, encode_command, with_archived_command, ArchivedCommand, Command,
};
pub use error::DecodeError;
pub use gc::{TombstoneGc, DEFAULT_TOMBSTONE_GRANULARITY_MS, DEFAULT_TOMBSTONE_TTL_MS};
pub use goquote::go_quote;
pub use kv::KvEntry;
pub use publish::{Applier, ApplyResult, ChangeSet, Store};
pub use state::StateSnapshot;
pub use txn::{
    txn_is_write, txn_precheck, txn_read_only, validate_txn, KvVerb, TxnError, TxnKvOp,
    TxnLimitError, TxnLimits, TxnOp, TxnResponse, TxnResult, KV_MAX_VALUE_SIZE, MAX_TXN_OPS,
};
pub use watch::{WatchHandle, WatchRegistry, WatchTarget};

#[cfg(test)]
mod tests;
