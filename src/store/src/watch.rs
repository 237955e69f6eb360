//! Per-shard registry of parked blocking queries.
//!
//! Single-threaded by design (one per executor, `Rc`, no locks). A watcher
//! costs one slot plus one entry in an ordered index; nothing runs while
//! watchers wait. `notify` looks up only what a change set touched:
//! O(touched × (log n + distinct prefix lengths)) plus the watchers woken.
//! A watcher fires once; a query that wants to wait again registers anew.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Bound;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::publish::ChangeSet;

/// What a blocking query read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchTarget {
    /// One key (`GET /v1/kv/<key>`).
    Key(Arc<str>),
    /// Every key starting with the prefix (`?recurse`, `?keys`).
    Prefix(Arc<str>),
    /// Anything (table-wide reads).
    All,
    /// A catalog topic (`crate::topic::*`): fires when a change set lists
    /// it.
    Topic(Arc<str>),
}

/// The per-shard registry. Cloning shares the same registry.
#[derive(Clone, Default)]
pub struct WatchRegistry {
    inner: Rc<RefCell<Inner>>,
}

#[derive(Default)]
struct Inner {
    slots: Vec<Slot>,
    free: Vec<u32>,
    keys: BTreeMap<Arc<str>, Vec<u32>>,
    prefixes: BTreeMap<Arc<str>, Vec<u32>>,
    /// Length -> number of distinct registered prefixes of that length: a
    /// touched key is checked against each length instead of every prefix.
    prefix_lens: BTreeMap<usize, usize>,
    topics: BTreeMap<Arc<str>, Vec<u32>>,
    all: Vec<u32>,
    parked: usize,
}

struct Slot {
    gen: u32,
    state: SlotState,
}

enum SlotState {
    Free,
    Parked {
        target: WatchTarget,
        pos: u32,
        waker: Option<Waker>,
    },
    Fired,
}

/// A registered watcher. Resolves (as a future) once something it watches
/// changed; unregisters on drop.
pub struct WatchHandle {
    registry: Weak<RefCell<Inner>>,
    id: u32,
    gen: u32,
}

impl WatchRegistry {
    pub fn new() -> Self {
        WatchRegistry::default()
    }

    /// Park a watcher on `target`.
    pub fn register(&self, target: WatchTarget) -> WatchHandle {
        let mut inner = self.inner.borrow_mut();
        let id = match inner.free.pop() {
            Some(id) => id,
            None => {
                inner.slots.push(Slot {
                    gen: 0,
                    state: SlotState::Free,
                });
                (inner.slots.len() - 1) as u32
            }
        };
        let pos = inner.bucket_push(&target, id);
        let slot = &mut inner.slots[id as usize];
        slot.state = SlotState::Parked {
            target,
            pos,
            waker: None,
        };
        let gen = slot.gen;
        inner.parked += 1;
        WatchHandle {
            registry: Rc::downgrade(&self.inner),
            id,
            gen,
        }
    }

    /// Number of watchers still parked (registered and not yet fired).
    pub fn len(&self) -> usize {
        self.inner.borrow().parked
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fire every watcher whose target the change set touched: a key
    /// watcher when its key was written/deleted or lies under a deleted
    /// tree; a prefix watcher when a key under it changed or a deleted tree
    /// overlaps it; a topic watcher when its topic is listed; `All` on any
    /// change; everyone on `reset`. Returns the number fired.
    pub fn notify(&self, changes: &ChangeSet) -> usize {
        if changes.is_empty() {
            return 0;
        }
        let mut wakers = Vec::new();
        let fired = {
            let mut inner = self.inner.borrow_mut();
            let before = inner.parked;
            if changes.reset {
                inner.fire_everything(&mut wakers);
            } else {
                for key in &changes.keys {
                    inner.fire_key(key, &mut wakers);
                    inner.fire_prefixes_of(key, &mut wakers);
                }
                for prefix in &changes.prefixes {
                    inner.fire_tree(prefix, &mut wakers);
                }
                for topic in &changes.topics {
                    if let Some(ids) = inner.topics.remove(topic) {
                        inner.fire_ids(ids, &mut wakers);
                    }
                }
                let all = std::mem::take(&mut inner.all);
                inner.fire_ids(all, &mut wakers);
            }
            before - inner.parked
        };
        // Wake outside the borrow: a waker may poll or drop handles.
        for w in wakers {
            w.wake();
        }
        fired
    }
}

impl Inner {
    fn bucket_push(&mut self, target: &WatchTarget, id: u32) -> u32 {
        let bucket = match target {
            WatchTarget::Key(k) => self.keys.entry(k.clone()).or_default(),
            WatchTarget::Prefix(p) => {
                if !self.prefixes.contains_key(&**p) {
                    *self.prefix_lens.entry(p.len()).or_default() += 1;
                }
                self.prefixes.entry(p.clone()).or_default()
            }
            WatchTarget::Topic(t) => self.topics.entry(t.clone()).or_default(),
            WatchTarget::All => &mut self.all,
        };
        bucket.push(id);
        (bucket.len() - 1) as u32
    }

    /// Remove a parked watcher from its bucket in O(log n) (swap-remove,
    /// fixing the moved watcher's position).
    fn bucket_remove(&mut self, target: &WatchTarget, pos: u32) {
        let pos = pos as usize;
        let (bucket, emptied) = match target {
            WatchTarget::Key(k) => match self.keys.get_mut(&**k) {
                Some(b) => {
                    b.swap_remove(pos);
                    let moved = b.get(pos).copied();
                    let empty = b.is_empty();
                    (moved, empty)
                }
                None => return,
            },
            WatchTarget::Prefix(p) => match self.prefixes.get_mut(&**p) {
                Some(b) => {
                    b.swap_remove(pos);
                    let moved = b.get(pos).copied();
                    let empty = b.is_empty();
                    (moved, empty)
                }
                None => return,
            },
            WatchTarget::Topic(t) => match self.topics.get_mut(&**t) {
                Some(b) => {
                    b.swap_remove(pos);
                    let moved = b.get(pos).copied();
                    let empty = b.is_empty();
                    (moved, empty)
                }
                None => return,
            },
            WatchTarget::All => {
                self.all.swap_remove(pos);
                (self.all.get(pos).copied(), false)
            }
        };
        if let Some(moved) = bucket {
            if let SlotState::Parked { pos: p, .. } = &mut self.slots[moved as usize].state {
                *p = pos as u32;
            }
        }
        if emptied {
            match target {
                WatchTarget::Key(k) => {
                    self.keys.remove(&**k);
                }
                WatchTarget::Prefix(p) => {
                    self.prefixes.remove(&**p);
                    self.forget_prefix_len(p.len());
                }
                WatchTarget::Topic(t) => {
                    self.topics.remove(&**t);
                }
                WatchTarget::All => {}
            }
        }
    }

    fn forget_prefix_len(&mut self, len: usize) {
        if let Some(n) = self.prefix_lens.get_mut(&len) {
            *n -= 1;
            if *n == 0 {
                self.prefix_lens.remove(&len);
            }
        }
    }

    fn fire_ids(&mut self, ids: Vec<u32>, wakers: &mut Vec<Waker>) {
        for id in ids {
            let slot = &mut self.slots[id as usize];
            if let SlotState::Parked { waker, .. } =
                std::mem::replace(&mut slot.state, SlotState::Fired)
            {
                self.parked -= 1;
                if let Some(w) = waker {
                    wakers.push(w);
                }
            }
        }
    }

    fn fire_key(&mut self, key: &str, wakers: &mut Vec<Waker>) {
        if let Some(ids) = self.keys.remove(key) {
            self.fire_ids(ids, wakers);
        }
    }

    fn fire_prefix(&mut self, prefix: &str, wakers: &mut Vec<Waker>) {
        if let Some(ids) = self.prefixes.remove(prefix) {
            self.forget_prefix_len(prefix.len());
            self.fire_ids(ids, wakers);
        }
    }

    /// Prefix watchers whose prefix is a prefix of `s` (including `s`).
    fn fire_prefixes_of(&mut self, s: &str, wakers: &mut Vec<Waker>) {
        let lens: Vec<usize> = self
            .prefix_lens
            .range(..=s.len())
            .map(|(l, _)| *l)
            .collect();
        for len in lens {
            if s.is_char_boundary(len) {
                self.fire_prefix(&s[..len], wakers);
            }
        }
    }

    /// A deleted tree `p`: keys under it, prefixes under it, prefixes above it.
    fn fire_tree(&mut self, p: &str, wakers: &mut Vec<Waker>) {
        let keys: Vec<Arc<str>> = self
            .keys
            .range::<str, _>((Bound::Included(p), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(p))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.fire_key(&k, wakers);
        }
        let below: Vec<Arc<str>> = self
            .prefixes
            .range::<str, _>((Bound::Included(p), Bound::Unbounded))
            .take_while(|(q, _)| q.starts_with(p))
            .map(|(q, _)| q.clone())
            .collect();
        for q in below {
            self.fire_prefix(&q, wakers);
        }
        self.fire_prefixes_of(p, wakers);
    }

    fn fire_everything(&mut self, wakers: &mut Vec<Waker>) {
        let keys = std::mem::take(&mut self.keys);
        let prefixes = std::mem::take(&mut self.prefixes);
        let topics = std::mem::take(&mut self.topics);
        self.prefix_lens.clear();
        let all = std::mem::take(&mut self.all);
        for ids in keys
            .into_values()
            .chain(prefixes.into_values())
            .chain(topics.into_values())
        {
            self.fire_ids(ids, wakers);
        }
        self.fire_ids(all, wakers);
    }

    fn release(&mut self, id: u32, gen: u32) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        if slot.gen != gen {
            return;
        }
        let state = std::mem::replace(&mut slot.state, SlotState::Free);
        slot.gen = slot.gen.wrapping_add(1);
        if let SlotState::Parked { target, pos, .. } = state {
            self.parked -= 1;
            self.bucket_remove(&target, pos);
        }
        self.free.push(id);
    }
}

impl WatchHandle {
    /// Whether a change already fired this watcher (or its registry is gone).
    pub fn is_fired(&self) -> bool {
        let Some(reg) = self.registry.upgrade() else {
            return true;
        };
        let inner = reg.borrow();
        match inner.slots.get(self.id as usize) {
            Some(slot) if slot.gen == self.gen => matches!(slot.state, SlotState::Fired),
            _ => true,
        }
    }
}

impl Future for WatchHandle {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A registry that is gone can never fire: resolve rather than hang.
        let Some(reg) = self.registry.upgrade() else {
            return Poll::Ready(());
        };
        let mut inner = reg.borrow_mut();
        let Some(slot) = inner.slots.get_mut(self.id as usize) else {
            return Poll::Ready(());
        };
        if slot.gen != self.gen {
            return Poll::Ready(());
        }
        match &mut slot.state {
            SlotState::Parked { waker, .. } => {
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            SlotState::Fired | SlotState::Free => Poll::Ready(()),
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        if let Some(reg) = self.registry.upgrade() {
            // try_borrow_mut: a handle dropped from inside a waker while
            // notify holds the borrow cannot happen (wakers run after the
            // borrow ends), but never panic in drop.
            if let Ok(mut inner) = reg.try_borrow_mut() {
                inner.release(self.id, self.gen);
            }
        }
    }
}
