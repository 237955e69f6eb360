//! Rendered bodies of large catalog reads, per shard, keyed by the request and the state
//! they were rendered from. When a change wakes thousands of blocking queries on one
//! service, each shard renders the answer once and copies it to every watcher, instead of
//! serializing the same 150 KB of JSON ten thousand times.
//!
//! Sound because a published snapshot is immutable and named by its applied index: the same
//! request over the same snapshot renders the same bytes. Requests whose answer depends on
//! something outside the snapshot (`near`: coordinates) are never cached.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::params::QueryParams;

/// Entries kept per shard (most recent first); enough for the hot services of a busy agent.
const CAPACITY: usize = 64;
/// Bodies larger than this are not kept (bounds the cache at CAPACITY x MAX_BODY).
const MAX_BODY: usize = 2 << 20;

#[derive(Default)]
pub(crate) struct RenderCache {
    entries: RefCell<VecDeque<Entry>>,
}

struct Entry {
    key: String,
    applied_index: u64,
    body: Rc<Vec<u8>>,
    /// The X-Consul-Index the read answered with.
    consul_index: u64,
}

impl RenderCache {
    /// The body rendered for `key` over the snapshot at `applied_index`, and its index.
    pub fn get(&self, key: &str, applied_index: u64) -> Option<(Rc<Vec<u8>>, u64)> {
        let entries = self.entries.borrow();
        entries
            .iter()
            .find(|e| e.applied_index == applied_index && e.key == key)
            .map(|e| (e.body.clone(), e.consul_index))
    }

    pub fn put(&self, key: String, applied_index: u64, body: Rc<Vec<u8>>, consul_index: u64) {
        if body.len() > MAX_BODY {
            return;
        }
        let mut entries = self.entries.borrow_mut();
        entries.retain(|e| e.key != key);
        entries.push_front(Entry { key, applied_index, body, consul_index });
        entries.truncate(CAPACITY);
    }
}

/// What identifies a read's body: its path and every parameter except the ones that only
/// change how or when it is answered. `None` when the body depends on more than the state.
pub(crate) fn cache_key(path: &str, query: &QueryParams) -> Option<String> {
    if query.has("near") {
        return None;
    }
    const NOT_IN_BODY: &[&str] = &["index", "wait", "stale", "consistent", "cached", "token"];
    let mut pairs: Vec<(&str, &str)> = query.pairs().filter(|(k, _)| !NOT_IN_BODY.contains(k)).collect();
    // By name only, stable: a repeated parameter keeps its values' order (the first wins).
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut key = String::from(path);
    for (k, v) in pairs {
        key.push('\u{0}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(q: &str) -> Option<String> {
        cache_key("/v1/health/service/web", &QueryParams::parse(q).unwrap())
    }

    #[test]
    fn keys_ignore_how_and_when_but_not_what() {
        assert_eq!(key("passing&index=5&wait=1m&stale"), key("passing"));
        assert_ne!(key("passing"), key(""));
        assert_ne!(key("tag=a&tag=b"), key("tag=b"));
        assert_eq!(key("tag=a&passing"), key("passing&tag=a"));
        // The first of repeated values wins in Consul: their order is part of the key.
        assert_ne!(key("passing=1&passing=0"), key("passing=0&passing=1"));
        assert_eq!(key("near=_agent"), None);
    }

    #[test]
    fn entries_are_per_state_and_bounded() {
        let c = RenderCache::default();
        c.put("k".into(), 7, Rc::new(b"seven".to_vec()), 5);
        assert_eq!(c.get("k", 7).map(|(b, i)| (b.to_vec(), i)), Some((b"seven".to_vec(), 5)));
        assert!(c.get("k", 8).is_none(), "another state is another body");
        c.put("k".into(), 8, Rc::new(b"eight".to_vec()), 6);
        assert!(c.get("k", 7).is_none(), "one entry per request");
        for i in 0..CAPACITY * 2 {
            c.put(format!("k{i}"), 1, Rc::new(Vec::new()), 1);
        }
        assert_eq!(c.entries.borrow().len(), CAPACITY);
        c.put("big".into(), 1, Rc::new(vec![0; MAX_BODY + 1]), 1);
        assert!(c.get("big", 1).is_none());
    }
}
