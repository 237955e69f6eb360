//! KV write semantics, rule by rule, against Consul's state store.

use super::support::Harness;
use crate::{ApplyResult, Command};

fn cas(h: &mut Harness, key: &str, v: &[u8], index: u64) -> ApplyResult {
    h.run(Command::KvCas {
        key: key.into(),
        value: Some(v.to_vec()),
        flags: 0,
        index,
    })
}

fn acquire(h: &mut Harness, key: &str, v: &[u8], session: &str) -> ApplyResult {
    h.run(Command::KvAcquire {
        key: key.into(),
        value: Some(v.to_vec()),
        flags: 0,
        session: session.into(),
    })
}

fn release(h: &mut Harness, key: &str, v: &[u8], session: &str) -> ApplyResult {
    h.run(Command::KvRelease {
        key: key.into(),
        value: Some(v.to_vec()),
        flags: 0,
        session: session.into(),
    })
}

#[test]
fn set_creates_with_create_and_modify_at_apply_index() {
    let mut h = Harness::new();
    assert_eq!(h.set("a", b"1"), ApplyResult::Bool(true));
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!((e.create_index, e.modify_index, e.lock_index), (1, 1, 0));
    assert_eq!(e.value.as_deref(), Some(&b"1"[..]));
    assert_eq!(e.session, None);
    assert_eq!(&*e.key, "a");
}

#[test]
fn update_keeps_create_index_and_bumps_modify_index() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.set("other", b"x");
    h.set("a", b"2");
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!((e.create_index, e.modify_index), (1, 3));
    assert_eq!(e.value_bytes(), b"2");
}

#[test]
fn identical_rewrite_does_not_bump_modify_index_or_table_index() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.set("a", b"1");
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!(e.modify_index, 1);
    assert_eq!(h.state().kv_max_index(), 1);
    assert_eq!(h.state().applied_index(), 2);
}

#[test]
fn nil_and_empty_values_count_as_equal_like_go_bytes_equal() {
    let mut h = Harness::new();
    h.run(Command::KvSet {
        key: "a".into(),
        value: None,
        flags: 0,
    });
    h.run(Command::KvSet {
        key: "a".into(),
        value: Some(vec![]),
        flags: 0,
    });
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!(e.modify_index, 1);
    assert_eq!(e.value, None, "the stored entry is untouched");
}

#[test]
fn flags_change_is_a_change() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.run(Command::KvSet {
        key: "a".into(),
        value: Some(b"1".to_vec()),
        flags: 42,
    });
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!((e.flags, e.modify_index), (42, 2));
}

#[test]
fn plain_set_keeps_lock_holder_but_resets_lock_index_like_consul() {
    // Consul's kvsSetTxn preserves Session but takes LockIndex from the
    // request, which HTTP and txn never fill in (so it becomes 0).
    let mut h = Harness::new();
    h.add_session("s1");
    assert_eq!(acquire(&mut h, "k", b"v", "s1"), ApplyResult::Bool(true));
    h.set("k", b"new");
    let e = h.state().kv_entry("k").unwrap();
    assert_eq!(e.session.as_deref(), Some("s1"));
    assert_eq!(e.lock_index, 0);
    assert_eq!(e.value_bytes(), b"new");
    assert_eq!(e.modify_index, 2);
}

#[test]
fn cas_table() {
    // (exists, current modify, cas index) -> result
    let mut h = Harness::new();
    assert_eq!(
        cas(&mut h, "a", b"1", 0),
        ApplyResult::Bool(true),
        "cas=0 creates"
    );
    assert_eq!(
        cas(&mut h, "a", b"2", 0),
        ApplyResult::Bool(false),
        "cas=0 on existing"
    );
    assert_eq!(
        cas(&mut h, "a", b"3", 99),
        ApplyResult::Bool(false),
        "cas mismatch"
    );
    assert_eq!(h.state().kv_entry("a").unwrap().value_bytes(), b"1");
    assert_eq!(
        cas(&mut h, "a", b"4", 1),
        ApplyResult::Bool(true),
        "cas match"
    );
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!(
        (e.value_bytes(), e.modify_index, e.create_index),
        (&b"4"[..], 4, 1)
    );
    assert_eq!(
        cas(&mut h, "missing", b"x", 4),
        ApplyResult::Bool(false),
        "cas=N on missing"
    );
    assert!(h.state().kv_entry("missing").is_none());
}

#[test]
fn delete_cas_table() {
    let mut h = Harness::new();
    let del_cas = |h: &mut Harness, k: &str, i: u64| {
        h.run(Command::KvDeleteCas {
            key: k.into(),
            index: i,
        })
    };
    assert_eq!(
        del_cas(&mut h, "absent", 7),
        ApplyResult::Bool(true),
        "absent is success"
    );
    assert_eq!(h.state().tombstone_count(), 0);
    h.set("a", b"1"); // index 2
    assert_eq!(
        del_cas(&mut h, "a", 1),
        ApplyResult::Bool(false),
        "mismatch"
    );
    assert!(h.state().kv_entry("a").is_some());
    assert_eq!(del_cas(&mut h, "a", 2), ApplyResult::Bool(true), "match");
    assert!(h.state().kv_entry("a").is_none());
    assert_eq!(h.state().tombstone_index("a"), Some(4));
}

#[test]
fn delete_leaves_tombstone_and_absent_delete_changes_nothing() {
    let mut h = Harness::new();
    h.set("a", b"1");
    assert_eq!(h.delete("a"), ApplyResult::Bool(true));
    assert_eq!(h.state().tombstone_index("a"), Some(2));
    assert_eq!(h.state().kv_max_index(), 2);
    assert_eq!(h.delete("a"), ApplyResult::Bool(true));
    assert_eq!(h.state().tombstone_index("a"), Some(2), "no new tombstone");
    assert_eq!(h.state().kv_max_index(), 2, "no index bump");
}

#[test]
fn delete_tree_is_a_plain_string_prefix_with_one_tombstone() {
    let mut h = Harness::new();
    for k in ["a/1", "a/2/x", "ab", "b"] {
        h.set(k, b"v");
    }
    h.run(Command::KvDeleteTree {
        prefix: "a/".into(),
    });
    let keys: Vec<String> = h.state().kv_keys("", None).0;
    assert_eq!(keys, vec!["ab", "b"]);
    assert_eq!(h.state().tombstone_index("a/"), Some(5));
    assert_eq!(
        h.state().tombstone_index("a/1"),
        None,
        "one stone for the prefix only"
    );
    h.run(Command::KvDeleteTree { prefix: "a".into() });
    assert_eq!(h.state().kv_keys("", None).0, vec!["b"]);
}

#[test]
fn delete_tree_of_nothing_changes_nothing_and_empty_prefix_leaves_no_tombstone() {
    let mut h = Harness::new();
    h.set("k", b"v");
    h.run(Command::KvDeleteTree {
        prefix: "zzz".into(),
    });
    assert_eq!(h.state().kv_max_index(), 1);
    assert_eq!(h.state().tombstone_count(), 0);
    h.run(Command::KvDeleteTree { prefix: "".into() });
    assert_eq!(h.state().kv_len(), 0);
    assert_eq!(h.state().tombstone_count(), 0);
    assert_eq!(h.state().kv_max_index(), 3);
}

#[test]
fn acquire_needs_a_session_that_exists() {
    let mut h = Harness::new();
    assert_eq!(
        acquire(&mut h, "k", b"v", ""),
        ApplyResult::Error("missing session".into())
    );
    let id = "7f0d3c1e-0000-4000-8000-000000000001";
    assert_eq!(
        acquire(&mut h, "k", b"v", id),
        ApplyResult::Error(format!("invalid session \"{id}\""))
    );
    assert!(h.state().kv_entry("k").is_none());
    assert_eq!(
        release(&mut h, "k", b"v", ""),
        ApplyResult::Error("missing session".into())
    );
}

#[test]
fn lock_index_and_holder_through_acquire_and_release() {
    let mut h = Harness::new();
    h.add_session("s1");
    h.add_session("s2");
    assert_eq!(acquire(&mut h, "k", b"v1", "s1"), ApplyResult::Bool(true));
    let e = h.state().kv_entry("k").unwrap();
    assert_eq!(
        (
            e.lock_index,
            e.session.as_deref(),
            e.create_index,
            e.modify_index
        ),
        (1, Some("s1"), 1, 1)
    );

    // Re-acquire by the holder: LockIndex kept, value updated.
    assert_eq!(acquire(&mut h, "k", b"v2", "s1"), ApplyResult::Bool(true));
    let e = h.state().kv_entry("k").unwrap();
    assert_eq!(
        (e.lock_index, e.modify_index, e.value_bytes()),
        (1, 2, &b"v2"[..])
    );

    // Re-acquire with identical content: no modify bump.
    assert_eq!(acquire(&mut h, "k", b"v2", "s1"), ApplyResult::Bool(true));
    assert_eq!(h.state().kv_entry("k").unwrap().modify_index, 2);

    // Someone else holds it.
    assert_eq!(acquire(&mut h, "k", b"x", "s2"), ApplyResult::Bool(false));
    assert_eq!(release(&mut h, "k", b"x", "s2"), ApplyResult::Bool(false));
    assert_eq!(
        h.state().kv_entry("k").unwrap().session.as_deref(),
        Some("s1")
    );

    // Release by the holder: session cleared, LockIndex kept, value written.
    assert_eq!(release(&mut h, "k", b"r", "s1"), ApplyResult::Bool(true));
    let e = h.state().kv_entry("k").unwrap();
    assert_eq!(
        (
            e.lock_index,
            e.session.as_deref(),
            e.value_bytes(),
            e.modify_index
        ),
        (1, None, &b"r"[..], 6)
    );

    // Releasing again (not held) fails; a new session's acquire increments.
    assert_eq!(release(&mut h, "k", b"r", "s1"), ApplyResult::Bool(false));
    assert_eq!(acquire(&mut h, "k", b"v3", "s2"), ApplyResult::Bool(true));
    let e = h.state().kv_entry("k").unwrap();
    assert_eq!(
        (e.lock_index, e.session.as_deref(), e.create_index),
        (2, Some("s2"), 1)
    );
}

#[test]
fn acquire_on_existing_unlocked_key_increments_its_lock_index() {
    let mut h = Harness::new();
    h.add_session("s1");
    h.set("k", b"plain");
    assert_eq!(acquire(&mut h, "k", b"v", "s1"), ApplyResult::Bool(true));
    assert_eq!(h.state().kv_entry("k").unwrap().lock_index, 1);
    assert_eq!(h.state().kv_entry("k").unwrap().create_index, 1);
}

#[test]
fn release_of_missing_key_is_false() {
    let mut h = Harness::new();
    assert_eq!(release(&mut h, "nope", b"", "s1"), ApplyResult::Bool(false));
}

#[test]
fn reap_drops_old_tombstones_but_never_lowers_the_index() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.set("b", b"1");
    h.delete("a"); // 3
    h.delete("b"); // 4
    h.run(Command::ReapTombstones { upto: 3 });
    assert_eq!(h.state().tombstone_index("a"), None);
    assert_eq!(h.state().tombstone_index("b"), Some(4));
    h.run(Command::ReapTombstones { upto: 100 });
    assert_eq!(h.state().tombstone_count(), 0);
    assert_eq!(h.state().kv_max_index(), 4);
    assert_eq!(h.state().kv_get("a").1, 4);
}

#[test]
fn recreated_key_keeps_its_old_tombstone_until_reaped() {
    // Consul does not remove a tombstone when the key comes back.
    let mut h = Harness::new();
    h.set("a", b"1");
    h.delete("a");
    h.set("a", b"2");
    let e = h.state().kv_entry("a").unwrap();
    assert_eq!((e.create_index, e.modify_index), (3, 3));
    assert_eq!(h.state().tombstone_index("a"), Some(2));
}
