//! KV mutations on the applier's working copy, one function per Consul
//! state-store primitive (`kvsSetTxn`, `kvsSetCASTxn`, `kvsLockTxn`, ...).

use std::ops::Bound;
use std::sync::Arc;

use crate::goquote::go_quote;
use crate::kv::KvEntry;
use crate::state::StateSnapshot;

/// What a batch of writes touched, for the change set watchers see.
#[derive(Debug, Default, Clone)]
pub(crate) struct Touched {
    pub keys: Vec<Arc<str>>,
    pub prefixes: Vec<Arc<str>>,
    /// Raft indexes at which tombstones were created (GC hints).
    pub tombstone_indexes: Vec<u64>,
    /// Watch topics (catalog reads) that may answer differently.
    pub topics: Vec<Arc<str>>,
}

impl Touched {
    pub(crate) fn append(&mut self, other: &mut Touched) {
        self.topics.append(&mut other.topics);
        self.keys.append(&mut other.keys);
        self.prefixes.append(&mut other.prefixes);
        self.tombstone_indexes.append(&mut other.tombstone_indexes);
    }
}

/// Writes at one raft index into a state, recording what changed.
pub(crate) struct KvWriter<'s> {
    state: &'s mut StateSnapshot,
    idx: u64,
    touched: &'s mut Touched,
}

/// How a write treats the entry's lock holder (Consul's `updateSession`).
enum SessionUpdate<'a> {
    Keep,
    Set(Option<&'a str>),
}

impl<'s> KvWriter<'s> {
    pub(crate) fn new(state: &'s mut StateSnapshot, idx: u64, touched: &'s mut Touched) -> Self {
        KvWriter {
            state,
            idx,
            touched,
        }
    }

    pub(crate) fn state(&self) -> &StateSnapshot {
        self.state
    }

    /// Consul's `kvsSetTxn`. CreateIndex kept; an unchanged entry (per
    /// `DirEntry.Equal`) is not rewritten and keeps its ModifyIndex. Returns
    /// the entry as stored afterwards.
    fn write(
        &mut self,
        key: &str,
        value: Option<&[u8]>,
        flags: u64,
        lock_index: u64,
        session: SessionUpdate<'_>,
    ) -> Arc<KvEntry> {
        let existing = self.state.kv.get(key).cloned();
        let session: Option<Arc<str>> = match session {
            SessionUpdate::Keep => existing.as_ref().and_then(|e| e.session.clone()),
            SessionUpdate::Set(None) | SessionUpdate::Set(Some("")) => None,
            SessionUpdate::Set(Some(s)) => {
                match existing.as_ref().and_then(|e| e.session.clone()) {
                    Some(cur) if &*cur == s => Some(cur),
                    _ => Some(Arc::from(s)),
                }
            }
        };
        if let Some(e) = &existing {
            if e.same_content(lock_index, flags, value, session.as_deref().unwrap_or("")) {
                return e.clone();
            }
        }
        let key_arc: Arc<str> = match &existing {
            Some(e) => e.key.clone(),
            None => Arc::from(key),
        };
        let entry = Arc::new(KvEntry {
            key: key_arc.clone(),
            value: value.map(Arc::from),
            flags,
            create_index: existing.as_ref().map_or(self.idx, |e| e.create_index),
            modify_index: self.idx,
            lock_index,
            session,
        });
        self.state.kv.insert(key_arc.clone(), entry.clone());
        self.state.kvs_index = self.state.kvs_index.max(self.idx);
        self.touched.keys.push(key_arc);
        entry
    }

    /// Plain set (`KVSSet`): keeps the lock holder; LockIndex comes from the
    /// request, which over HTTP and txn is always 0 (as in Consul).
    pub(crate) fn set(&mut self, key: &str, value: Option<&[u8]>, flags: u64) -> Arc<KvEntry> {
        self.write(key, value, flags, 0, SessionUpdate::Keep)
    }

    /// `kvsSetCASTxn`: index 0 = only if absent; N = only if present with
    /// ModifyIndex N. `None` when the check fails.
    pub(crate) fn set_cas(
        &mut self,
        key: &str,
        value: Option<&[u8]>,
        flags: u64,
        index: u64,
    ) -> Option<Arc<KvEntry>> {
        let ok = match self.state.kv.get(key) {
            None => index == 0,
            Some(e) => index != 0 && e.modify_index == index,
        };
        ok.then(|| self.set(key, value, flags))
    }

    /// `kvsLockTxn`. `Err` = Consul's error (HTTP 500 / txn op error);
    /// `Ok(None)` = held by another session.
    pub(crate) fn lock(
        &mut self,
        key: &str,
        value: Option<&[u8]>,
        flags: u64,
        session: &str,
    ) -> Result<Option<Arc<KvEntry>>, String> {
        if session.is_empty() {
            return Err("missing session".to_string());
        }
        if !self.state.session_exists(session) {
            return Err(format!("invalid session {}", go_quote(session)));
        }
        let lock_index = match self.state.kv.get(key) {
            Some(e) if e.session_str() == session => e.lock_index,
            Some(e) if e.session.is_some() => return Ok(None),
            Some(e) => e.lock_index + 1,
            None => 1,
        };
        Ok(Some(self.write(
            key,
            value,
            flags,
            lock_index,
            SessionUpdate::Set(Some(session)),
        )))
    }

    /// `kvsUnlockTxn`. `Ok(None)` when the key is missing or not held by
    /// `session`. Clears the holder, keeps LockIndex.
    pub(crate) fn unlock(
        &mut self,
        key: &str,
        value: Option<&[u8]>,
        flags: u64,
        session: &str,
    ) -> Result<Option<Arc<KvEntry>>, String> {
        if session.is_empty() {
            return Err("missing session".to_string());
        }
        let lock_index = match self.state.kv.get(key) {
            Some(e) if e.session_str() == session => e.lock_index,
            _ => return Ok(None),
        };
        Ok(Some(self.write(
            key,
            value,
            flags,
            lock_index,
            SessionUpdate::Set(None),
        )))
    }

    /// `kvsDeleteTxn`: removes the key and leaves a tombstone so prefix
    /// indexes keep rising. Absent key: nothing changes.
    pub(crate) fn delete(&mut self, key: &str) {
        if let Some(e) = self.state.kv.remove(key) {
            self.bury(e.key.clone());
            self.state.kvs_index = self.state.kvs_index.max(self.idx);
            self.touched.keys.push(e.key.clone());
        }
    }

    /// `kvsDeleteCASTxn`: true if deleted or already absent, false when the
    /// ModifyIndex differs.
    pub(crate) fn delete_cas(&mut self, key: &str, index: u64) -> bool {
        match self.state.kv.get(key) {
            None => true,
            Some(e) if e.modify_index != index => false,
            Some(_) => {
                self.delete(key);
                true
            }
        }
    }

    /// `kvsDeleteTreeTxn`: removes every key starting with `prefix`; if any
    /// was removed, one tombstone for the prefix itself (none for "").
    pub(crate) fn delete_tree(&mut self, prefix: &str) {
        let doomed: Vec<Arc<str>> = self
            .state
            .kv
            .range::<_, str>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        if doomed.is_empty() {
            return;
        }
        for k in &doomed {
            self.state.kv.remove(&**k);
        }
        let prefix_arc: Arc<str> = Arc::from(prefix);
        if !prefix.is_empty() {
            self.bury(prefix_arc.clone());
        }
        self.state.kvs_index = self.state.kvs_index.max(self.idx);
        self.touched.prefixes.push(prefix_arc);
    }

    fn bury(&mut self, key: Arc<str>) {
        self.state.tombstones.insert(key, self.idx);
        self.state.tombstones_index = self.state.tombstones_index.max(self.idx);
        if self.touched.tombstone_indexes.last() != Some(&self.idx) {
            self.touched.tombstone_indexes.push(self.idx);
        }
    }
}

/// Graveyard `ReapTxn`: drop tombstones with index <= `upto`. The tombstone
/// table index is left alone, so the KV max index never goes down.
pub(crate) fn reap_tombstones(state: &mut StateSnapshot, upto: u64) -> usize {
    let doomed: Vec<Arc<str>> = state
        .tombstones
        .iter()
        .filter(|(_, i)| **i <= upto)
        .map(|(k, _)| k.clone())
        .collect();
    for k in &doomed {
        state.tombstones.remove(&**k);
    }
    doomed.len()
}
