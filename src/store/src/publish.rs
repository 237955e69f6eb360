//! Publishing: the shared [`Store`] every shard reads, and the control
//! shard's [`Applier`] that applies committed entries to a private working
//! copy and publishes it once per batch.

use std::borrow::Cow;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rkyv::rancor;

use crate::catalog::{self, DeregisterRequest, RegisterRequest};
use crate::command::{with_archived_command, ArchivedCommand, Command};
use crate::kv_write::{reap_tombstones, KvWriter, Touched};
use crate::state::StateSnapshot;
use crate::txn::{run_txn, ArchivedTxnOp, KvOpRef, TxnOp, TxnResponse};

/// The current state, shared by every shard. Cloning the handle is cheap;
/// [`load`](Store::load) is lock-free and never blocks the applier.
#[derive(Clone)]
pub struct Store {
    current: Arc<ArcSwap<StateSnapshot>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("applied_index", &self.load().applied_index())
            .finish()
    }
}

impl Store {
    /// A store holding an empty state.
    pub fn new() -> Self {
        Store::from_snapshot(StateSnapshot::new())
    }

    /// A store holding `snapshot` (e.g. restored from disk at start).
    pub fn from_snapshot(snapshot: StateSnapshot) -> Self {
        Store {
            current: Arc::new(ArcSwap::from_pointee(snapshot)),
        }
    }

    /// The latest published snapshot, to keep (e.g. across an await).
    pub fn load(&self) -> Arc<StateSnapshot> {
        self.current.load_full()
    }

    /// Run `f` on the latest snapshot without touching its shared reference
    /// count (no cache-line traffic between cores): the hot read path. Keep
    /// `f` short and never await inside it; use [`load`](Self::load) to hold
    /// a snapshot longer.
    pub fn with<R>(&self, f: impl FnOnce(&StateSnapshot) -> R) -> R {
        let guard = self.current.load();
        f(&guard)
    }

    fn publish(&self, snapshot: StateSnapshot) {
        self.current.store(Arc::new(snapshot));
    }
}

/// What applying one command returned (Consul's FSM response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyResult {
    /// KV writes: `true`/`false` as the HTTP body (plain set/delete/
    /// delete-tree are always `true`; cas/acquire/release/delete-cas may be
    /// `false`); also `true` for ReapTombstones.
    Bool(bool),
    /// Txn: results, or errors (HTTP 409) with nothing applied.
    Txn(TxnResponse),
    /// An error Consul returns as HTTP 500 with this text (e.g.
    /// `invalid session "<id>"`, `missing session`), or a log entry that
    /// could not be decoded or was already applied. Nothing changed.
    Error(String),
}

/// What one publish changed, to wake blocking queries on every shard.
/// Send it to the shards AFTER `publish` returned (the snapshot is already
/// visible then, so a woken reader never sees older data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Applied index of the published snapshot.
    pub index: u64,
    /// Keys written or deleted since the last publish (sorted, unique).
    pub keys: Vec<Arc<str>>,
    /// Delete-tree prefixes since the last publish (sorted, unique).
    pub prefixes: Vec<Arc<str>>,
    /// Raft indexes at which tombstones were created: the leader hints its
    /// [`TombstoneGc`](crate::TombstoneGc) with them.
    pub tombstone_indexes: Vec<u64>,
    /// The whole state was replaced (snapshot restore): wake every watcher.
    pub reset: bool,
    /// Catalog topics (`crate::topic`) whose reads may answer differently
    /// since the last publish (sorted, unique).
    pub topics: Vec<Arc<str>>,
}

impl ChangeSet {
    /// Nothing for watchers to see.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.prefixes.is_empty() && self.topics.is_empty() && !self.reset
    }
}

/// Applies committed log entries on the control shard. Owns the only
/// writable copy of the state; one `Applier` per `Store`.
pub struct Applier {
    store: Store,
    working: StateSnapshot,
    touched: Touched,
    reset: bool,
}

/// A command borrowed from either an owned `Command` or its archive.
enum CmdRef<'a> {
    KvSet {
        key: &'a str,
        value: Option<&'a [u8]>,
        flags: u64,
    },
    KvCas {
        key: &'a str,
        value: Option<&'a [u8]>,
        flags: u64,
        index: u64,
    },
    KvAcquire {
        key: &'a str,
        value: Option<&'a [u8]>,
        flags: u64,
        session: &'a str,
    },
    KvRelease {
        key: &'a str,
        value: Option<&'a [u8]>,
        flags: u64,
        session: &'a str,
    },
    KvDelete {
        key: &'a str,
    },
    KvDeleteCas {
        key: &'a str,
        index: u64,
    },
    KvDeleteTree {
        prefix: &'a str,
    },
    Txn(OpsRef<'a>),
    ReapTombstones {
        upto: u64,
    },
    CatalogRegister(Box<Cow<'a, RegisterRequest>>),
    CatalogDeregister(Cow<'a, DeregisterRequest>),
    /// An archived command that validated but would not deserialize.
    Invalid(String),
}

enum OpsRef<'a> {
    Owned(&'a [TxnOp]),
    Archived(&'a [ArchivedTxnOp]),
}

impl<'a> CmdRef<'a> {
    fn from_owned(cmd: &'a Command) -> Self {
        match cmd {
            Command::KvSet { key, value, flags } => CmdRef::KvSet {
                key,
                value: value.as_deref(),
                flags: *flags,
            },
            Command::KvCas {
                key,
                value,
                flags,
                index,
            } => CmdRef::KvCas {
                key,
                value: value.as_deref(),
                flags: *flags,
                index: *index,
            },
            Command::KvAcquire {
                key,
                value,
                flags,
                session,
            } => CmdRef::KvAcquire {
                key,
                value: value.as_deref(),
                flags: *flags,
                session,
            },
            Command::KvRelease {
                key,
                value,
                flags,
                session,
            } => CmdRef::KvRelease {
                key,
                value: value.as_deref(),
                flags: *flags,
                session,
            },
            Command::KvDelete { key } => CmdRef::KvDelete { key },
            Command::KvDeleteCas { key, index } => CmdRef::KvDeleteCas { key, index: *index },
            Command::KvDeleteTree { prefix } => CmdRef::KvDeleteTree { prefix },
            Command::Txn { ops } => CmdRef::Txn(OpsRef::Owned(ops)),
            Command::ReapTombstones { upto } => CmdRef::ReapTombstones { upto: *upto },
            Command::CatalogRegister(req) => CmdRef::CatalogRegister(Box::new(Cow::Borrowed(req))),
            Command::CatalogDeregister(req) => CmdRef::CatalogDeregister(Cow::Borrowed(req)),
        }
    }

    fn from_archived(cmd: &'a ArchivedCommand) -> Self {
        let bytes = |v: &'a rkyv::option::ArchivedOption<rkyv::vec::ArchivedVec<u8>>| {
            v.as_ref().map(|b| b.as_slice())
        };
        match cmd {
            ArchivedCommand::KvSet { key, value, flags } => CmdRef::KvSet {
                key: key.as_str(),
                value: bytes(value),
                flags: flags.to_native(),
            },
            ArchivedCommand::KvCas {
                key,
                value,
                flags,
                index,
            } => CmdRef::KvCas {
                key: key.as_str(),
                value: bytes(value),
                flags: flags.to_native(),
                index: index.to_native(),
            },
            ArchivedCommand::KvAcquire {
                key,
                value,
                flags,
                session,
            } => CmdRef::KvAcquire {
                key: key.as_str(),
                value: bytes(value),
                flags: flags.to_native(),
                session: session.as_str(),
            },
            ArchivedCommand::KvRelease {
                key,
                value,
                flags,
                session,
            } => CmdRef::KvRelease {
                key: key.as_str(),
                value: bytes(value),
                flags: flags.to_native(),
                session: session.as_str(),
            },
            ArchivedCommand::KvDelete { key } => CmdRef::KvDelete { key: key.as_str() },
            ArchivedCommand::KvDeleteCas { key, index } => CmdRef::KvDeleteCas {
                key: key.as_str(),
                index: index.to_native(),
            },
            ArchivedCommand::KvDeleteTree { prefix } => CmdRef::KvDeleteTree {
                prefix: prefix.as_str(),
            },
            ArchivedCommand::Txn { ops } => CmdRef::Txn(OpsRef::Archived(ops.as_slice())),
            ArchivedCommand::ReapTombstones { upto } => CmdRef::ReapTombstones {
                upto: upto.to_native(),
            },
            // Catalog writes are not the hot path: copy them out whole.
            ArchivedCommand::CatalogRegister(req) => {
                match rkyv::deserialize::<RegisterRequest, rancor::Error>(req) {
                    Ok(req) => CmdRef::CatalogRegister(Box::new(Cow::Owned(req))),
                    Err(e) => CmdRef::Invalid(format!("command: {e}")),
                }
            }
            ArchivedCommand::CatalogDeregister(req) => {
                match rkyv::deserialize::<DeregisterRequest, rancor::Error>(req) {
                    Ok(req) => CmdRef::CatalogDeregister(Cow::Owned(req)),
                    Err(e) => CmdRef::Invalid(format!("command: {e}")),
                }
            }
        }
    }
}

impl Applier {
    /// Start from the store's current snapshot.
    pub fn new(store: Store) -> Self {
        let working = (*store.load()).clone();
        Applier {
            store,
            working,
            touched: Touched::default(),
            reset: false,
        }
    }

    /// The shared store this applier publishes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The working copy, including entries applied but not yet published.
    pub fn working(&self) -> &StateSnapshot {
        &self.working
    }

    #[cfg(test)]
    pub(crate) fn working_mut_for_test(&mut self) -> &mut StateSnapshot {
        &mut self.working
    }

    /// Whether something was applied since the last publish.
    pub fn has_unpublished(&self) -> bool {
        self.reset
            || !self.touched.keys.is_empty()
            || !self.touched.prefixes.is_empty()
            || !self.touched.topics.is_empty()
            || self.working.applied_index != self.store.load().applied_index()
    }

    /// Apply the command in a committed log entry (validated in place, any
    /// alignment). Deterministic: the same bytes at the same index give the
    /// same state on every server. Undecodable bytes consume the index and
    /// change nothing.
    pub fn apply(&mut self, index: u64, cmd_bytes: &[u8]) -> ApplyResult {
        if let Some(err) = self.check_index(index) {
            return err;
        }
        let outcome = with_archived_command(cmd_bytes, |archived| {
            let cmd = CmdRef::from_archived(archived);
            Self::apply_ref(&mut self.working, &mut self.touched, index, cmd)
        });
        match outcome {
            Ok(result) => result,
            Err(e) => {
                self.working.applied_index = index;
                ApplyResult::Error(e.to_string())
            }
        }
    }

    /// Apply an already-decoded command (same semantics as [`apply`](Self::apply)).
    pub fn apply_command(&mut self, index: u64, cmd: &Command) -> ApplyResult {
        if let Some(err) = self.check_index(index) {
            return err;
        }
        Self::apply_ref(
            &mut self.working,
            &mut self.touched,
            index,
            CmdRef::from_owned(cmd),
        )
    }

    /// A log entry with no command (leader no-op, config change): only the
    /// applied index moves.
    pub fn apply_noop(&mut self, index: u64) {
        if index > self.working.applied_index {
            self.working.applied_index = index;
        }
    }

    /// Replace the whole state (install a Raft snapshot). The next publish
    /// carries `reset` so every watcher re-reads.
    pub fn restore(&mut self, snapshot: StateSnapshot) {
        self.working = snapshot;
        self.touched = Touched::default();
        self.reset = true;
    }

    /// Make everything applied so far visible to readers (one atomic swap),
    /// then return what changed for the watch registries.
    pub fn publish(&mut self) -> ChangeSet {
        self.store.publish(self.working.clone());
        let mut touched = std::mem::take(&mut self.touched);
        touched.keys.sort();
        touched.keys.dedup();
        touched.prefixes.sort();
        touched.prefixes.dedup();
        touched.tombstone_indexes.dedup();
        touched.topics.sort();
        touched.topics.dedup();
        ChangeSet {
            index: self.working.applied_index,
            keys: touched.keys,
            prefixes: touched.prefixes,
            tombstone_indexes: touched.tombstone_indexes,
            reset: std::mem::take(&mut self.reset),
            topics: touched.topics,
        }
    }

    fn check_index(&self, index: u64) -> Option<ApplyResult> {
        let applied = self.working.applied_index;
        (index <= applied).then(|| {
            ApplyResult::Error(format!(
                "raft index {index} already applied (applied index {applied})"
            ))
        })
    }

    fn apply_ref(
        working: &mut StateSnapshot,
        pending: &mut Touched,
        index: u64,
        cmd: CmdRef<'_>,
    ) -> ApplyResult {
        let mut touched = Touched::default();
        let result = match cmd {
            CmdRef::Txn(ops) => {
                // All-or-nothing: O(1) copy of the maps, restored on failure.
                let before = working.clone();
                let response = {
                    let mut w = KvWriter::new(working, index, &mut touched);
                    match ops {
                        OpsRef::Owned(ops) => run_txn(
                            &mut w,
                            ops.iter().map(|op| match op {
                                TxnOp::Kv(kv) => KvOpRef::from_op(kv),
                            }),
                        ),
                        OpsRef::Archived(ops) => run_txn(
                            &mut w,
                            ops.iter().map(|op| match op {
                                ArchivedTxnOp::Kv(kv) => KvOpRef::from_archived(kv),
                            }),
                        ),
                    }
                };
                if !response.is_ok() {
                    *working = before;
                    touched = Touched::default();
                }
                ApplyResult::Txn(response)
            }
            CmdRef::ReapTombstones { upto } => {
                reap_tombstones(working, upto);
                ApplyResult::Bool(true)
            }
            CmdRef::CatalogRegister(req) => apply_catalog(working, &mut touched, |t, topics| {
                catalog::apply_register(t, index, &req, topics)
            }),
            CmdRef::CatalogDeregister(req) => apply_catalog(working, &mut touched, |t, topics| {
                catalog::apply_deregister(t, index, &req, topics)
            }),
            CmdRef::Invalid(what) => ApplyResult::Error(what),
            kv => {
                let mut w = KvWriter::new(working, index, &mut touched);
                apply_kv(&mut w, kv)
            }
        };
        working.applied_index = index;
        pending.append(&mut touched);
        result
    }
}

/// A catalog write, all or nothing: the tables are an O(1) copy away from
/// being restored, as Consul aborts the memdb txn on error.
fn apply_catalog(
    working: &mut StateSnapshot,
    touched: &mut Touched,
    write: impl FnOnce(&mut catalog::tables::CatalogTables, &mut Vec<Arc<str>>) -> Result<(), String>,
) -> ApplyResult {
    let before = working.catalog.clone();
    let mut topics = Vec::new();
    match write(&mut working.catalog, &mut topics) {
        Ok(()) => {
            touched.topics.append(&mut topics);
            ApplyResult::Bool(true)
        }
        Err(what) => {
            working.catalog = before;
            ApplyResult::Error(what)
        }
    }
}

/// Single KV commands, as Consul's `applyKVSOperation`.
fn apply_kv(w: &mut KvWriter<'_>, cmd: CmdRef<'_>) -> ApplyResult {
    match cmd {
        CmdRef::KvSet { key, value, flags } => {
            w.set(key, value, flags);
            ApplyResult::Bool(true)
        }
        CmdRef::KvCas {
            key,
            value,
            flags,
            index,
        } => ApplyResult::Bool(w.set_cas(key, value, flags, index).is_some()),
        CmdRef::KvAcquire {
            key,
            value,
            flags,
            session,
        } => match w.lock(key, value, flags, session) {
            Ok(e) => ApplyResult::Bool(e.is_some()),
            Err(what) => ApplyResult::Error(what),
        },
        CmdRef::KvRelease {
            key,
            value,
            flags,
            session,
        } => match w.unlock(key, value, flags, session) {
            Ok(e) => ApplyResult::Bool(e.is_some()),
            Err(what) => ApplyResult::Error(what),
        },
        CmdRef::KvDelete { key } => {
            w.delete(key);
            ApplyResult::Bool(true)
        }
        CmdRef::KvDeleteCas { key, index } => ApplyResult::Bool(w.delete_cas(key, index)),
        CmdRef::KvDeleteTree { prefix } => {
            w.delete_tree(prefix);
            ApplyResult::Bool(true)
        }
        CmdRef::Txn(_)
        | CmdRef::ReapTombstones { .. }
        | CmdRef::CatalogRegister(_)
        | CmdRef::CatalogDeregister(_)
        | CmdRef::Invalid(_) => ApplyResult::Error("internal: not a single KV command".to_string()),
    }
}
