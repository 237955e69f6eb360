//! X-Consul-Index rules for get / list / keys (Consul's KVS.Get, KVS.List,
//! KVS.ListKeys over kvsGetTxn / kvsListTxn).

use super::support::Harness;
use crate::{Command, StateSnapshot};

#[test]
fn empty_store_answers_index_one_never_zero() {
    let s = StateSnapshot::new();
    assert_eq!(s.kv_get("x"), (None, 1));
    assert_eq!(s.kv_list("").1, 1);
    assert_eq!(s.kv_list("p/").1, 1);
    assert_eq!(s.kv_keys("", Some("/")), (vec![], 1));
    assert_eq!(s.kv_list_index("p/"), 1);
    assert_eq!(s.kv_get_index("x"), 1);
}

#[test]
fn get_present_key_answers_its_modify_index() {
    let mut h = Harness::new();
    h.set("a", b"1"); // 1
    h.set("b", b"1"); // 2
    let (e, idx) = h.state().kv_get("a");
    assert_eq!(e.unwrap().modify_index, 1);
    assert_eq!(
        idx, 1,
        "the key's own index, not the table's (Patroni relies on it)"
    );
}

#[test]
fn get_absent_key_answers_table_max_including_tombstones() {
    let mut h = Harness::new();
    h.set("a", b"1"); // 1
    h.set("b", b"1"); // 2
    h.delete("b"); // 3
    assert_eq!(h.state().kv_get("zzz"), (None, 3));
    assert_eq!(h.state().kv_get("b"), (None, 3));
}

#[test]
fn list_answers_max_under_prefix_not_table_index() {
    let mut h = Harness::new();
    h.set("p/a", b"1"); // 1
    h.set("p/b", b"1"); // 2
    h.set("q/a", b"1"); // 3
    let (entries, idx) = h.state().kv_list("p/");
    assert_eq!(entries.len(), 2);
    assert_eq!(idx, 2);
    assert_eq!(h.state().kv_list_index("p/"), 2);
    // Empty prefix: always the full table index.
    assert_eq!(h.state().kv_list("").1, 3);
}

#[test]
fn list_of_empty_prefix_without_tombstones_uses_table_index() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.set("b", b"1");
    assert_eq!(h.state().kv_list("nothing/"), (vec![], 2));
}

#[test]
fn deletes_never_move_a_prefix_index_backwards() {
    let mut h = Harness::new();
    h.set("p/a", b"1"); // 1
    h.set("p/b", b"1"); // 2
    h.set("q", b"1"); // 3
    h.delete("p/b"); // 4
    assert_eq!(h.state().kv_list("p/").1, 4, "tombstone index counts");
    h.delete("p/a"); // 5
    let (entries, idx) = h.state().kv_list("p/");
    assert!(entries.is_empty());
    assert_eq!(idx, 5);
    h.set("q", b"2"); // 6: unrelated change
    assert_eq!(
        h.state().kv_list("p/").1,
        5,
        "tombstones under the prefix decide"
    );
}

#[test]
fn delete_tree_tombstone_covers_its_prefix_and_the_table_covers_the_rest() {
    let mut h = Harness::new();
    h.set("p/x/1", b"1"); // 1
    h.set("p/y", b"1"); // 2
    h.set("z", b"1"); // 3
    h.run(Command::KvDeleteTree {
        prefix: "p/".into(),
    }); // 4
    assert_eq!(h.state().kv_list("p/").1, 4);
    assert_eq!(
        h.state().kv_list("p").1,
        4,
        "stone key \"p/\" starts with \"p\""
    );
    // "p/x/" sees no entries and no stone under it: falls back to the table.
    assert_eq!(h.state().kv_list("p/x/").1, 4);
    h.set("z", b"2"); // 5
    assert_eq!(h.state().kv_list("p/x/").1, 5);
}

#[test]
fn keys_fold_at_first_separator_after_prefix() {
    let mut h = Harness::new();
    for k in ["a/b", "a/c/d", "a/c/e", "a0", "b"] {
        h.set(k, b"");
    }
    let s = h.state();
    assert_eq!(s.kv_keys("", Some("/")).0, vec!["a/", "a0", "b"]);
    assert_eq!(s.kv_keys("a/", Some("/")).0, vec!["a/b", "a/c/"]);
    assert_eq!(s.kv_keys("a/c", Some("/")).0, vec!["a/c/"]);
    assert_eq!(s.kv_keys("a", None).0, vec!["a/b", "a/c/d", "a/c/e", "a0"]);
    assert_eq!(
        s.kv_keys("a", Some("")).0,
        vec!["a/b", "a/c/d", "a/c/e", "a0"]
    );
    assert_eq!(s.kv_keys("zz", Some("/")).0, Vec::<String>::new());
}

#[test]
fn keys_with_multi_char_separator_and_index() {
    let mut h = Harness::new();
    for k in ["x::a::1", "x::a::2", "x::b", "y"] {
        h.set(k, b"");
    }
    let (keys, idx) = h.state().kv_keys("x::", Some("::"));
    assert_eq!(keys, vec!["x::a::", "x::b"]);
    assert_eq!(idx, 3, "max modify under the prefix, omitted keys counted");
}

#[test]
fn index_after_snapshot_publish_matches_working_copy() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.applier.publish();
    let published = h.applier.store().load();
    assert_eq!(published.kv_get("a").1, h.state().kv_get("a").1);
}
