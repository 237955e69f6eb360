//! Transactions (`PUT /v1/txn`): op types, limits, pre-checks and the
//! all-or-nothing executor, after Consul's `agent/txn_endpoint.go`,
//! `agent/consul/txn_endpoint.go` and `agent/consul/state/txn.go`.

use std::fmt;
use std::sync::Arc;

use rkyv::{Archive, Deserialize, Serialize};

use crate::goquote::go_quote;
use crate::kv::KvEntry;
use crate::kv_write::{KvWriter, Touched};
use crate::state::StateSnapshot;

/// Consul's `maxTxnOps` in `agent/txn_endpoint.go` (raised from 64 to 128;
/// Vault probes for 128).
pub const MAX_TXN_OPS: usize = 128;
/// Consul's default `kv_max_value_size` (512 KiB).
pub const KV_MAX_VALUE_SIZE: usize = 524_288;

/// KV verbs of `api.KVOp`. Unrecognised verbs are kept so the state machine
/// answers `unknown KV verb "<v>"` at the right op index, as Consul does.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum KvVerb {
    Set,
    Cas,
    Lock,
    Unlock,
    Get,
    GetOrEmpty,
    GetTree,
    CheckIndex,
    CheckSession,
    CheckNotExists,
    Delete,
    DeleteTree,
    DeleteCas,
    Unknown(String),
}

impl KvVerb {
    /// Parse Consul's verb string (`"set"`, `"get-tree"`, ...); exact match.
    pub fn parse(s: &str) -> KvVerb {
        match s {
            "set" => KvVerb::Set,
            "cas" => KvVerb::Cas,
            "lock" => KvVerb::Lock,
            "unlock" => KvVerb::Unlock,
            "get" => KvVerb::Get,
            "get-or-empty" => KvVerb::GetOrEmpty,
            "get-tree" => KvVerb::GetTree,
            "check-index" => KvVerb::CheckIndex,
            "check-session" => KvVerb::CheckSession,
            "check-not-exists" => KvVerb::CheckNotExists,
            "delete" => KvVerb::Delete,
            "delete-tree" => KvVerb::DeleteTree,
            "delete-cas" => KvVerb::DeleteCas,
            other => KvVerb::Unknown(other.to_string()),
        }
    }

    /// Consul's verb string.
    pub fn as_str(&self) -> &str {
        match self {
            KvVerb::Set => "set",
            KvVerb::Cas => "cas",
            KvVerb::Lock => "lock",
            KvVerb::Unlock => "unlock",
            KvVerb::Get => "get",
            KvVerb::GetOrEmpty => "get-or-empty",
            KvVerb::GetTree => "get-tree",
            KvVerb::CheckIndex => "check-index",
            KvVerb::CheckSession => "check-session",
            KvVerb::CheckNotExists => "check-not-exists",
            KvVerb::Delete => "delete",
            KvVerb::DeleteTree => "delete-tree",
            KvVerb::DeleteCas => "delete-cas",
            KvVerb::Unknown(v) => v,
        }
    }

    /// Consul's `isWrite`: verbs that send a txn through Raft.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            KvVerb::Set
                | KvVerb::Cas
                | KvVerb::Lock
                | KvVerb::Unlock
                | KvVerb::Delete
                | KvVerb::DeleteTree
                | KvVerb::DeleteCas
        )
    }
}

/// One KV op of a txn: Consul's `TxnKVOp` (verb + a `DirEntry` whose
/// `ModifyIndex` carries the request's `Index`). Fields a verb does not use
/// are ignored, as in Consul.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TxnKvOp {
    pub verb: KvVerb,
    pub key: String,
    pub value: Option<Vec<u8>>,
    pub flags: u64,
    pub index: u64,
    /// "" = none.
    pub session: String,
}

/// One txn operation. Only KV for now; Node/Service/Check/Session ops get
/// their own variants (appended) when those tables exist.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum TxnOp {
    Kv(TxnKvOp),
}

impl TxnOp {
    /// Whether this op makes the txn a write (goes through Raft).
    pub fn is_write(&self) -> bool {
        match self {
            TxnOp::Kv(op) => op.verb.is_write(),
        }
    }
}

/// One entry of `Results`: `{"KV": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnResult {
    Kv(Arc<KvEntry>),
}

/// One entry of `Errors`: `{"OpIndex": n, "What": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnError {
    pub op_index: usize,
    pub what: String,
}

/// Outcome of a txn. Success: `errors` empty (JSON `"Errors": null`).
/// Rolled back: `results` empty (JSON `"Results": null`, HTTP 409).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxnResponse {
    pub results: Vec<TxnResult>,
    pub errors: Vec<TxnError>,
}

impl TxnResponse {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Request limits checked before a txn is proposed (HTTP 413 on failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnLimits {
    pub max_ops: usize,
    pub kv_max_value_size: usize,
}

impl Default for TxnLimits {
    fn default() -> Self {
        TxnLimits {
            max_ops: MAX_TXN_OPS,
            kv_max_value_size: KV_MAX_VALUE_SIZE,
        }
    }
}

/// A txn over a limit; `Display` is Consul's 413 body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnLimitError {
    TooManyOps {
        count: usize,
        max: usize,
    },
    ValueTooLarge {
        key: String,
        size: usize,
        max: usize,
    },
}

impl fmt::Display for TxnLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnLimitError::TooManyOps { count, max } => {
                write!(
                    f,
                    "Transaction contains too many operations ({count} > {max})"
                )
            }
            TxnLimitError::ValueTooLarge { key, size, max } => write!(
                f,
                "Value for key {} is too large ({size} > {max} bytes)",
                go_quote(key)
            ),
        }
    }
}

impl std::error::Error for TxnLimitError {}

/// Consul's `convertOps` limits, in its order: op count first, then each KV
/// value in op order.
pub fn validate_txn(ops: &[TxnOp], limits: &TxnLimits) -> Result<(), TxnLimitError> {
    if ops.len() > limits.max_ops {
        return Err(TxnLimitError::TooManyOps {
            count: ops.len(),
            max: limits.max_ops,
        });
    }
    for op in ops {
        let TxnOp::Kv(kv) = op;
        let size = kv.value.as_ref().map_or(0, Vec::len);
        if size > limits.kv_max_value_size {
            return Err(TxnLimitError::ValueTooLarge {
                key: kv.key.clone(),
                size,
                max: limits.kv_max_value_size,
            });
        }
    }
    Ok(())
}

/// True if any op writes: such a txn goes through Raft (`Command::Txn`);
/// otherwise serve it with [`txn_read_only`].
pub fn txn_is_write(ops: &[TxnOp]) -> bool {
    ops.iter().any(TxnOp::is_write)
}

/// Consul's leader-side `preCheck` (before Raft, and before a read-only
/// txn): every op with an empty key except `delete-tree` fails with
/// `Must provide key`. All failing ops are reported. A non-empty result is
/// answered with 409 and the errors, without applying anything.
pub fn txn_precheck(ops: &[TxnOp]) -> Vec<TxnError> {
    let mut errors = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let TxnOp::Kv(kv) = op;
        if kv.key.is_empty() && kv.verb != KvVerb::DeleteTree {
            errors.push(TxnError {
                op_index: i,
                what: "Must provide key".to_string(),
            });
        }
    }
    errors
}

/// Serve a txn with no write verbs from a snapshot, without Raft (Consul's
/// `Txn.Read`: pre-check, then `TxnRO`). A write verb here is reported as an
/// op error rather than applied.
pub fn txn_read_only(snapshot: &StateSnapshot, ops: &[TxnOp]) -> TxnResponse {
    let errors = txn_precheck(ops);
    if !errors.is_empty() {
        return TxnResponse {
            results: Vec::new(),
            errors,
        };
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    // Reads never mutate, so a cheap clone stands in for a read transaction.
    let mut scratch = snapshot.clone();
    let mut touched = Touched::default();
    let mut writer = KvWriter::new(&mut scratch, 0, &mut touched);
    for (i, op) in ops.iter().enumerate() {
        let TxnOp::Kv(kv) = op;
        if kv.verb.is_write() {
            errors.push(TxnError {
                op_index: i,
                what: format!(
                    "cannot perform {} in a read-only transaction",
                    go_quote(kv.verb.as_str())
                ),
            });
            continue;
        }
        match run_kv_op(&mut writer, &KvOpRef::from_op(kv)) {
            Ok(mut r) => results.append(&mut r),
            Err(what) => errors.push(TxnError { op_index: i, what }),
        }
    }
    if errors.is_empty() {
        TxnResponse { results, errors }
    } else {
        TxnResponse {
            results: Vec::new(),
            errors,
        }
    }
}

/// A borrowed view of a KV op, built from an owned or an archived op.
pub(crate) struct KvOpRef<'a> {
    pub verb: VerbRef<'a>,
    pub key: &'a str,
    pub value: Option<&'a [u8]>,
    pub flags: u64,
    pub index: u64,
    pub session: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerbRef<'a> {
    Set,
    Cas,
    Lock,
    Unlock,
    Get,
    GetOrEmpty,
    GetTree,
    CheckIndex,
    CheckSession,
    CheckNotExists,
    Delete,
    DeleteTree,
    DeleteCas,
    Unknown(&'a str),
}

impl<'a> KvOpRef<'a> {
    pub(crate) fn from_op(op: &'a TxnKvOp) -> Self {
        let verb = match &op.verb {
            KvVerb::Set => VerbRef::Set,
            KvVerb::Cas => VerbRef::Cas,
            KvVerb::Lock => VerbRef::Lock,
            KvVerb::Unlock => VerbRef::Unlock,
            KvVerb::Get => VerbRef::Get,
            KvVerb::GetOrEmpty => VerbRef::GetOrEmpty,
            KvVerb::GetTree => VerbRef::GetTree,
            KvVerb::CheckIndex => VerbRef::CheckIndex,
            KvVerb::CheckSession => VerbRef::CheckSession,
            KvVerb::CheckNotExists => VerbRef::CheckNotExists,
            KvVerb::Delete => VerbRef::Delete,
            KvVerb::DeleteTree => VerbRef::DeleteTree,
            KvVerb::DeleteCas => VerbRef::DeleteCas,
            KvVerb::Unknown(v) => VerbRef::Unknown(v),
        };
        KvOpRef {
            verb,
            key: &op.key,
            value: op.value.as_deref(),
            flags: op.flags,
            index: op.index,
            session: &op.session,
        }
    }

    pub(crate) fn from_archived(op: &'a ArchivedTxnKvOp) -> Self {
        let verb = match &op.verb {
            ArchivedKvVerb::Set => VerbRef::Set,
            ArchivedKvVerb::Cas => VerbRef::Cas,
            ArchivedKvVerb::Lock => VerbRef::Lock,
            ArchivedKvVerb::Unlock => VerbRef::Unlock,
            ArchivedKvVerb::Get => VerbRef::Get,
            ArchivedKvVerb::GetOrEmpty => VerbRef::GetOrEmpty,
            ArchivedKvVerb::GetTree => VerbRef::GetTree,
            ArchivedKvVerb::CheckIndex => VerbRef::CheckIndex,
            ArchivedKvVerb::CheckSession => VerbRef::CheckSession,
            ArchivedKvVerb::CheckNotExists => VerbRef::CheckNotExists,
            ArchivedKvVerb::Delete => VerbRef::Delete,
            ArchivedKvVerb::DeleteTree => VerbRef::DeleteTree,
            ArchivedKvVerb::DeleteCas => VerbRef::DeleteCas,
            ArchivedKvVerb::Unknown(v) => VerbRef::Unknown(v.as_str()),
        };
        KvOpRef {
            verb,
            key: op.key.as_str(),
            value: op.value.as_ref().map(|v| v.as_slice()),
            flags: op.flags.to_native(),
            index: op.index.to_native(),
            session: op.session.as_str(),
        }
    }
}

/// Run every op (Consul keeps going after a failure, so later ops see
/// earlier writes and every failing op is reported); the caller discards
/// the working copy when any error came back.
pub(crate) fn run_txn<'a>(
    writer: &mut KvWriter<'_>,
    ops: impl Iterator<Item = KvOpRef<'a>>,
) -> TxnResponse {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (i, op) in ops.enumerate() {
        match run_kv_op(writer, &op) {
            Ok(mut r) => results.append(&mut r),
            Err(what) => errors.push(TxnError { op_index: i, what }),
        }
    }
    if errors.is_empty() {
        TxnResponse { results, errors }
    } else {
        TxnResponse {
            results: Vec::new(),
            errors,
        }
    }
}

/// Consul's `txnKVS`: one op's results or its `What` string.
fn run_kv_op(w: &mut KvWriter<'_>, op: &KvOpRef<'_>) -> Result<Vec<TxnResult>, String> {
    let key = op.key;
    // The entry to report (value blanked unless a get verb), if any.
    let entry: Option<Arc<KvEntry>> = match op.verb {
        VerbRef::Set => Some(w.set(key, op.value, op.flags)),
        VerbRef::Delete => {
            w.delete(key);
            None
        }
        VerbRef::DeleteCas => {
            if !w.delete_cas(key, op.index) {
                return Err(format!(
                    "failed to delete key {}, index is stale",
                    go_quote(key)
                ));
            }
            None
        }
        VerbRef::DeleteTree => {
            w.delete_tree(key);
            None
        }
        VerbRef::Cas => match w.set_cas(key, op.value, op.flags, op.index) {
            Some(e) => Some(e),
            None => {
                return Err(format!(
                    "failed to set key {}, index is stale",
                    go_quote(key)
                ));
            }
        },
        VerbRef::Lock => match w.lock(key, op.value, op.flags, op.session)? {
            Some(e) => Some(e),
            None => {
                return Err(format!(
                    "failed to lock key {}, lock is already held",
                    go_quote(key)
                ));
            }
        },
        VerbRef::Unlock => match w.unlock(key, op.value, op.flags, op.session)? {
            Some(e) => Some(e),
            None => {
                return Err(format!(
                    "failed to unlock key {}, lock isn't held, or is held by another session",
                    go_quote(key)
                ));
            }
        },
        VerbRef::Get => match w.state().kv_entry(key) {
            Some(e) => return Ok(vec![TxnResult::Kv(e)]),
            None => return Err(format!("key {} doesn't exist", go_quote(key))),
        },
        VerbRef::GetOrEmpty => {
            let e = w.state().kv_entry(key).unwrap_or_else(|| {
                // Consul answers with the request's own entry, value nil.
                Arc::new(KvEntry {
                    key: Arc::from(key),
                    value: None,
                    flags: op.flags,
                    create_index: 0,
                    modify_index: op.index,
                    lock_index: 0,
                    session: (!op.session.is_empty()).then(|| Arc::from(op.session)),
                })
            });
            return Ok(vec![TxnResult::Kv(e)]);
        }
        VerbRef::GetTree => {
            let (entries, _) = w.state().kv_list(key);
            return Ok(entries.into_iter().map(TxnResult::Kv).collect());
        }
        VerbRef::CheckSession => Some(w.state().kv_check_session(key, op.session)?),
        VerbRef::CheckIndex => Some(w.state().kv_check_index(key, op.index)?),
        VerbRef::CheckNotExists => {
            if w.state().kv_entry(key).is_some() {
                return Err(format!("key {} exists", go_quote(key)));
            }
            None
        }
        VerbRef::Unknown(v) => return Err(format!("unknown KV verb {}", go_quote(v))),
    };
    Ok(entry
        .map(|e| vec![TxnResult::Kv(Arc::new(e.without_value()))])
        .unwrap_or_default())
}
