//! Bounded retransmit-limited broadcast queue (memberlist TransmitLimitedQueue).
//!
//! Messages least transmitted go first (newest first among equals); each is
//! sent at most `limit` times. A new message about a node replaces the
//! queued one about the same node. Over capacity, the most-transmitted,
//! oldest message is dropped: it is the one the pool most likely has already.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::fxhash::FxMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// alive/suspect/dead about a node.
    Member(String),
    Join(String),
    Leave(String),
    /// Never replaced (queries).
    Unique,
}

#[derive(Clone)]
struct Item {
    key: Key,
    frame: Vec<u8>,
    transmits: u32,
}

#[derive(Clone)]
pub(crate) struct BroadcastQueue {
    items: FxMap<u64, Item>,
    /// (transmits, newest first, frame length): the send order.
    order: BTreeSet<(u32, Reverse<u64>, usize)>,
    by_key: FxMap<Key, u64>,
    next_id: u64,
    capacity: usize,
}

/// Smallest framed message we ever queue; below this a packet is full.
const MIN_FRAME: usize = 6;
/// After the first message that does not fit, look at no more than this many.
const MAX_MISFITS: usize = 64;

impl BroadcastQueue {
    pub fn new(capacity: usize) -> Self {
        BroadcastQueue {
            items: FxMap::default(),
            order: BTreeSet::new(),
            by_key: FxMap::default(),
            next_id: 0,
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Queue a framed message; returns its id (to watch it with `contains`).
    pub fn push(&mut self, key: Key, frame: Vec<u8>) -> u64 {
        if key != Key::Unique {
            if let Some(old) = self.by_key.get(&key).copied() {
                self.remove(old);
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        if key != Key::Unique {
            self.by_key.insert(key.clone(), id);
        }
        self.order.insert((0, Reverse(id), frame.len()));
        self.items.insert(id, Item { key, frame, transmits: 0 });
        while self.items.len() > self.capacity {
            let Some(&(_, Reverse(worst), _)) = self.order.iter().next_back() else { break };
            self.remove(worst);
        }
        id
    }

    pub fn contains(&self, id: u64) -> bool {
        self.items.contains_key(&id)
    }

    fn remove(&mut self, id: u64) {
        if let Some(item) = self.items.remove(&id) {
            self.order.remove(&(item.transmits, Reverse(id), item.frame.len()));
            if self.by_key.get(&item.key) == Some(&id) {
                self.by_key.remove(&item.key);
            }
        }
    }

    /// Append frames fitting in `budget` bytes to `out`; each counts one
    /// transmit, and leaves the queue after `limit`. Returns how many.
    pub fn take(&mut self, budget: usize, limit: u32, out: &mut Vec<u8>) -> usize {
        let mut left = budget;
        let mut picked: Vec<(u32, u64, usize)> = Vec::new();
        let mut misfits = 0;
        for &(t, Reverse(id), len) in self.order.iter() {
            if left < MIN_FRAME || misfits > MAX_MISFITS {
                break;
            }
            if len <= left {
                left -= len;
                picked.push((t, id, len));
            } else {
                misfits += 1;
            }
        }
        let limit = limit.max(1);
        for &(t, id, len) in &picked {
            self.order.remove(&(t, Reverse(id), len));
            let Some(item) = self.items.get_mut(&id) else { continue };
            out.extend_from_slice(&item.frame);
            item.transmits += 1;
            if item.transmits >= limit {
                let item = self.items.remove(&id).expect("present");
                if self.by_key.get(&item.key) == Some(&id) {
                    self.by_key.remove(&item.key);
                }
            } else {
                self.order.insert((item.transmits, Reverse(id), len));
            }
        }
        picked.len()
    }
}

/// memberlist retransmitLimit: mult * ceil(log10(n+1)).
pub(crate) fn retransmit_limit(mult: u32, n: usize) -> u32 {
    let scale = ((n as f64) + 1.0).log10().ceil() as u32;
    mult * scale.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(tag: u8, len: usize) -> Vec<u8> {
        vec![tag; len]
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn limit_formula() {
        assert_eq!(retransmit_limit(4, 1), 4);
        assert_eq!(retransmit_limit(4, 9), 4);
        assert_eq!(retransmit_limit(4, 10), 8);
        assert_eq!(retransmit_limit(4, 999), 12);
        assert_eq!(retransmit_limit(4, 1000), 16);
    }

    #[test]
    fn least_transmitted_newest_first_and_retired_after_limit() {
        let mut q = BroadcastQueue::new(16);
        q.push(Key::Unique, f(1, 10));
        q.push(Key::Unique, f(2, 10));
        let mut out = Vec::new();
        q.take(10, 2, &mut out);
        assert_eq!(out, f(2, 10), "newest first");
        out.clear();
        q.take(10, 2, &mut out);
        assert_eq!(out, f(1, 10), "then the untransmitted one");
        out.clear();
        assert_eq!(q.take(100, 2, &mut out), 2);
        assert_eq!(out, cat(&[f(2, 10), f(1, 10)]));
        assert_eq!(q.len(), 0, "both retired after 2 transmits");
    }

    #[test]
    fn same_key_replaces() {
        let mut q = BroadcastQueue::new(16);
        let a = q.push(Key::Member("n".into()), f(1, 8));
        let b = q.push(Key::Member("n".into()), f(2, 8));
        q.push(Key::Leave("n".into()), f(3, 8));
        assert!(!q.contains(a));
        assert!(q.contains(b));
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn bounded_drops_most_transmitted_oldest() {
        let mut q = BroadcastQueue::new(3);
        let old = q.push(Key::Unique, f(1, 8));
        let mut out = Vec::new();
        q.take(8, 10, &mut out);
        let mid = q.push(Key::Unique, f(2, 8));
        q.push(Key::Unique, f(3, 8));
        q.push(Key::Unique, f(4, 8));
        assert_eq!(q.len(), 3);
        assert!(!q.contains(old), "the transmitted one goes first");
        q.push(Key::Unique, f(5, 8));
        assert!(!q.contains(mid), "then the oldest");
    }

    #[test]
    fn skips_what_does_not_fit() {
        let mut q = BroadcastQueue::new(8);
        q.push(Key::Unique, f(1, 8));
        q.push(Key::Unique, f(2, 50));
        let mut out = Vec::new();
        assert_eq!(q.take(20, 5, &mut out), 1);
        assert_eq!(out, f(1, 8));
    }
}
