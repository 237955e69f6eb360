//! Watch registry: exactly the right watchers wake; handles clean up.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::{ChangeSet, WatchHandle, WatchRegistry, WatchTarget};

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn poll(h: &mut WatchHandle, w: &Waker) -> Poll<()> {
    Pin::new(h).poll(&mut Context::from_waker(w))
}

fn key(k: &str) -> WatchTarget {
    WatchTarget::Key(Arc::from(k))
}

fn prefix(p: &str) -> WatchTarget {
    WatchTarget::Prefix(Arc::from(p))
}

fn keys(ks: &[&str]) -> ChangeSet {
    ChangeSet {
        index: 1,
        keys: ks.iter().map(|k| Arc::from(*k)).collect(),
        ..Default::default()
    }
}

fn tree(p: &str) -> ChangeSet {
    ChangeSet {
        index: 1,
        prefixes: vec![Arc::from(p)],
        ..Default::default()
    }
}

/// Register one watcher per target, notify once, report which fired.
fn fired_by(targets: &[WatchTarget], changes: &ChangeSet) -> Vec<bool> {
    let reg = WatchRegistry::new();
    let handles: Vec<WatchHandle> = targets.iter().cloned().map(|t| reg.register(t)).collect();
    let n = reg.notify(changes);
    let fired: Vec<bool> = handles.iter().map(WatchHandle::is_fired).collect();
    assert_eq!(n, fired.iter().filter(|f| **f).count());
    fired
}

#[test]
fn key_change_wakes_its_key_and_covering_prefixes_only() {
    let targets = [
        key("a/b"),
        key("a/c"),
        prefix("a/"),
        prefix("a"),
        prefix(""),
        prefix("a/b/"),
        prefix("b"),
        WatchTarget::All,
    ];
    assert_eq!(
        fired_by(&targets, &keys(&["a/b"])),
        vec![true, false, true, true, true, false, false, true]
    );
}

#[test]
fn delete_tree_wakes_keys_under_it_and_overlapping_prefixes() {
    let targets = [
        key("a/x"),     // under P
        key("a/"),      // the prefix itself as a key
        key("ab"),      // starts with "a" but not "a/"
        prefix("a/b/"), // Q under P
        prefix("a"),    // P under Q
        prefix(""),     // everything
        prefix("b/"),   // disjoint
        key("b"),
        WatchTarget::All,
    ];
    assert_eq!(
        fired_by(&targets, &tree("a/")),
        vec![true, true, false, true, true, true, false, false, true]
    );
}

#[test]
fn empty_change_set_wakes_nobody_and_reset_wakes_everybody() {
    let targets = [key("a"), prefix("b"), WatchTarget::All];
    assert_eq!(
        fired_by(&targets, &ChangeSet::default()),
        vec![false, false, false]
    );
    let reset = ChangeSet {
        reset: true,
        ..Default::default()
    };
    assert_eq!(fired_by(&targets, &reset), vec![true, true, true]);
}

#[test]
fn multibyte_keys_do_not_split_characters() {
    let targets = [prefix("é"), prefix("\u{e9}x"), key("éx")];
    // "é" is two bytes: a one-byte prefix length must not be tried.
    let reg = WatchRegistry::new();
    let _short = reg.register(prefix("a"));
    let handles: Vec<_> = targets.iter().cloned().map(|t| reg.register(t)).collect();
    reg.notify(&keys(&["éx"]));
    assert!(handles.iter().all(WatchHandle::is_fired));
}

#[test]
fn future_resolves_after_notify_and_wakes_its_waker_once() {
    let reg = WatchRegistry::new();
    let (count, waker) = counting();
    let mut h = reg.register(key("k"));
    assert_eq!(poll(&mut h, &waker), Poll::Pending);
    assert_eq!(poll(&mut h, &waker), Poll::Pending);
    reg.notify(&keys(&["other"]));
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    reg.notify(&keys(&["k"]));
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll(&mut h, &waker), Poll::Ready(()));
    reg.notify(&keys(&["k"]));
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "fires once");
    assert_eq!(reg.len(), 0);
}

#[test]
fn dropping_a_handle_unregisters_it() {
    let reg = WatchRegistry::new();
    let (count, waker) = counting();
    let mut a = reg.register(key("k"));
    let mut b = reg.register(key("k"));
    assert_eq!(poll(&mut a, &waker), Poll::Pending);
    assert_eq!(poll(&mut b, &waker), Poll::Pending);
    drop(a);
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.notify(&keys(&["k"])), 1);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    drop(b);
    assert!(reg.is_empty());
}

#[test]
fn registry_gone_resolves_instead_of_hanging() {
    let (_, waker) = counting();
    let mut h = {
        let reg = WatchRegistry::new();
        reg.register(key("k"))
    };
    assert_eq!(poll(&mut h, &waker), Poll::Ready(()));
}

#[test]
fn ten_thousand_watchers_wake_exactly_and_unregister_cleanly() {
    let reg = WatchRegistry::new();
    let (count, waker) = counting();
    let mut handles: Vec<WatchHandle> = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let t = match i % 4 {
            0 => key(&format!("svc/{i}")),
            1 => key("hot"),
            2 => prefix(&format!("svc/{i}/")),
            _ => prefix("cfg/"),
        };
        let mut h = reg.register(t);
        assert_eq!(poll(&mut h, &waker), Poll::Pending);
        handles.push(h);
    }
    assert_eq!(reg.len(), 10_000);
    // One specific key: only its own watcher.
    assert_eq!(reg.notify(&keys(&["svc/4"])), 1);
    assert!(handles[4].is_fired());
    // A key under one watched prefix.
    assert_eq!(reg.notify(&keys(&["svc/6/x"])), 1);
    assert!(handles[6].is_fired());
    // The hot key: its 2,500 watchers.
    assert_eq!(reg.notify(&keys(&["hot"])), 2_500);
    assert_eq!(count.0.load(Ordering::SeqCst), 2_502);
    // Drop every other handle, then fire the rest of cfg/ watchers.
    let mut kept = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        if i % 2 == 0 {
            drop(h);
        } else {
            kept.push((i, h));
        }
    }
    // Odd indexes left: i%4==1 ("hot", all fired) and i%4==3 ("cfg/", 2,500).
    assert_eq!(reg.len(), 2_500);
    assert_eq!(reg.notify(&keys(&["cfg/a"])), 2_500);
    assert!(kept.iter().all(|(_, h)| h.is_fired()));
    drop(kept);
    assert!(reg.is_empty());
    // Slots are reused: registering again does not grow without bound.
    for _ in 0..3 {
        let hs: Vec<_> = (0..10_000)
            .map(|i| reg.register(key(&format!("k{i}"))))
            .collect();
        assert_eq!(reg.len(), 10_000);
        drop(hs);
        assert!(reg.is_empty());
    }
    assert_eq!(reg.notify(&tree("")), 0, "no stale entries left behind");
}
