//! Store / Applier publishing and change sets.

use std::sync::Arc;

use super::support::Harness;
use crate::{decode_snapshot, encode_snapshot, ApplyResult, Command};

#[test]
fn readers_see_nothing_until_publish_then_everything() {
    let mut h = Harness::new();
    let store = h.applier.store().clone();
    h.set("a", b"1");
    h.set("b", b"2");
    assert!(store.load().kv_entry("a").is_none());
    assert!(h.applier.has_unpublished());
    let cs = h.applier.publish();
    assert_eq!(cs.index, 2);
    assert_eq!(cs.keys, vec![Arc::<str>::from("a"), Arc::<str>::from("b")]);
    assert!(!cs.reset);
    assert_eq!(store.load().kv_entry("b").unwrap().value_bytes(), b"2");
    assert_eq!(store.load().applied_index(), 2);
    assert!(!h.applier.has_unpublished());
}

#[test]
fn a_held_snapshot_is_unaffected_by_later_writes() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.applier.publish();
    let old = h.applier.store().load();
    h.set("a", b"2");
    h.delete("a");
    h.applier.publish();
    assert_eq!(old.kv_entry("a").unwrap().value_bytes(), b"1");
    assert!(h.applier.store().load().kv_entry("a").is_none());
}

#[test]
fn change_set_dedups_keys_and_reports_tombstone_hints() {
    let mut h = Harness::new();
    h.set("b", b"1"); // 1
    h.set("a", b"1"); // 2
    h.set("b", b"2"); // 3
    h.delete("a"); // 4
    h.set("p/x", b"1"); // 5
    h.run(Command::KvDeleteTree {
        prefix: "p/".into(),
    }); // 6
    let cs = h.applier.publish();
    assert_eq!(
        cs.keys,
        vec![
            Arc::<str>::from("a"),
            Arc::<str>::from("b"),
            Arc::<str>::from("p/x")
        ]
    );
    assert_eq!(cs.prefixes, vec![Arc::<str>::from("p/")]);
    assert_eq!(cs.tombstone_indexes, vec![4, 6]);
    let cs = h.applier.publish();
    assert!(
        cs.is_empty() && cs.tombstone_indexes.is_empty(),
        "nothing new: {cs:?}"
    );
}

#[test]
fn noop_entries_only_advance_the_applied_index() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.applier.apply_noop(5);
    assert_eq!(h.state().applied_index(), 5);
    assert_eq!(h.state().kv_max_index(), 1);
    let cs = h.applier.publish();
    assert_eq!(cs.index, 5);
}

#[test]
fn stale_or_replayed_indexes_are_refused_without_changes() {
    let mut h = Harness::new();
    h.set("a", b"1");
    let bytes = crate::encode_command(&Command::KvSet {
        key: "a".into(),
        value: Some(b"2".to_vec()),
        flags: 0,
    });
    assert!(matches!(h.applier.apply(1, &bytes), ApplyResult::Error(_)));
    assert_eq!(h.state().kv_entry("a").unwrap().value_bytes(), b"1");
}

#[test]
fn undecodable_entry_consumes_its_index_and_changes_nothing() {
    let mut h = Harness::new();
    h.set("a", b"1");
    let r = h.applier.apply(2, b"definitely not an archive");
    assert!(
        matches!(r, ApplyResult::Error(ref e) if e.contains("decode")),
        "{r:?}"
    );
    assert_eq!(h.state().applied_index(), 2);
    assert_eq!(h.state().kv_len(), 1);
}

#[test]
fn apply_accepts_unaligned_bytes() {
    let mut h = Harness::new();
    let bytes = crate::encode_command(&Command::KvSet {
        key: "k".into(),
        value: Some(b"v".to_vec()),
        flags: 3,
    });
    for offset in 1..16 {
        let mut buf = vec![0u8; offset];
        buf.extend_from_slice(&bytes);
        let idx = h.at();
        h.next += 1;
        assert_eq!(
            h.applier.apply(idx, &buf[offset..]),
            ApplyResult::Bool(true)
        );
    }
    assert_eq!(h.state().kv_entry("k").unwrap().flags, 3);
}

#[test]
fn restore_replaces_state_and_resets_watchers() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.applier.publish();
    let saved = decode_snapshot(&encode_snapshot(h.state())).unwrap();
    h.set("b", b"2");
    h.applier.restore(saved);
    let cs = h.applier.publish();
    assert!(cs.reset);
    assert!(h.applier.store().load().kv_entry("b").is_none());
    assert_eq!(h.applier.store().load().applied_index(), 1);
}

#[test]
fn with_reads_the_latest_published_snapshot() {
    let mut h = Harness::new();
    let store = h.applier.store().clone();
    assert_eq!(store.with(|s| s.kv_len()), 0);
    h.set("a", b"1");
    h.applier.publish();
    assert_eq!(store.with(|s| s.kv_get("a").1), 1);
    let reader = std::thread::spawn(move || {
        store.with(|s| s.kv_entry("a").map(|e| e.value_bytes().to_vec()))
    });
    assert_eq!(reader.join().unwrap(), Some(b"1".to_vec()));
}
