//! The immutable, structurally shared state published after each applied
//! batch, and its read API with Consul's index rules.

use std::ops::Bound;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use crate::catalog::tables::CatalogTables;
use crate::goquote::go_quote;
use crate::kv::KvEntry;

/// One published version of the whole state. `Clone` is O(1) (imbl maps
/// share structure), so readers keep a snapshot as long as they like and the
/// applier's working copy diverges only where it writes.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct StateSnapshot {
    pub(crate) kv: OrdMap<Arc<str>, Arc<KvEntry>>,
    /// Graveyard: deleted key (or delete-tree prefix) -> index of deletion.
    pub(crate) tombstones: OrdMap<Arc<str>, u64>,
    /// memdb's table index for "kvs": raft index of the last KV change.
    pub(crate) kvs_index: u64,
    /// Table index for "tombstones"; never lowered by reaping (as Consul).
    pub(crate) tombstones_index: u64,
    /// Placeholder sessions table (issue 6): ids of live sessions.
    pub(crate) sessions: OrdSet<Arc<str>>,
    pub(crate) sessions_index: u64,
    /// Raft index of the last entry applied (commands and no-ops).
    pub(crate) applied_index: u64,
    /// Nodes, services and checks (reads in `catalog::reads`).
    pub(crate) catalog: CatalogTables,
}

/// Consul never answers X-Consul-Index 0 (clients would spin).
fn at_least_one(index: u64) -> u64 {
    index.max(1)
}

impl StateSnapshot {
    /// An empty state.
    pub fn new() -> Self {
        StateSnapshot::default()
    }

    /// Raft index of the last applied entry.
    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Consul's `kvsMaxIndex`: max of the kvs and tombstones table indexes.
    pub fn kv_max_index(&self) -> u64 {
        self.kvs_index.max(self.tombstones_index)
    }

    /// Number of live keys.
    pub fn kv_len(&self) -> usize {
        self.kv.len()
    }

    /// Number of tombstones not yet reaped.
    pub fn tombstone_count(&self) -> usize {
        self.tombstones.len()
    }

    /// Index of the tombstone left for `key`, if any.
    pub fn tombstone_index(&self, key: &str) -> Option<u64> {
        self.tombstones.get(key).copied()
    }

    /// Whether a session with this id exists (always false until sessions
    /// are implemented, so any acquire fails as with an unknown session).
    pub fn session_exists(&self, id: &str) -> bool {
        self.sessions.contains(id)
    }

    /// The entry for `key`, without an index.
    pub fn kv_entry(&self, key: &str) -> Option<Arc<KvEntry>> {
        self.kv.get(key).cloned()
    }

    /// `GET /v1/kv/<key>` (Consul's `KVS.Get`): the entry and the index to
    /// answer with: the key's ModifyIndex when present, otherwise the KV
    /// table max index (tombstones included); never 0.
    pub fn kv_get(&self, key: &str) -> (Option<Arc<KvEntry>>, u64) {
        match self.kv.get(key) {
            Some(e) => (Some(e.clone()), at_least_one(e.modify_index)),
            None => (None, at_least_one(self.kv_max_index())),
        }
    }

    /// The index [`kv_get`](Self::kv_get) would answer, without the entry.
    pub fn kv_get_index(&self, key: &str) -> u64 {
        self.kv_get(key).1
    }

    /// `GET /v1/kv/<prefix>?recurse` (Consul's `KVS.List`): entries under the
    /// plain string prefix, sorted by key, and the index: max ModifyIndex of
    /// those entries and of tombstones under the prefix; the full table
    /// index when that is 0 or the prefix is empty; never 0.
    pub fn kv_list(&self, prefix: &str) -> (Vec<Arc<KvEntry>>, u64) {
        let mut entries = Vec::new();
        let mut lindex = 0;
        for (_, e) in self.kv_range(prefix) {
            lindex = lindex.max(e.modify_index);
            entries.push(e.clone());
        }
        (entries, self.list_index_from(prefix, lindex))
    }

    /// The index [`kv_list`](Self::kv_list) would answer, without
    /// collecting entries (cheap re-check for a woken blocking query).
    pub fn kv_list_index(&self, prefix: &str) -> u64 {
        let lindex = self
            .kv_range(prefix)
            .map(|(_, e)| e.modify_index)
            .max()
            .unwrap_or(0);
        self.list_index_from(prefix, lindex)
    }

    /// `GET /v1/kv/<prefix>?keys[&separator=S]` (Consul's `KVS.ListKeys`):
    /// keys under the prefix; with a non-empty separator, everything after
    /// the first separator following the prefix is folded into one
    /// `prefix..separator` entry. Same index as `kv_list`.
    pub fn kv_keys(&self, prefix: &str, separator: Option<&str>) -> (Vec<String>, u64) {
        let sep = separator.unwrap_or("");
        let mut keys: Vec<String> = Vec::new();
        let mut lindex = 0;
        for (k, e) in self.kv_range(prefix) {
            lindex = lindex.max(e.modify_index);
            if sep.is_empty() {
                keys.push(k.to_string());
                continue;
            }
            let after = &k[prefix.len()..];
            match after.find(sep) {
                Some(at) => {
                    let folded = &k[..prefix.len() + at + sep.len()];
                    // Keys sharing a fold are contiguous in key order, so
                    // comparing with the last one de-duplicates.
                    if keys.last().map(String::as_str) != Some(folded) {
                        keys.push(folded.to_string());
                    }
                }
                None => keys.push(k.to_string()),
            }
        }
        (keys, self.list_index_from(prefix, lindex))
    }

    /// Live entries whose key starts with `prefix`, in key order.
    pub fn kv_range<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a Arc<str>, &'a Arc<KvEntry>)> + 'a {
        self.kv
            .range::<_, str>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    /// Consul's `kvsListTxn` index rule given the entries' max index.
    fn list_index_from(&self, prefix: &str, entries_max: u64) -> u64 {
        let table = self.kv_max_index();
        let lindex = if prefix.is_empty() {
            table
        } else {
            entries_max.max(self.tombstone_max_under(prefix))
        };
        at_least_one(if lindex != 0 { lindex } else { table })
    }

    /// Highest tombstone index among tombstones whose key starts with prefix.
    fn tombstone_max_under(&self, prefix: &str) -> u64 {
        self.tombstones
            .range::<_, str>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, i)| *i)
            .max()
            .unwrap_or(0)
    }

    /// Consul's `kvsCheckSessionTxn` (txn `check-session`).
    pub(crate) fn kv_check_session(
        &self,
        key: &str,
        session: &str,
    ) -> Result<Arc<KvEntry>, String> {
        let e = self.kv.get(key).ok_or_else(|| {
            format!(
                "failed to check session, key {} doesn't exist",
                go_quote(key)
            )
        })?;
        if e.session_str() != session {
            return Err(format!(
                "failed session check for key {}, current session {} != {}",
                go_quote(key),
                go_quote(e.session_str()),
                go_quote(session)
            ));
        }
        Ok(e.clone())
    }

    /// Consul's `kvsCheckIndexTxn` (txn `check-index`).
    pub(crate) fn kv_check_index(&self, key: &str, index: u64) -> Result<Arc<KvEntry>, String> {
        let e = self
            .kv
            .get(key)
            .ok_or_else(|| format!("failed to check index, key {} doesn't exist", go_quote(key)))?;
        if e.modify_index != index {
            return Err(format!(
                "failed index check for key {}, current modify index {} != {}",
                go_quote(key),
                e.modify_index,
                index
            ));
        }
        Ok(e.clone())
    }
}
